"""Operators that split their work over threads (issue 12): every parallel
fast algorithm at threads=1, 2 and 3 against each other, bit for bit, and
against the operator's NAIVE algorithm.

A kernel splits over independent outputs (elements, rows, planes) and never
changes the order of a reduction's additions with the thread count, so the
three runs must agree exactly; against NAIVE the exact operations (copies,
compares, + - * /, max) agree exactly and the ones NAIVE computes in double
(transcendentals, sums) within a stated tolerance. Sizes are awkward (odd
lengths, broadcasts both ways, runs cut by range boundaries) and large
enough that the split happens: the test checks `net._core.dispatches` grew
(parallel_for calls that fanned out) and that a tiny tensor of the same op
stays on one thread. The fast network runs first on stale inputs (NaN or
0x7F..) so that an element some range fails to write keeps a wrong value.
The file reruns at every other ISA level of this CPU (isa_levels.py).
"""
import numpy as np
import pytest
from onnx import TensorProto, helper

import loadrun
from isa_levels import other_isa_levels_test
from onnx_ref import make_model, node_model

rng = np.random.default_rng(12)
THREADS = (2, 3)


def data(shape, dt=np.float32, scale=3.0):
    if dt == np.bool_:
        return rng.random(shape) < 0.5
    if np.issubdtype(dt, np.integer):
        return rng.integers(-100, 100, size=shape).astype(dt)
    return (rng.standard_normal(shape) * scale).astype(dt)


def stale(x):
    if x.dtype == np.bool_:
        return ~x
    if np.issubdtype(x.dtype, np.integer):
        return np.full_like(x, 0x7F)
    return np.full_like(x, np.nan)


def bits_equal(got, ref, name):
    got, ref = np.asarray(got), np.asarray(ref)
    assert got.shape == ref.shape and got.dtype == ref.dtype, (name, got.shape, ref.shape, got.dtype, ref.dtype)
    if got.dtype.kind == "f":
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref), err_msg=name)
        ok = ~np.isnan(ref)
        np.testing.assert_array_equal(got[ok], ref[ok], err_msg=name)
        np.testing.assert_array_equal(np.signbit(got[ok]), np.signbit(ref[ok]), err_msg=name)
    else:
        np.testing.assert_array_equal(got, ref, err_msg=name)


def run_threads(model, feeds, algo, threads, stale_inputs):
    # optimize=False: the kernel under test runs even where a compile pass
    # would make the step a view (a Transpose of unit dims)
    net = loadrun.load(model, algo=algo, threads=threads, optimize=False)
    assert net._core.num_threads == threads
    net.run({k: (stale(v) if k in stale_inputs else v) for k, v in feeds.items()})
    before = net._core.dispatches
    got = net.run(feeds)
    assert [s[1] for s in net.steps()] == [algo], net.steps()
    return got, net._core.dispatches - before


def check(model, feeds, algo, rtol=0.0, atol=0.0, split=True, stale_inputs=None, threads=THREADS):
    """Fast `algo` at 1 thread and at each of `threads`: bit-identical to each
    other, within (atol, rtol) of NAIVE (exact when both are 0); split:
    whether the tensor is large enough that the runs with threads must fan
    out."""
    stale_inputs = list(feeds)[:1] if stale_inputs is None else stale_inputs
    ref = loadrun.load(model, algo="NAIVE").run(feeds)
    one, d1 = run_threads(model, feeds, algo, 1, stale_inputs)
    assert d1 == 0
    for k in ref:
        if rtol == 0 and atol == 0:
            bits_equal(one[k], ref[k], k)
        else:
            np.testing.assert_allclose(one[k], ref[k], rtol=rtol, atol=atol, err_msg=k)
    for t in threads:
        got, d = run_threads(model, feeds, algo, t, stale_inputs)
        assert (d > 0) == split, (t, d, split)
        for k in one:
            bits_equal(got[k], one[k], f"{k} threads={t}")
    return one


# --- elementwise: binary with broadcast, variadic, unary, clip, cast, compare, where

