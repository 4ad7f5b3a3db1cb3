"""Fast Conv algorithms against NAIVE, the Conv+BN+activation fusion pass
against ONNX Runtime, and the zoo's convnets with the fast algorithms.

Each algorithm runs by name (loadrun.load(algo=...)) and net.steps() proves
it ran (and whether its weights were preprocessed). Tolerances against
NAIVE, per element |fast - naive| <= ATOL + RTOL |naive|: RTOL 1e-5 and ATOL
1e-4 for the GEMM and direct algorithms (sums of up to a few hundred
standard-normal products, in another order); for the Winograd algorithms
the transforms' constants grow the float32 rounding error, most in F(6,3):
RTOL/ATOL 1e-4/1e-3 for WINOGRAD_F43 and 3e-4/3e-3 for WINOGRAD_F63.
Models against ORT: relative max error 1e-4.
"""
import numpy as np
import pytest
from onnx import helper

import loadrun
from loadrun import zoo
from isa_levels import other_isa_levels_test
from onnx_ref import assert_close, assert_close_elementwise, make_model, ort_run, rel_err

rng = np.random.default_rng(7)
RTOL = {"WINOGRAD_F63": 3e-4, "WINOGRAD_F43": 1e-4}
ATOL = {"WINOGRAD_F63": 3e-3, "WINOGRAD_F43": 1e-3}


def assert_close_to_naive(got, naive, algo):
    assert_close_elementwise(got, naive, RTOL.get(algo, 1e-5), ATOL.get(algo, 1e-4), algo)


