"""The threaded GEMM and convolution algorithms: the same answer at 1, 2 and
3 threads (a real pool; 3 threads on 2 cores is fine).

Every algorithm here is REPRODUCIBLE and splits over outputs only (never a
reduction), so its result at N threads must be bit-identical to the one at 1
thread; each is also checked against NAIVE with the tolerances of
test_kernels_conv.py. Shapes are awkward (odd M/N/K, one row, batch > 1,
groups, strides, pads) and most are big enough that the work really splits:
net._core.dispatches (parallel_for calls that fanned out) must grow. The
file reruns at every other ISA level of the CPU (the portable SGEMM packs B
in a format that splits by rows only).
"""
import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

import loadrun
from loadrun import _core, zoo
from isa_levels import other_isa_levels_test
from onnx_ref import assert_close_elementwise, make_model

rng = np.random.default_rng(11)
RTOL = {"WINOGRAD_F63": 3e-4, "WINOGRAD_F43": 1e-4}
ATOL = {"WINOGRAD_F63": 3e-3, "WINOGRAD_F43": 1e-3}
THREADS = (2, 3)
# The portable SGEMM's packed B is one k x n block: it splits by rows only,
# so a one-row product with a packed B stays on one thread there.
PACKED_B_SPLITS_COLUMNS = _core.sgemm_impl_name() != "portable"