BIN_SHAPES = [  # a, b: runs cut at odd places by the range boundaries
    ((3, 67, 129), (3, 67, 129)),
    ((3, 67, 129), (129,)),
    ((3, 67, 129), (67, 1)),
    ((3, 1, 129), (1, 67, 1)),
    ((1,), (5, 4099)),
    ((2, 3, 5, 7, 11, 13), (3, 1, 7, 1, 13)),
    ((40001,), (1,)),
]


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div", "PRelu"])
@pytest.mark.parametrize("shapes", BIN_SHAPES, ids=str)
def test_binary(op, shapes):
    sa, sb = shapes
    if op == "PRelu" and np.broadcast_shapes(sa, sb) != sa:
        sa, sb = np.broadcast_shapes(sa, sb), sb
    feeds = {"a": data(sa), "b": data(sb)}
    check(node_model(op, feeds), feeds, "ELEMWISE_FAST")


@pytest.mark.parametrize("e", [2.0, 0.5, 1.0])
def test_pow_scalar(e):
    feeds = {"a": data((7, 4099))}
    feeds["a"].flat[:3] = [-np.inf, -0.0, np.nan]
    check(node_model("Pow", feeds, initializers=[("e", np.array(e, np.float32))]), feeds, "ELEMWISE_FAST")


@pytest.mark.parametrize("op", ["Sum", "Mean", "Max", "Min"])
def test_variadic(op):
    feeds = {"a": data((5, 1, 3001)), "b": data((7, 1)), "c": data((5, 7, 3001)), "d": data((3001,))}
    check(node_model(op, feeds), feeds, "ELEMWISE_FAST", stale_inputs=["c"])


UNARY = [("Relu", 0), ("Sigmoid", 1e-6), ("Tanh", 1e-6), ("Exp", 1e-6), ("Abs", 0), ("Neg", 0),
         ("Sqrt", 0), ("Erf", 1e-6)]


@pytest.mark.parametrize("op,rtol", UNARY)
def test_unary(op, rtol):
    x = data((3, 5, 4097), scale=2.0)
    if op == "Sqrt":
        x = np.abs(x)
    feeds = {"x": x}
    check(node_model(op, feeds), feeds, "ELEMWISE_FAST", rtol=rtol, atol=1e-30 if rtol else 0)


def test_clip():
    feeds = {"x": data((9, 8191))}
    check(node_model("Clip", feeds, initializers=[("lo", np.float32(-1)), ("hi", np.float32(2))]),
          feeds, "ELEMWISE_FAST")


@pytest.mark.parametrize("src,dst", [(np.float32, TensorProto.FLOAT16), (np.float32, TensorProto.INT32),
                                     (np.int64, TensorProto.FLOAT), (np.uint8, TensorProto.FLOAT)])
def test_cast(src, dst):
    feeds = {"x": data((5, 13001), src)}
    check(node_model("Cast", feeds, to=dst), feeds, "ELEMWISE_FAST")


@pytest.mark.parametrize("op", ["Greater", "Equal", "LessOrEqual"])
@pytest.mark.parametrize("dt", [np.float32, np.int64])
def test_compare(op, dt):
    feeds = {"a": data((3, 77, 401), dt), "b": data((77, 1), dt)}
    check(node_model(op, feeds), feeds, "ELEMWISE_FAST")


def test_not():
    feeds = {"x": data((3, 77, 401), np.bool_)}
    check(node_model("Not", feeds), feeds, "ELEMWISE_FAST")


@pytest.mark.parametrize("dt", [np.float32, np.int64, np.uint8])
def test_where(dt):
    feeds = {"c": data((3, 1, 4001), np.bool_), "x": data((3, 7, 4001), dt), "y": data((7, 1), dt)}
    check(node_model("Where", feeds), feeds, "ELEMWISE_FAST", stale_inputs=["x"])


def test_elementwise_chain():
    # x * sigmoid(x) + b, fused by the pass into one ElementwiseChain
    x = data((3, 67, 1029))
    b = data((1029,))
    nodes = [helper.make_node("Sigmoid", ["x"], ["s"]), helper.make_node("Mul", ["x", "s"], ["m"]),
             helper.make_node("Add", ["m", "b"], ["y"])]
    model = make_model(nodes, [("x", np.float32, list(x.shape)), ("b", np.float32, [1029])],
                       [("y", np.float32, None)])
    feeds = {"x": x, "b": b}
    ref = loadrun.load(model, algo="NAIVE").run(feeds)["y"]
    one = None
    for t in (1,) + THREADS:
        net = loadrun.load(model, threads=t)
        steps = net.steps()
        assert len(steps) == 1 and "{ElementwiseChain}" in steps[0][0] and steps[0][1] == "ELEMWISE_FAST", steps
        before = net._core.dispatches
        got = net.run(feeds)["y"]
        assert (net._core.dispatches > before) == (t > 1)
        if one is None:
            one = got
            np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
        bits_equal(got, one, f"threads={t}")