def r(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def conv_model(x_shape, w, b=None, post=(), extra_inits=(), **attrs):
    """x -> Conv(w, b) -> post nodes (each reads the previous output) -> y."""
    inits = [("w", w)] + ([("b", b)] if b is not None else []) + list(extra_inits)
    nodes = [helper.make_node("Conv", ["x", "w"] + (["b"] if b is not None else []), ["c"], name="conv",
                              **attrs)]
    prev = "c"
    for i, (op, ins, kw) in enumerate(post):
        out = f"p{i}"
        nodes.append(helper.make_node(op, [prev] + list(ins), [out], name=f"{op}_{i}", **kw))
        prev = out
    nodes[-1].output[0] = "y"
    return make_model(nodes, [("x", np.float32, list(x_shape))], [("y", np.float32, None)], inits)


def run(model, x, **kw):
    net = loadrun.load(model, **kw)
    return net.run({"x": x})["y"], net.steps()


def conv_steps(steps):
    return [s for s in steps if s[0].endswith("{Conv}")]


# (algo, x shape, w shape, Conv attributes): odd sizes, 1x1 spatial, asymmetric
# pads, groups, dilation, batch 2, channel counts not multiples of 8 or 16.
CASES = [
    ("CONV1x1_GEMM", (2, 5, 7, 9), (6, 5, 1, 1), {}),
    ("CONV1x1_GEMM", (1, 6, 7, 9), (4, 3, 1, 1), dict(strides=[2, 2], group=2, pads=[1, 0, 0, 1])),
    ("CONV1x1_GEMM", (1, 17, 1, 1), (19, 17, 1, 1), {}),
    ("CONV1x1_GEMM", (2, 7, 11), (9, 7, 1), dict(strides=[3])),  # 1-D
    ("CONV1x1_GEMM", (1, 5, 17, 19), (7, 5, 1, 1), {}),  # > kConvGemmSmallN positions: not transposed
    ("CONV1x1_GEMM", (2, 6, 40, 36), (10, 3, 1, 1), dict(strides=[2, 2], group=2)),
    ("IM2COL_GEMM", (2, 5, 7, 9), (6, 5, 3, 3), dict(strides=[2, 1], pads=[1, 2, 0, 1], dilations=[1, 2])),
    ("IM2COL_GEMM", (1, 6, 11, 5), (4, 3, 3, 3), dict(group=2, pads=[1, 1, 1, 1])),
    ("IM2COL_GEMM", (1, 3, 23, 21), (13, 3, 7, 7), dict(strides=[2, 2], pads=[3, 3, 3, 3])),
    ("IM2COL_GEMM", (1, 4, 1, 1), (3, 4, 3, 3), dict(pads=[1, 1, 1, 1])),
    ("IM2COL_GEMM", (1, 9, 40, 40), (5, 9, 5, 3), dict(pads=[2, 1, 2, 1])),  # several column blocks
    ("IM2COL_GEMM", (2, 3, 10), (5, 3, 3), dict(pads=[1, 2], dilations=[2])),  # 1-D
    ("IM2COL_GEMM", (2, 4, 19, 17), (6, 2, 3, 3), dict(group=2, pads=[1, 1, 1, 1])),  # 323 positions
    ("IM2COL_GEMM", (1, 3, 120, 130), (4, 3, 3, 3), dict(pads=[1, 1, 1, 1])),  # column blocks
    ("WINOGRAD_F63", (2, 5, 9, 13), (6, 5, 3, 3), dict(pads=[1, 1, 1, 1])),
    ("WINOGRAD_F63", (1, 19, 30, 31), (21, 19, 3, 3), dict(pads=[1, 0, 2, 1])),
    ("WINOGRAD_F63", (1, 8, 7, 6), (6, 4, 3, 3), dict(group=2)),
    ("WINOGRAD_F63", (1, 3, 1, 1), (5, 3, 3, 3), dict(pads=[1, 1, 1, 1])),
    ("WINOGRAD_F63", (1, 64, 40, 39), (64, 64, 3, 3), dict(pads=[1, 1, 1, 1])),  # two tile bands
    ("WINOGRAD_F43", (2, 5, 9, 13), (6, 5, 3, 3), dict(pads=[1, 1, 1, 1])),
    ("WINOGRAD_F43", (1, 96, 30, 26), (96, 96, 3, 3), dict(pads=[1, 1, 1, 1])),  # two tile bands
    ("WINOGRAD_F43", (1, 19, 30, 31), (21, 19, 3, 3), dict(pads=[2, 1, 0, 1])),
    ("WINOGRAD_F43", (1, 8, 1, 1), (4, 4, 3, 3), dict(pads=[1, 1, 1, 1], group=2)),
    ("WINOGRAD_F43", (1, 6, 5, 4), (7, 6, 3, 3), {}),
    ("DEPTHWISE_DIRECT", (2, 5, 9, 13), (5, 1, 3, 3), dict(group=5, pads=[1, 1, 1, 1])),
    ("DEPTHWISE_DIRECT", (1, 3, 9, 13), (3, 1, 3, 3), dict(group=3, strides=[2, 2], pads=[0, 1, 1, 0])),
    ("DEPTHWISE_DIRECT", (1, 3, 20, 17), (3, 1, 5, 5), dict(group=3, strides=[2, 2], pads=[2, 2, 2, 2])),
    ("DEPTHWISE_DIRECT", (1, 7, 20, 17), (7, 1, 5, 5), dict(group=7, pads=[2, 1, 0, 2])),
    ("DEPTHWISE_DIRECT", (1, 4, 1, 1), (4, 1, 3, 3), dict(group=4, pads=[1, 1, 1, 1])),
    ("DEPTHWISE_DIRECT", (1, 2, 3, 35), (2, 1, 3, 3), dict(group=2, strides=[2, 2])),
    ("DEPTHWISE_DIRECT", (2, 3, 12, 40), (3, 1, 3, 3), dict(group=3, strides=[2, 2], pads=[1, 1, 1, 1])),
    ("DEPTHWISE_DIRECT", (1, 3, 12, 41), (3, 1, 5, 5), dict(group=3, strides=[2, 2], pads=[1, 3, 2, 0])),
    ("DIRECT_SMALL_IC", (1, 3, 23, 21), (13, 3, 7, 7), dict(strides=[2, 2], pads=[3, 3, 3, 3])),
    ("DIRECT_SMALL_IC", (2, 3, 17, 19), (8, 3, 3, 3), dict(strides=[2, 2], pads=[0, 1, 1, 0])),
    ("DIRECT_SMALL_IC", (1, 3, 30, 35), (32, 3, 3, 3), dict(strides=[2, 2])),
    ("DIRECT_SMALL_IC", (1, 1, 5, 40), (7, 1, 5, 3), dict(pads=[2, 1, 2, 1])),
    ("DIRECT_SMALL_IC", (1, 4, 1, 1), (5, 4, 3, 3), dict(pads=[1, 1, 1, 1])),
    ("DIRECT_SMALL_IC", (2, 2, 9), (5, 2, 3), dict(pads=[2, 0])),  # 1-D
    ("DIRECT_SMALL_IC", (1, 2, 6, 7), (6, 2, 1, 1), {}),
    ("DIRECT_SMALL_IC", (1, 3, 64, 70), (12, 3, 11, 11), dict(strides=[2, 2], pads=[5, 4, 5, 6])),
]


@pytest.mark.parametrize("preprocess", [False, True])
@pytest.mark.parametrize("algo,xs,ws,attrs", CASES)
def test_algo_vs_naive(algo, xs, ws, attrs, preprocess):
    x, w, b = r(*xs), r(*ws), r(ws[0])
    m = conv_model(xs, w, b, **attrs)
    ref, _ = run(m, x, algo="NAIVE")
    got, steps = run(m, x, algo=algo, weight_preprocess=preprocess)
    (step,) = conv_steps(steps)
    assert step[1] == algo
    assert step[5] == (preprocess and algo != "DEPTHWISE_DIRECT")
    assert_close_to_naive(got, ref, algo)


# 3x3 depthwise planes read straight from the input (no padded copy): row
# blocks of 4 (stride 1) or 3 (stride 2) plus their remainders, masked edge
# blocks on both sides, rows wider than two blocks, pads 0..2 on each side.
# Own random stream, so the cases above keep their data.
DW3_CASES = [
    ((2, 11, 7, 30), dict(pads=[0, 2, 1, 0])),
    ((1, 9, 14, 14), dict(pads=[1, 1, 1, 1])),
    ((1, 10, 15, 8), dict(strides=[2, 2], pads=[2, 0, 0, 2])),
    ((2, 6, 22, 45), dict(strides=[2, 2], pads=[0, 1, 1, 1])),
]


@pytest.mark.parametrize("xs,attrs", DW3_CASES)
def test_dwconv3x3_direct_vs_naive(xs, attrs):
    g = np.random.default_rng(11)
    c = xs[1]
    x = g.standard_normal(xs).astype(np.float32)
    w = g.standard_normal((c, 1, 3, 3)).astype(np.float32)
    b = g.standard_normal(c).astype(np.float32)
    m = conv_model(xs, w, b, group=c, **attrs)
    ref, _ = run(m, x, algo="NAIVE")
    got, steps = run(m, x, algo="DEPTHWISE_DIRECT")
    (step,) = conv_steps(steps)
    assert step[1] == "DEPTHWISE_DIRECT"
    assert_close_to_naive(got, ref, "DEPTHWISE_DIRECT")


def test_algos_not_usable_elsewhere():
    """Each algorithm refuses shapes it cannot run: the chooser falls back."""
    x = r(1, 4, 9, 9)
    m = conv_model(x.shape, r(4, 4, 3, 3), strides=[2, 2])  # 3x3 stride 2, not depthwise
    for algo in ("WINOGRAD_F63", "WINOGRAD_F43", "DEPTHWISE_DIRECT", "CONV1x1_GEMM"):
        _, steps = run(m, x, algo=algo)
        assert conv_steps(steps)[0][1] != algo
    m = conv_model(x.shape, r(4, 1, 3, 3), group=4, dilations=[2, 2])  # dilated depthwise
    _, steps = run(m, x, algo="DEPTHWISE_DIRECT")
    assert conv_steps(steps)[0][1] != "DEPTHWISE_DIRECT"
    x = r(1, 3, 9, 9)
    for attrs in (dict(dilations=[2, 2]), dict(strides=[1, 2]), dict(strides=[3, 3])):
        _, steps = run(conv_model(x.shape, r(4, 3, 3, 3), **attrs), x, algo="DIRECT_SMALL_IC")
        assert conv_steps(steps)[0][1] != "DIRECT_SMALL_IC"


def test_float64_stays_naive():
    x, w = r(1, 4, 9, 9), r(6, 4, 3, 3)
    node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])
    m = make_model([node], [("x", np.float64, [1, 4, 9, 9])], [("y", np.float64, None)],
                   [("w", w.astype(np.float64))])
    net = loadrun.load(m, algo="WINOGRAD_F63")
    got = net.run({"x": x.astype(np.float64)})["y"]
    assert net.steps()[0][1] == "NAIVE"
    ref = ort_run(conv_model(x.shape, w, pads=[1, 1, 1, 1]), {"x": x})["y"]  # float32 in ORT
    assert_close(got.astype(np.float32), ref, 1e-5)