def r(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def run(model, feeds, threads=1, **kw):
    """(outputs, steps, dispatches of one run) of model at `threads`."""
    net = loadrun.load(model, threads=threads, **kw)
    assert net._core.num_threads == threads
    net.run(feeds)  # the first run may fold constants; count a steady run
    before = net._core.dispatches
    out = net.run(feeds)
    return out, net.steps(), net._core.dispatches - before


def check_threads(model, feeds, algo, op_type, split=True, **kw):
    """algo at 1, 2, 3 threads: bit-identical to each other, close to NAIVE;
    split: the run at 2 and 3 threads fanned out."""
    ref, _, _ = run(model, feeds, algo="NAIVE")
    one, steps, d1 = run(model, feeds, algo=algo, **kw)
    assert [s[1] for s in steps if s[0].endswith("{%s}" % op_type)] == [algo]
    assert d1 == 0
    for name in ref:
        assert_close_elementwise(one[name], ref[name], RTOL.get(algo, 1e-5), ATOL.get(algo, 1e-4), algo)
    for t in THREADS:
        got, steps_t, d = run(model, feeds, threads=t, algo=algo, **kw)
        assert [s[1] for s in steps_t] == [s[1] for s in steps]
        for name in ref:
            np.testing.assert_array_equal(got[name], one[name], err_msg=f"{algo} at {t} threads")
        if split:
            assert d > 0, f"{algo} at {t} threads did not split"


# -- convolutions --------------------------------------------------------------

def conv_model(xs, w, b, residual=None, relu=False, **attrs):
    inits = [("w", w), ("b", b)]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", **attrs)]
    prev = "c"
    inputs = [("x", np.float32, list(xs))]
    if residual:  # Conv + Add (+ Relu): the fused residual epilogue
        nodes.append(helper.make_node("Add", [prev, "res"], ["a"], name="add"))
        prev = "a"
    if relu:
        nodes.append(helper.make_node("Relu", [prev], ["r"], name="relu"))
        prev = "r"
    nodes[-1].output[0] = "y"
    return make_model(nodes, inputs + ([("res", np.float32, list(residual))] if residual else []),
                      [("y", np.float32, None)], inits)


# (algo, x shape, w shape, attrs, split): split False for shapes too small to
# fan out (they must still give the same bits).
CONV_CASES = [
    ("CONV1x1_GEMM", (1, 37, 29, 31), (45, 37, 1, 1), {}, True),  # one task: the GEMM splits N
    ("CONV1x1_GEMM", (1, 67, 9, 11), (131, 67, 1, 1), {}, True),  # small plane: transposed GEMM
    ("CONV1x1_GEMM", (2, 65, 15, 17), (70, 65, 1, 1), dict(strides=[2, 2], pads=[1, 0, 0, 1]), True),
    ("CONV1x1_GEMM", (3, 40, 20, 21), (42, 20, 1, 1), dict(group=2), True),  # 6 tasks over threads
    ("CONV1x1_GEMM", (1, 5, 7, 9), (6, 5, 1, 1), {}, False),
    ("IM2COL_GEMM", (1, 19, 41, 37), (35, 19, 3, 3), dict(pads=[1, 2, 0, 1]), True),
    ("IM2COL_GEMM", (2, 9, 40, 40), (13, 9, 5, 3), dict(strides=[2, 1], pads=[2, 1, 2, 1], dilations=[1, 2]), True),
    ("IM2COL_GEMM", (1, 16, 45, 43), (20, 8, 3, 3), dict(group=2, pads=[1, 1, 1, 1]), True),  # 4 tasks
    ("IM2COL_GEMM", (1, 64, 7, 7), (77, 64, 3, 3), dict(pads=[1, 1, 1, 1]), True),  # one small task
    ("IM2COL_GEMM", (1, 3, 113, 97), (17, 3, 7, 7), dict(strides=[2, 2], pads=[3, 3, 3, 3]), True),
    ("IM2COL_GEMM", (1, 4, 1, 1), (3, 4, 3, 3), dict(pads=[1, 1, 1, 1]), False),
    ("WINOGRAD_F63", (1, 19, 30, 31), (21, 19, 3, 3), dict(pads=[1, 0, 2, 1]), True),
    ("WINOGRAD_F63", (2, 33, 40, 39), (35, 33, 3, 3), dict(pads=[1, 1, 1, 1]), True),
    ("WINOGRAD_F63", (1, 8, 7, 6), (6, 4, 3, 3), dict(group=2), False),
    ("WINOGRAD_F63", (4, 64, 40, 39), (64, 64, 3, 3), dict(pads=[1, 1, 1, 1]), True),  # 8 uneven bands
    ("WINOGRAD_F43", (1, 45, 30, 26), (47, 45, 3, 3), dict(pads=[1, 1, 1, 1]), True),
    ("WINOGRAD_F43", (1, 120, 45, 20), (120, 120, 3, 3), dict(pads=[1, 1, 1, 1]), True),  # 2 even bands
    ("WINOGRAD_F43", (2, 5, 9, 13), (6, 5, 3, 3), dict(pads=[1, 1, 1, 1]), False),
    ("DEPTHWISE_DIRECT", (2, 37, 29, 31), (37, 1, 3, 3), dict(group=37, pads=[1, 1, 1, 1]), True),
    ("DEPTHWISE_DIRECT", (1, 33, 40, 41), (33, 1, 5, 5), dict(group=33, strides=[2, 2], pads=[2, 1, 2, 2]), True),
    ("DEPTHWISE_DIRECT", (1, 3, 9, 13), (3, 1, 3, 3), dict(group=3, strides=[2, 2], pads=[0, 1, 1, 0]), False),
    ("DIRECT_SMALL_IC", (1, 3, 113, 97), (37, 3, 7, 7), dict(strides=[2, 2], pads=[3, 3, 3, 3]), True),
    ("DIRECT_SMALL_IC", (2, 3, 61, 59), (32, 3, 3, 3), dict(strides=[2, 2], pads=[0, 1, 1, 0]), True),
    ("DIRECT_SMALL_IC", (1, 1, 5, 40), (7, 1, 5, 3), dict(pads=[2, 1, 2, 1]), False),
]


@pytest.mark.parametrize("preprocess", [False, True])
@pytest.mark.parametrize("algo,xs,ws,attrs,split", CONV_CASES)
def test_conv_threads(algo, xs, ws, attrs, split, preprocess):
    x, w, b = r(*xs), r(*ws), r(ws[0])
    check_threads(conv_model(xs, w, b, **attrs), {"x": x}, algo, "Conv", split,
                  weight_preprocess=preprocess)


@pytest.mark.parametrize("algo,xs,ws,attrs", [
    ("CONV1x1_GEMM", (1, 37, 29, 31), (45, 37, 1, 1), {}),
    ("CONV1x1_GEMM", (1, 67, 9, 11), (131, 67, 1, 1), {}),
    ("IM2COL_GEMM", (1, 19, 41, 37), (35, 19, 3, 3), dict(pads=[1, 1, 1, 1])),
    ("WINOGRAD_F63", (1, 19, 30, 31), (21, 19, 3, 3), dict(pads=[1, 1, 1, 1])),
    ("DEPTHWISE_DIRECT", (2, 37, 29, 31), (37, 1, 3, 3), dict(group=37, pads=[1, 1, 1, 1])),
    ("DIRECT_SMALL_IC", (1, 3, 113, 97), (37, 3, 7, 7), dict(strides=[2, 2], pads=[3, 3, 3, 3])),
])
def test_conv_residual_relu_threads(algo, xs, ws, attrs):
    """The fused Add + Relu epilogue of a split conv reads its own slice."""
    x, w, b = r(*xs), r(*ws), r(ws[0])
    y = loadrun.load(conv_model(xs, w, b, **attrs), algo="NAIVE").run({"x": x})["y"]
    m = conv_model(xs, w, b, residual=y.shape, relu=True, **attrs)
    check_threads(m, {"x": x, "res": r(*y.shape)}, algo, "Conv", weight_preprocess=True)


@pytest.mark.parametrize("xs,ws,attrs,split", [
    ((1, 33, 13, 11), (33, 20, 3, 3), dict(strides=[2, 2], pads=[1, 1, 1, 1]), True),
    ((2, 32, 17, 15), (32, 9, 4, 4), dict(strides=[2, 2], pads=[1, 1, 1, 1], group=2), True),
    ((1, 3, 5, 4), (3, 2, 3, 3), {}, False),
])
def test_conv_transpose_threads(xs, ws, attrs, split):
    x, w, b = r(*xs), r(*ws), r(ws[1] * attrs.get("group", 1))
    node = helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], **attrs)
    m = make_model([node], [("x", np.float32, list(xs))], [("y", np.float32, None)], [("w", w), ("b", b)])
    check_threads(m, {"x": x}, "DECONV_GEMM", "ConvTranspose", split)