@pytest.mark.parametrize("op", ["Add", "Relu", "Sigmoid"])
def test_tiny_stays_on_one_thread(op):
    feeds = {"a": data((7, 33))}
    if op == "Add":
        feeds["b"] = data((33,))
    check(node_model(op, feeds), feeds, "ELEMWISE_FAST", rtol=1e-6 if op == "Sigmoid" else 0,
          atol=1e-30 if op == "Sigmoid" else 0, split=False)


# --- softmax, pooling, reductions, BatchNormalization, Transpose ----------------


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("shape", [(3, 37, 1001), (1001, 7)], ids=str)
def test_softmax(op, shape):
    feeds = {"x": data(shape)}
    check(node_model(op, feeds, axis=-1), feeds, "SOFTMAX_FAST", rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("shape,axis", [((3, 131, 257), -1), ((2, 61, 5, 77), 2), ((4099, 16), -1)], ids=str)
def test_layer_norm(shape, axis):
    x = data(shape) + 30.0  # a mean far above the spread
    norm = shape[axis:]
    feeds = {"x": x}
    model = node_model("LayerNormalization", feeds, n_outputs=3, axis=axis, epsilon=1e-5,
                       initializers=[("g", data(norm)), ("b", data(norm))])
    check(model, feeds, "LAYERNORM_FAST", rtol=1e-4, atol=1e-5)


POOLS = [  # x shape, attributes
    ((1, 64, 112, 112), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])),  # resnet stem
    ((2, 7, 37, 41), dict(kernel_shape=[3, 2], strides=[1, 1], pads=[1, 0, 0, 1])),
    ((3, 5, 29, 33), dict(kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)),
    ((4, 9, 2001), dict(kernel_shape=[5], strides=[2], pads=[2, 2])),
]


@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
@pytest.mark.parametrize("shape,attrs", POOLS, ids=lambda v: str(v))
def test_pool(op, shape, attrs):
    feeds = {"x": data(shape)}
    exact = op == "MaxPool"
    check(node_model(op, feeds, **attrs), feeds, "POOL_FAST", rtol=0 if exact else 1e-5,
          atol=0 if exact else 1e-6)


@pytest.mark.parametrize("op", ["GlobalMaxPool", "GlobalAveragePool"])
@pytest.mark.parametrize("shape", [(2, 67, 29, 31), (1, 3, 40007)], ids=str)
def test_global_pool(op, shape):
    feeds = {"x": data(shape)}
    exact = op == "GlobalMaxPool"
    check(node_model(op, feeds), feeds, "POOL_FAST", rtol=0 if exact else 1e-5, atol=0 if exact else 1e-5)


REDUCE_SHAPE = (5, 33, 7, 129)


@pytest.mark.parametrize("op", ["ReduceSum", "ReduceMean", "ReduceMax"])
@pytest.mark.parametrize("axes", [[0], [1], [2], [3], [-1], [2, 3], [1, 2], [0, 1], [0, 1, 2, 3]], ids=str)
@pytest.mark.parametrize("keepdims", [0, 1])
def test_reduce(op, axes, keepdims):
    x = data(REDUCE_SHAPE)
    feeds = {"x": x}
    model = node_model(op, feeds, initializers=[("axes", np.array(axes, np.int64))], keepdims=keepdims)
    # outputs of fewer than a range's worth of work stay on one thread
    n_out = x.size // int(np.prod([REDUCE_SHAPE[a] for a in axes]))
    tol = 0 if op == "ReduceMax" else 1e-4  # a max is exact
    check(model, feeds, "REDUCE_FAST", rtol=tol, atol=tol, split=n_out > 1 and x.size * 4 > 2 * 65536)


def test_batch_norm():
    c = 37
    feeds = {"x": data((3, c, 23, 29))}
    inits = [("s", data((c,))), ("b", data((c,))), ("m", data((c,))), ("v", np.abs(data((c,))) + 0.1)]
    check(node_model("BatchNormalization", feeds, initializers=inits), feeds, "BATCHNORM_FAST",
          rtol=1e-5, atol=1e-5)