def test_heuristic_choices():
    def chosen(xs, ws, pre=True, **attrs):
        m = conv_model(xs, r(*ws), **attrs)
        return conv_steps(run(m, r(*xs), weight_preprocess=pre)[1])[0][1]

    assert chosen((1, 32, 56, 56), (32, 32, 3, 3), pads=[1] * 4) == "WINOGRAD_F63"
    assert chosen((1, 32, 10, 10), (32, 32, 3, 3), pads=[1] * 4) == "WINOGRAD_F43"
    assert chosen((1, 32, 7, 7), (32, 32, 3, 3), pads=[1] * 4) == "IM2COL_GEMM"
    # Winograd without weight preprocess transforms the filters on every run.
    assert chosen((1, 32, 56, 56), (32, 32, 3, 3), pre=False, pads=[1] * 4) == "IM2COL_GEMM"
    assert chosen((1, 32, 7, 7), (16, 32, 1, 1)) == "CONV1x1_GEMM"
    assert chosen((1, 32, 14, 14), (32, 1, 3, 3), group=32, pads=[1] * 4) == "DEPTHWISE_DIRECT"
    assert chosen((1, 3, 32, 32), (16, 3, 7, 7), strides=[2, 2], pads=[3] * 4) == "DIRECT_SMALL_IC"
    assert chosen((1, 5, 32, 32), (16, 5, 7, 7), strides=[2, 2], pads=[3] * 4) == "IM2COL_GEMM"