# -- MatMul and Gemm -----------------------------------------------------------

def matmul_model(a_shape, b_shape, b_const=None):
    inputs = [("a", np.float32, list(a_shape))]
    inits = []
    if b_const is None:
        inputs.append(("b", np.float32, list(b_shape)))
    else:
        inits.append(("b", b_const))
    node = helper.make_node("MatMul", ["a", "b"], ["y"])
    return make_model([node], inputs, [("y", np.float32, None)], inits)


MATMUL_CASES = [  # (a shape, b shape, split)
    ((67, 131), (131, 45), True),
    ((45, 131), (131, 67), True),
    ((1, 517), (517, 1031), True),  # GEMV, B k x n
    ((1031, 517), (517, 1), True),  # GEMV, one column
    ((3, 1, 77, 65), (65, 193), True),  # batches fold into one product
    ((4, 45, 133), (4, 133, 67), True),  # 4 products: over 2 threads, or each split over 3
    ((3, 61, 67), (3, 67, 71), True),  # 3 products: each GEMM splits
    ((2, 1, 7, 9), (3, 9, 5), False),  # broadcast batches, tiny
    ((5, 7), (7, 2), False),
    ((37, 517), (517, 301), True),  # B big enough that its packing splits too
]


@pytest.mark.parametrize("const_b", [False, True])
@pytest.mark.parametrize("a_shape,b_shape,split", MATMUL_CASES)
def test_matmul_threads(a_shape, b_shape, split, const_b):
    a, b = r(*a_shape), r(*b_shape)
    feeds = {"a": a} if const_b else {"a": a, "b": b}
    m = matmul_model(a_shape, b_shape, b if const_b else None)
    if const_b and a_shape[-2] == 1 and not PACKED_B_SPLITS_COLUMNS:
        split = False
    check_threads(m, feeds, "SGEMM", "MatMul", split, weight_preprocess=const_b)