def test_batch_norm_2d():
    c = 7
    feeds = {"x": data((20011, c))}
    inits = [("s", data((c,))), ("b", data((c,))), ("m", data((c,))), ("v", np.abs(data((c,))) + 0.1)]
    check(node_model("BatchNormalization", feeds, initializers=inits), feeds, "BATCHNORM_FAST",
          rtol=1e-5, atol=1e-5)


TRANSPOSES = [  # shape, perm
    ((1, 197, 12, 64), [0, 2, 1, 3]),   # runs of the last dim
    ((2, 33, 17, 65), [0, 3, 1, 2]),    # NHWC <- NCHW: 2-D transposes
    ((1, 3, 211, 223), [0, 2, 3, 1]),   # 3 rows: split by columns
    ((1031, 517), [1, 0]),              # one big 2-D transpose split by rows
    ((7, 5, 3, 401), [3, 1, 2, 0]),
    ((40001,), [0]),                    # a copy
]


@pytest.mark.parametrize("shape,perm", TRANSPOSES, ids=str)
@pytest.mark.parametrize("dt", [np.float32, np.uint8])
def test_transpose(shape, perm, dt):
    if dt == np.uint8 and perm[-1] != len(shape) - 1:
        pytest.skip("TRANSPOSE_FAST moves 4-byte elements across the last dim")
    feeds = {"x": data(shape, dt)}
    check(node_model("Transpose", feeds, perm=perm), feeds, "TRANSPOSE_FAST")


# --- COPY_FAST (Slice, Expand, Concat, Gather), Resize ---------------------------


SLICES = [  # x shape, starts, ends, axes, steps
    ((9, 65, 131), [1, 2, 3], [8, 63, 130], [0, 1, 2], None),
    ((9, 65, 263), [8, 0], [-100, 263], [0, 2], [-1, 3]),     # reversed rows, strided columns
    ((301, 257), [0], [200], [0], None),                      # whole rows: one long run
]


@pytest.mark.parametrize("xs,starts,ends,axes,steps", SLICES, ids=str)
@pytest.mark.parametrize("dt", [np.float32, np.uint8, np.int64])
def test_slice(xs, starts, ends, axes, steps, dt):
    x = data(xs, dt)
    inits = [("starts", np.array(starts, np.int64)), ("ends", np.array(ends, np.int64)),
             ("axes", np.array(axes, np.int64))]
    names = ["x", "starts", "ends", "axes"]
    if steps is not None:
        inits.append(("steps", np.array(steps, np.int64)))
        names.append("steps")
    node = helper.make_node("Slice", names, ["y"])
    m = make_model([node], [("x", x.dtype, list(xs))], [("y", x.dtype, None)], inits, opset=13)
    check(m, {"x": x}, "COPY_FAST")


@pytest.mark.parametrize("xs,shape", [((67, 1), (5, 67, 257)), ((1, 1, 257), (9, 67, 257)),
                                      ((), (3, 40009)), ((5, 1, 3), (5, 4099, 3))], ids=str)
@pytest.mark.parametrize("dt", [np.float32, np.uint8])
def test_expand(xs, shape, dt):
    x = data(xs, dt) if xs else np.array(data((1,), dt)[0])
    m = node_model("Expand", {"x": x}, initializers=[("shape", np.array(shape, np.int64))])
    check(m, {"x": x}, "COPY_FAST")


@pytest.mark.parametrize("shapes,axis", [([(5, 3, 1001), (5, 7, 1001), (5, 1, 1001)], 1),
                                         ([(3001, 5), (3001, 1), (3001, 2)], -1),
                                         ([(17, 999), (1, 999), (0, 999), (23, 999)], 0)], ids=str)
@pytest.mark.parametrize("dt", [np.float32, np.uint8])
def test_concat(shapes, axis, dt):
    feeds = {f"x{i}": data(s, dt) for i, s in enumerate(shapes)}
    m = node_model("Concat", feeds, axis=axis)
    check(m, feeds, "COPY_FAST", stale_inputs=list(feeds))


@pytest.mark.parametrize("xs,sizes,axis", [((5, 11, 1001), [3, 7, 1], 1),
                                          ((3001, 8), [5, 1, 2], -1),
                                          ((41, 999), [17, 1, 0, 23], 0),      # an empty piece
                                          ((1, 42, 100, 76), [10, 32], 1)],    # a detector head's split
                         ids=str)