# -- fusion pass -------------------------------------------------------------

def bn_inits(c, prefix="bn"):
    return [(f"{prefix}_s", rng.uniform(0.5, 1.5, c).astype(np.float32)), (f"{prefix}_b", r(c, scale=0.1)),
            (f"{prefix}_m", r(c, scale=0.1)), (f"{prefix}_v", rng.uniform(0.5, 1.5, c).astype(np.float32))]


def bn_post(prefix="bn", eps=1e-3):
    return ("BatchNormalization", [f"{prefix}_s", f"{prefix}_b", f"{prefix}_m", f"{prefix}_v"],
            dict(epsilon=eps))


ACTS = {
    "Relu": (("Relu", [], {}), []),
    "Relu6": (("Clip", ["lo", "hi"], {}), [("lo", np.float32(0)), ("hi", np.float32(6))]),
    "Clip": (("Clip", ["lo", "hi"], {}), [("lo", np.float32(-0.5)), ("hi", np.float32(0.7))]),
    "ClipMin": (("Clip", ["lo"], {}), [("lo", np.float32(0.2))]),
    "ClipMax": (("Clip", ["", "hi"], {}), [("hi", np.float32(0.1))]),
    "HardSwish": (("HardSwish", [], {}), []),
    "Sigmoid": (("Sigmoid", [], {}), []),
    "LeakyRelu": (("LeakyRelu", [], dict(alpha=0.2)), []),
    "HardSigmoid": (("HardSigmoid", [], dict(alpha=0.3, beta=0.4)), []),
    "Tanh": (("Tanh", [], {}), []),
}