@pytest.mark.parametrize("m,n,k,trans,c_kind", [
    (67, 45, 131, (0, 0), "row"),
    (45, 67, 131, (1, 1), "col"),
    (131, 45, 67, (1, 0), "full"),
    (1, 1031, 517, (0, 1), "row"),  # GEMV
    (1031, 1, 517, (0, 0), "col"),  # GEMV, one column
    (97, 101, 89, (0, 1), None),
    (37, 301, 517, (0, 1), "row"),  # B's packing splits too
])
@pytest.mark.parametrize("const_b", [False, True])
def test_gemm_threads(m, n, k, trans, c_kind, const_b):
    ta, tb = trans
    a = r(*((k, m) if ta else (m, k)))
    b = r(*((n, k) if tb else (k, n)))
    inits = [("b", b)] if const_b else []
    inputs = [("a", np.float32, list(a.shape))] + ([] if const_b else [("b", np.float32, list(b.shape))])
    ins = ["a", "b"]
    if c_kind:
        c = {"row": r(n), "col": r(m, 1), "full": r(m, n)}[c_kind]
        inits.append(("c", c))
        ins.append("c")
    node = helper.make_node("Gemm", ins, ["y"], transA=ta, transB=tb, alpha=0.75,
                            beta=1.0 if c_kind != "full" else 0.5)
    model = make_model([node], inputs, [("y", np.float32, None)], inits)
    feeds = {"a": a} if const_b else {"a": a, "b": b}
    split = not (const_b and m == 1 and not PACKED_B_SPLITS_COLUMNS)
    check_threads(model, feeds, "SGEMM", "Gemm", split, weight_preprocess=const_b)


# -- zoo models ----------------------------------------------------------------

def zoo_feeds(model):
    feeds = {}
    inits = {i.name for i in model.graph.initializer}
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        shape = [d.dim_value if d.dim_value > 0 else 1 for d in vi.type.tensor_type.shape.dim]
        et = vi.type.tensor_type.elem_type
        if et == onnx.TensorProto.FLOAT:
            feeds[vi.name] = r(*shape)
        else:
            dt = helper.tensor_dtype_to_np_dtype(et)
            feeds[vi.name] = rng.integers(0, 2 if "mask" in vi.name else 100, shape).astype(dt)
    return feeds


@pytest.mark.parametrize("name", ["resnet18", "mobilenetv2", "bert_tiny"])
def test_zoo_one_and_two_threads(name):
    """The default plan at 1 and 2 threads: every conv and GEMM algorithm
    gives the same bits; the other ops may split reductions, so the outputs
    are compared at a tight relative tolerance."""
    model = zoo.build(name)
    feeds = zoo_feeds(model)
    one = loadrun.load(model, weight_preprocess=True).run(feeds)
    two = loadrun.load(model, weight_preprocess=True, threads=2).run(feeds)
    for k in one:
        assert_close_elementwise(two[k], one[k], 1e-5, 1e-5, f"{name}:{k}")


def node_models(model, op_types):
    """(name, single-node model, feeds) for every node of op_types in model,
    on the input shape shape inference gives it."""
    model = onnx.shape_inference.infer_shapes(model)
    shapes = {vi.name: [max(d.dim_value, 1) for d in vi.type.tensor_type.shape.dim]
              for vi in list(model.graph.value_info) + list(model.graph.input)}
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type not in op_types:
            continue
        x = node.input[0]
        ins = [(n, inits[n]) for n in node.input[1:] if n]
        sub = helper.make_node(node.op_type, ["x"] + [n for n, _ in ins], ["y"], name=node.name)
        sub.attribute.extend(node.attribute)
        m = make_model([sub], [("x", np.float32, shapes[x])], [("y", np.float32, None)], ins)
        yield node.name, m, {"x": r(*shapes[x])}


def test_resnet18_every_conv_and_gemm_splits():
    """At 2 threads, each conv and Gemm of resnet18 (by itself, default
    algorithm, weights preprocessed) fans out and matches its 1-thread bits."""
    checked = 0
    for name, m, feeds in node_models(zoo.build("resnet18"), ("Conv", "Gemm")):
        one, steps, _ = run(m, feeds, weight_preprocess=True)
        two, steps2, d = run(m, feeds, threads=2, weight_preprocess=True)
        assert d > 0, f"{name} ({steps2[0][1]}) did not split"
        np.testing.assert_array_equal(two["y"], one["y"], err_msg=name)
        checked += 1
    assert checked >= 20


test_other_isa_levels = other_isa_levels_test(__file__, ["-k", "not zoo and not resnet18"])