@pytest.mark.parametrize("dt", [np.float32, np.uint8])
def test_split(xs, sizes, axis, dt):
    x = data(xs, dt)
    m = node_model("Split", {"x": x}, n_outputs=len(sizes), initializers=[("split", np.array(sizes, np.int64))],
                   axis=axis)
    got = check(m, {"x": x}, "COPY_FAST")
    for k, want in zip(got, np.split(x, np.cumsum(sizes)[:-1], axis=axis)):
        bits_equal(got[k], want, k)


@pytest.mark.parametrize("xs,ind_shape,axis", [((1000, 67), (3, 101), 0), ((7, 1001, 9), (501,), 1),
                                               ((13, 4001), (2, 1001), 1), ((5, 30011), (), 0)],
                         ids=str)
@pytest.mark.parametrize("idt", [np.int64, np.int32])
def test_gather(xs, ind_shape, axis, idt):
    x = data(xs)
    i = rng.integers(-xs[axis], xs[axis], size=ind_shape).astype(idt)
    m = node_model("Gather", {"x": x, "i": i}, axis=axis)
    check(m, {"x": x, "i": i}, "COPY_FAST")


def resize_model(xs, scales, **attrs):
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], **attrs)
    return make_model([node], [("x", np.float32, list(xs))], [("y", np.float32, None)],
                      [("scales", np.array(scales, np.float32))], opset=19)


@pytest.mark.parametrize("xs,scales", [((1, 5, 67, 71), [1, 1, 2, 2]), ((2, 3, 101, 99), [1, 1, 0.5, 1.7]),
                                       ((1, 1, 301, 257), [1, 1, 1.5, 1.25])], ids=str)
@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_resize(xs, scales, mode):
    feeds = {"x": data(xs)}
    exact = mode == "nearest"
    check(resize_model(xs, scales, mode=mode), feeds, "RESIZE_FAST", rtol=0 if exact else 1e-5,
          atol=0 if exact else 1e-5)


# --- Pad (COPY_FAST) ---------------------------------------------------------------

PADS = [  # x shape, pads (begin..., end...)
    ((2, 3, 67, 129), [0, 0, 3, 2, 0, 1, 1, 5]),
    ((2, 3, 67, 129), [0, 1, -2, 3, 1, 0, 4, -7]),   # crops mixed in
    ((5, 8001), [2, 0, 1, 3]),
    ((40003,), [7, 2]),
    ((9, 1, 4001), [1, 2, 0, 0, 3, 0]),              # a size-1 dim padded to 6
]


@pytest.mark.parametrize("xs,pads", PADS, ids=str)
@pytest.mark.parametrize("mode", ["constant", "reflect", "edge", "wrap"])
@pytest.mark.parametrize("dt", [np.float32, np.uint8, np.int64, np.float16])
def test_pad(xs, pads, mode, dt):
    r = len(xs)
    if mode == "reflect" and any(xs[d] == 1 and (pads[d] > 0 or pads[d + r] > 0) for d in range(r)):
        pads = [0 if xs[i % r] == 1 else p for i, p in enumerate(pads)]
    x = data(xs, dt)
    inits = [("pads", np.array(pads, np.int64))]
    names = ["x", "pads"]
    if mode == "constant":
        inits.append(("v", np.array(5, dt)))
        names.append("v")
    node = helper.make_node("Pad", names, ["y"], mode=mode)
    m = make_model([node], [("x", x.dtype, list(xs))], [("y", x.dtype, None)], inits, opset=19)
    check(m, {"x": x}, "COPY_FAST")


def test_pad_axes_and_tiny():
    x = data((3, 5, 7))
    node = helper.make_node("Pad", ["x", "pads", "", "axes"], ["y"], mode="reflect")
    m = make_model([node], [("x", np.float32, [3, 5, 7])], [("y", np.float32, None)],
                   [("pads", np.array([2, 1, 3, 0], np.int64)), ("axes", np.array([-1, 1], np.int64))],
                   opset=19)
    check(m, {"x": x}, "COPY_FAST", split=False)


# --- InstanceNormalization, GroupNormalization (NORM_FAST) -------------------------


@pytest.mark.parametrize("xs", [(2, 37, 29, 31), (1, 5, 40009), (3, 64, 7)], ids=str)
def test_instance_norm(xs):
    c = xs[1]
    feeds = {"x": data(xs) + 1.5}
    inits = [("s", data((c,))), ("b", data((c,)))]
    check(node_model("InstanceNormalization", feeds, initializers=inits, epsilon=1e-3), feeds, "NORM_FAST",
          rtol=1e-4, atol=1e-4, split=xs != (3, 64, 7))