# One shape per algorithm (run by name).
FUSE_SHAPES = {
    "IM2COL_GEMM": ((1, 3, 13, 11), (10, 3, 7, 7), dict(strides=[2, 2], pads=[3, 3, 3, 3])),
    "CONV1x1_GEMM": ((2, 12, 5, 7), (10, 12, 1, 1), {}),
    "WINOGRAD_F63": ((1, 9, 15, 17), (11, 9, 3, 3), dict(pads=[1, 1, 1, 1])),
    "WINOGRAD_F43": ((1, 9, 9, 10), (11, 9, 3, 3), dict(pads=[1, 1, 1, 1])),
    "DEPTHWISE_DIRECT": ((1, 10, 11, 9), (10, 1, 3, 3), dict(group=10, strides=[2, 2], pads=[1, 1, 1, 1])),
    "DIRECT_SMALL_IC": ((1, 3, 17, 15), (10, 3, 7, 7), dict(strides=[2, 2], pads=[3, 3, 3, 3])),
    "NAIVE": ((1, 4, 9, 9), (6, 2, 3, 3), dict(group=2, dilations=[2, 2])),
}


@pytest.mark.parametrize("act", list(ACTS))
@pytest.mark.parametrize("algo", list(FUSE_SHAPES))
@pytest.mark.parametrize("bias", [False, True])
def test_conv_bn_act_fused_vs_ort(algo, act, bias):
    xs, ws, attrs = FUSE_SHAPES[algo]
    act_node, act_inits = ACTS[act]
    oc = ws[0]
    m = conv_model(xs, r(*ws), r(oc) if bias else None, post=[bn_post(), act_node],
                   extra_inits=bn_inits(oc) + act_inits, **attrs)
    # Relative error is measured against the output's range: keep Clip's
    # narrow window from shrinking it far below the conv's own range.
    x = r(*xs, scale=0.3 if act == "Clip" else 2.0)
    ref = ort_run(m, {"x": x})["y"]
    for pre in (False, True):
        got, steps = run(m, x, algo=algo, weight_preprocess=pre)
        assert [s[1] for s in steps] == [algo], steps  # BN and activation are gone
        assert_close(got, ref, RTOL.get(algo, 1e-4) if algo.startswith("WINO") else 1e-4, f"{algo} {act}")
    unfused, steps = run(m, x, optimize=False)
    assert len(steps) == 3
    assert_close(unfused, ref, 1e-4)


def test_conv_relu_without_bn_and_runtime_weight():
    """The activation fuses even where BN cannot fold (weight is a graph input)."""
    x, w = r(1, 3, 8, 8), r(4, 3, 3, 3)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1] * 4), helper.make_node("Relu", ["c"], ["y"])]
    m = make_model(nodes, [("x", np.float32, [1, 3, 8, 8]), ("w", np.float32, [4, 3, 3, 3])],
                   [("y", np.float32, None)])
    net = loadrun.load(m)
    got = net.run({"x": x, "w": w})["y"]
    (step,) = net.steps()
    assert step[0].endswith("{Conv}")
    assert_close(got, ort_run(m, {"x": x, "w": w})["y"])


def test_bn_with_two_consumers_does_not_fold():
    """conv output read by BN and by an Add: neither BN nor anything folds."""
    x, w = r(1, 4, 9, 9), r(6, 4, 3, 3)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1] * 4),
             helper.make_node("BatchNormalization", ["c", "bn_s", "bn_b", "bn_m", "bn_v"], ["n"]),
             helper.make_node("Relu", ["n"], ["a"]),
             helper.make_node("Add", ["a", "c"], ["y"])]
    m = make_model(nodes, [("x", np.float32, [1, 4, 9, 9])], [("y", np.float32, None)],
                   [("w", w)] + bn_inits(6))
    net = loadrun.load(m)
    got = net.run({"x": x})["y"]
    types = [s[0].split("{")[1] for s in net.steps()]
    assert types == ["Conv}", "BatchNormalization}", "Relu}", "Add}"]
    assert_close(got, ort_run(m, {"x": x})["y"])