@pytest.mark.parametrize("xs,groups", [((2, 36, 23, 27), 6), ((1, 32, 64, 65), 32), ((3, 10, 9, 11), 1)],
                         ids=str)
def test_group_norm(xs, groups):
    c = xs[1]
    feeds = {"x": data(xs) - 0.5}
    inits = [("s", data((c,))), ("b", data((c,)))]
    m = node_model("GroupNormalization", feeds, initializers=inits, opset=21, num_groups=groups, epsilon=1e-4)
    check(m, feeds, "NORM_FAST", rtol=1e-4, atol=1e-4, split=groups * xs[0] > 1 and np.prod(xs) > 20000)


@pytest.mark.parametrize("axes", [[3], [1], [1, 2, 3]], ids=str)
def test_reduce_max_nan(axes):
    """ReduceMax's fast path keeps NAIVE's NaN rule: NaN never wins, a slice
    of only NaN gives -inf."""
    x = data(REDUCE_SHAPE)
    x[0, 0, 0, :] = np.nan
    x[:, :, 0, 0] = np.nan
    x[1, ::3, 2, 5:50] = np.nan
    model = node_model("ReduceMax", {"x": x}, initializers=[("axes", np.array(axes, np.int64))], keepdims=1)
    got = check(model, {"x": x}, "REDUCE_FAST", stale_inputs=[])["y0"]
    assert not np.isnan(got).any()
    if axes == [3]:
        assert got[0, 0, 0, 0] == -np.inf


def test_one_network_from_several_threads():
    """Runs of one threads=3 Network from four Python threads at once (the
    pool takes one job at a time; the others run their ranges inline) give
    the same bits as a lone run."""
    from concurrent.futures import ThreadPoolExecutor

    x = data((3, 67, 1029))
    b = data((1029,))
    nodes = [helper.make_node("Sigmoid", ["x"], ["s"]), helper.make_node("Transpose", ["s"], ["t"], perm=[2, 0, 1]),
             helper.make_node("Add", ["t", "b2"], ["y"])]
    model = make_model(nodes, [("x", np.float32, list(x.shape))], [("y", np.float32, None)],
                       [("b2", data((3, 1)))])
    net = loadrun.load(model, threads=3)
    ref = net.run({"x": x})["y"]
    with ThreadPoolExecutor(4) as ex:
        outs = list(ex.map(lambda _: net.run({"x": x})["y"], range(12)))
    for got in outs:
        bits_equal(got, ref, "concurrent run")
    bits_equal(loadrun.load(model).run({"x": x})["y"], ref, "threads=1")


def test_seven_ranges():
    """More ranges than cores: 7 threads cut runs, rows and blocks in more
    places (each range must start where the one before it ended)."""
    feeds = {"a": data((3, 67, 129)), "b": data((67, 1))}
    check(node_model("Add", feeds), feeds, "ELEMWISE_FAST", threads=(7,))
    feeds = {"x": data((2, 33, 17, 65))}
    check(node_model("Transpose", feeds, perm=[0, 3, 1, 2]), feeds, "TRANSPOSE_FAST", threads=(7,))
    x = data((5, 33, 7, 129))
    model = node_model("ReduceSum", {"x": x}, initializers=[("axes", np.array([1], np.int64))], keepdims=0)
    check(model, {"x": x}, "REDUCE_FAST", rtol=1e-4, atol=1e-4, threads=(7,))
    x = data((13, 4001))
    i = rng.integers(-4001, 4001, size=(2, 1001)).astype(np.int64)
    check(node_model("Gather", {"x": x, "i": i}, axis=1), {"x": x, "i": i}, "COPY_FAST", threads=(7,))
    x = data((2, 3, 67, 129))
    node = helper.make_node("Pad", ["x", "pads"], ["y"], mode="reflect")
    m = make_model([node], [("x", np.float32, list(x.shape))], [("y", np.float32, None)],
                   [("pads", np.array([0, 1, -2, 3, 1, 0, 4, -7], np.int64))], opset=19)
    check(m, {"x": x}, "COPY_FAST", threads=(7,))
    feeds = {"x": data((2, 3, 101, 99))}
    check(resize_model((2, 3, 101, 99), [1, 1, 0.5, 1.7], mode="linear"), feeds, "RESIZE_FAST",
          rtol=1e-5, atol=1e-5, threads=(7,))


test_other_isa_levels = other_isa_levels_test(__file__)