def test_intermediate_graph_outputs_stay():
    """BN folds, but its output is a graph output: the Relu stays separate."""
    x, w = r(1, 4, 9, 9), r(6, 4, 3, 3)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1] * 4),
             helper.make_node("BatchNormalization", ["c", "bn_s", "bn_b", "bn_m", "bn_v"], ["n"]),
             helper.make_node("Relu", ["n"], ["y"])]
    m = make_model(nodes, [("x", np.float32, [1, 4, 9, 9])], [("n", np.float32, None), ("y", np.float32, None)],
                   [("w", w)] + bn_inits(6))
    net = loadrun.load(m)
    got = net.run({"x": x})
    assert [s[0].split("{")[1] for s in net.steps()] == ["Conv}", "Relu}"]
    ref = ort_run(m, {"x": x})
    for k in ("n", "y"):
        assert_close(got[k], ref[k])


def test_conv_bn_chain_with_residual():
    """conv-BN-relu-conv-BN + x, relu: two fusions, the Add and Relu stay."""
    x = r(1, 6, 10, 10)
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1] * 4),
             helper.make_node("BatchNormalization", ["c1", "a_s", "a_b", "a_m", "a_v"], ["n1"]),
             helper.make_node("Relu", ["n1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2"], ["c2"], pads=[1] * 4),
             helper.make_node("BatchNormalization", ["c2", "b_s", "b_b", "b_m", "b_v"], ["n2"]),
             helper.make_node("Add", ["n2", "x"], ["s"]),
             helper.make_node("Relu", ["s"], ["y"])]
    m = make_model(nodes, [("x", np.float32, [1, 6, 10, 10])], [("y", np.float32, None)],
                   [("w1", r(6, 6, 3, 3)), ("w2", r(6, 6, 3, 3))] + bn_inits(6, "a") + bn_inits(6, "b"))
    for pre in (False, True):
        net = loadrun.load(m, weight_preprocess=pre)
        got = net.run({"x": x})["y"]
        assert [s[0].split("{")[1] for s in net.steps()] == ["Conv}", "Conv}"]  # Add, Relu fused
        assert_close(got, ort_run(m, {"x": x})["y"])
    unfused = loadrun.load(m, optimize=False)
    assert len(unfused.steps()) == 7
    assert_close(unfused.run({"x": x})["y"], ort_run(m, {"x": x})["y"])


# -- residual (Conv + Add) fusion ---------------------------------------------

def conv_out_shape(xs, ws, attrs):
    m = conv_model(xs, r(*ws), **attrs)
    return loadrun.load(m, algo="NAIVE").run({"x": r(*xs)})["y"].shape


def residual_model(xs, ws, attrs, rs, bias=True, act=("Relu", [], {}), act_inits=(), swap=False,
                   r_const=None):
    """x -> Conv -> BN -> Add(., r) -> act -> y; r a graph input of shape rs (or a constant)."""
    oc = ws[0]
    inits = [("w", r(*ws))] + ([("b", r(oc))] if bias else []) + bn_inits(oc) + list(act_inits)
    nodes = [helper.make_node("Conv", ["x", "w"] + (["b"] if bias else []), ["c"], **attrs),
             helper.make_node("BatchNormalization", ["c", "bn_s", "bn_b", "bn_m", "bn_v"], ["n"]),
             helper.make_node("Add", ["r", "n"] if swap else ["n", "r"], ["s" if act else "y"])]
    if act:
        nodes.append(helper.make_node(act[0], ["s"] + list(act[1]), ["y"], **act[2]))
    ins = [("x", np.float32, list(xs))]
    if r_const is None:
        ins.append(("r", np.float32, list(rs)))
    else:
        inits.append(("r", r_const))
    return make_model(nodes, ins, [("y", np.float32, None)], inits)


@pytest.mark.parametrize("act", ["Relu", "Relu6", "Sigmoid", None])
@pytest.mark.parametrize("algo", list(FUSE_SHAPES))
def test_conv_residual_fused_vs_ort(algo, act):
    xs, ws, attrs = FUSE_SHAPES[algo]
    ys = conv_out_shape(xs, ws, attrs)
    act_node, act_inits = ACTS[act] if act else (None, [])
    for swap in (False, True):
        m = residual_model(xs, ws, attrs, ys, act=act_node, act_inits=act_inits, swap=swap, bias=swap)
        feeds = {"x": r(*xs, scale=2.0), "r": r(*ys, scale=2.0)}
        ref = ort_run(m, feeds)["y"]
        for pre in (False, True):
            net = loadrun.load(m, algo=algo, weight_preprocess=pre)
            got = net.run(feeds)["y"]
            assert [s[1] for s in net.steps()] == [algo], net.steps()  # BN, Add, act fused
            tol = RTOL.get(algo, 1e-4) if algo.startswith("WINO") else 1e-4
            assert_close(got, ref, tol, f"{algo} {act}")
            if algo != "NAIVE":
                naive = loadrun.load(m, algo="NAIVE").run(feeds)["y"]
                assert_close_to_naive(got, naive, algo)


@pytest.mark.parametrize("xs,ws,attrs", [
    ((1, 5, 7, 9), (6, 5, 3, 3), dict(pads=[1, 1, 1, 1])),        # 63 positions: transposed GEMM
    ((2, 5, 19, 17), (7, 5, 3, 3), dict(pads=[1, 1, 1, 1])),      # 323: direct GEMM, edge tiles
    ((1, 4, 1, 1), (3, 4, 1, 1), {}),                             # 1 position: GEMV path
    ((1, 6, 23, 21), (8, 3, 3, 3), dict(group=2, strides=[2, 2], pads=[1, 1, 1, 1])),
])
@pytest.mark.parametrize("algo", ["IM2COL_GEMM", "CONV1x1_GEMM"])
def test_conv_residual_gemm_shapes(algo, xs, ws, attrs):
    if algo == "CONV1x1_GEMM":
        ws = ws[:2] + (1, 1)
        attrs = {k: v for k, v in attrs.items() if k != "pads"}
    ys = conv_out_shape(xs, ws, attrs)
    m = residual_model(xs, ws, attrs, ys)
    feeds = {"x": r(*xs), "r": r(*ys)}
    ref = loadrun.load(m, algo="NAIVE").run(feeds)["y"]
    assert_close(ref, ort_run(m, feeds)["y"], 1e-4)
    for pre in (False, True):
        net = loadrun.load(m, algo=algo, weight_preprocess=pre)
        assert [s[1] for s in net.steps()] == [algo]
        assert_close_to_naive(net.run(feeds)["y"], ref, algo)


def test_residual_with_other_consumer_not_fused():
    """The conv's output is also a graph output: the Add stays."""
    xs, ws = (1, 4, 6, 6), (5, 4, 3, 3)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1] * 4),
             helper.make_node("Add", ["c", "r"], ["y"])]
    m = make_model(nodes, [("x", np.float32, list(xs)), ("r", np.float32, [1, 5, 6, 6])],
                   [("c", np.float32, None), ("y", np.float32, None)], [("w", r(*ws))])
    feeds = {"x": r(*xs), "r": r(1, 5, 6, 6)}
    net = loadrun.load(m)
    got = net.run(feeds)
    assert [s[0].split("{")[1] for s in net.steps()] == ["Conv}", "Add}"]
    ref = ort_run(m, feeds)
    for k in ("c", "y"):
        assert_close(got[k], ref[k])


def test_constant_broadcast_add_not_fused():
    xs, ws = (1, 4, 6, 6), (5, 4, 3, 3)
    m = residual_model(xs, ws, dict(pads=[1] * 4), None, r_const=r(1, 5, 1, 1))
    feeds = {"x": r(*xs)}
    net = loadrun.load(m)
    # Not into the Conv; the Add and Relu become one elementwise chain.
    assert [s[0].split("{")[1] for s in net.steps()] == ["Conv}", "ElementwiseChain}"]
    assert_close(net.run(feeds)["y"], ort_run(m, feeds)["y"])


@pytest.mark.parametrize("rs", [(1, 5, 1, 1), (5, 6, 6), (3, 5, 6, 6), (6,)])
def test_broadcasting_residual_input_stays_right(rs):
    """A non-constant residual that broadcasts (shapes are unknown to the pass): fused, only NAIVE
    takes it, and the result (even one broadcast up to a larger shape) matches ORT."""
    xs, ws = (1, 4, 6, 6), (5, 4, 3, 3)
    m = residual_model(xs, ws, dict(pads=[1] * 4), rs)
    feeds = {"x": r(*xs), "r": r(*rs)}
    net = loadrun.load(m, weight_preprocess=True)
    got = net.run(feeds)["y"]
    assert [s[1] for s in net.steps()] == ["NAIVE"]
    ref = ort_run(m, feeds)["y"]
    assert got.shape == ref.shape
    assert_close(got, ref)


def test_resnet_downsample_block_fuses_residual():
    """Add(main branch conv-BN, shortcut conv-BN) with the shortcut built after the main branch:
    the fused conv is placed at the Add (its residual is computed first)."""
    x = r(1, 6, 10, 10)
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1] * 4, strides=[2, 2]),
             helper.make_node("BatchNormalization", ["c1", "a_s", "a_b", "a_m", "a_v"], ["n1"]),
             helper.make_node("Relu", ["n1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2"], ["c2"], pads=[1] * 4),
             helper.make_node("BatchNormalization", ["c2", "b_s", "b_b", "b_m", "b_v"], ["n2"]),
             helper.make_node("Conv", ["x", "w3"], ["c3"], strides=[2, 2]),
             helper.make_node("BatchNormalization", ["c3", "c_s", "c_b", "c_m", "c_v"], ["n3"]),
             helper.make_node("Add", ["n2", "n3"], ["s"]),
             helper.make_node("Relu", ["s"], ["y"])]
    m = make_model(nodes, [("x", np.float32, [1, 6, 10, 10])], [("y", np.float32, None)],
                   [("w1", r(8, 6, 3, 3)), ("w2", r(8, 8, 3, 3)), ("w3", r(8, 6, 1, 1))]
                   + bn_inits(8, "a") + bn_inits(8, "b") + bn_inits(8, "c"))
    ref = ort_run(m, {"x": x})["y"]
    for pre in (False, True):
        net = loadrun.load(m, weight_preprocess=pre)
        steps = net.steps()
        assert [s[0].split("{")[1] for s in steps] == ["Conv}"] * 3
        assert_close(net.run({"x": x})["y"], ref)


# -- zoo ---------------------------------------------------------------------

@pytest.mark.parametrize("name,algos", [
    ("resnet18", {"WINOGRAD_F63", "WINOGRAD_F43", "IM2COL_GEMM", "CONV1x1_GEMM", "DIRECT_SMALL_IC"}),
    ("mobilenetv2", {"CONV1x1_GEMM", "DEPTHWISE_DIRECT", "DIRECT_SMALL_IC"}),
])
def test_zoo_fast_vs_ort(name, algos):
    model = zoo.build(name)
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    ref = ort_run(model, {"input": x})["output"]
    net = loadrun.load(model, weight_preprocess=True)
    got = net.run({"input": x})["output"]
    used = {s[1] for s in net.steps() if s[0].endswith("{Conv}")}
    assert used == algos
    assert not any("BatchNormalization" in s[0] for s in net.steps())
    if name == "resnet18":  # every block's Add (and its Relu) went into a conv
        assert not any(s[0].endswith(("{Add}", "{Relu}")) for s in net.steps())
    assert rel_err(got, ref) <= 1e-4


def test_resnet18_winograd_f43_vs_ort():
    model = zoo.build("resnet18")
    x = np.random.default_rng(1).standard_normal((1, 3, 224, 224)).astype(np.float32)
    ref = ort_run(model, {"input": x})["output"]
    net = loadrun.load(model, algo="WINOGRAD_F43")
    got = net.run({"input": x})["output"]
    assert sum(s[1] == "WINOGRAD_F43" for s in net.steps()) == 13  # every 3x3 stride-1 conv
    assert rel_err(got, ref) <= 1e-4


# The whole file again at each other ISA level this CPU runs (isa_levels.py),
# less the whole-model comparisons with ONNX Runtime (the per-algorithm tests
# above cover every kernel).
test_other_isa_levels = other_isa_levels_test(__file__, ["-k", "not zoo_fast_vs_ort and not resnet18_winograd"])
