"""Fast data-movement, compare and cast algorithms against NAIVE:
COPY_FAST (Slice, Expand, Concat, Gather: kernels/copy_plan.h) and
ELEMWISE_FAST for the comparisons and logic ops and for Cast / CastLike
(kernels/convert.h, compiled per ISA level).

A test builds a one-node model, runs it with algo="NAIVE" and with the fast
algorithm forced by name, checks from net.steps() that it ran, and compares
bit for bit (these are exact operations; float16 NaNs compare as NaN, their
payload aside). Awkward shapes: odd sizes, size-1 and zero-size dims,
broadcasts both ways, negative and large steps, negative axes and indices.
The harness cannot pre-fill outputs with NaN, so the fast network runs
twice, first on NaN (or 0x7F..) inputs of the same shapes: an element the
second run does not write keeps a stale value and fails the comparison.
The file reruns at every other ISA level of this CPU (isa_levels.py).
"""
import numpy as np
import pytest
from onnx import TensorProto, helper

import loadrun
from isa_levels import other_isa_levels_test
from onnx_ref import make_model, node_model

rng = np.random.default_rng(5)
DTYPES = [np.float32, np.int64, np.int32, np.uint8, np.float16, np.bool_]


def data(shape, dt):
    if dt == np.bool_:
        return rng.random(shape) < 0.5
    if np.issubdtype(dt, np.integer):
        info = np.iinfo(dt)
        return rng.integers(max(info.min, -1000), min(info.max, 1000), size=shape, endpoint=True).astype(dt)
    x = (rng.standard_normal(shape) * 10).astype(dt)
    if x.size >= 4:
        x.flat[:4] = [np.nan, np.inf, -np.inf, -0.0]
    return x


def stale(x):
    """An input of x's shape and dtype whose outputs differ from x's everywhere it can."""
    if x.dtype == np.bool_:
        return ~x
    if np.issubdtype(x.dtype, np.integer):
        return np.full_like(x, 0x7F)
    return np.full_like(x, np.nan)


def same(got, ref, name=""):
    got, ref = np.asarray(got), np.asarray(ref)
    assert got.shape == ref.shape and got.dtype == ref.dtype, (name, got.shape, ref.shape, got.dtype, ref.dtype)
    if got.dtype.kind == "f":
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref), err_msg=name)
        ok = ~np.isnan(ref)
        np.testing.assert_array_equal(got[ok], ref[ok], err_msg=name)
        np.testing.assert_array_equal(np.signbit(got[ok]), np.signbit(ref[ok]), err_msg=name)
    else:
        np.testing.assert_array_equal(got, ref, err_msg=name)


def compare(model, feeds, algo, stale_inputs=("x",)):
    # optimize=False: the kernels under test run even where a compile pass
    # would make the step a view (an Expand to the input's shape, a Cast to
    # its dtype)
    ref = loadrun.load(model, algo="NAIVE", optimize=False).run(feeds)
    net = loadrun.load(model, algo=algo, optimize=False)
    net.run({k: (stale(v) if k in stale_inputs else v) for k, v in feeds.items()})
    got = net.run(feeds)
    assert [s[1] for s in net.steps()] == [algo], net.steps()
    for k in ref:
        same(got[k], ref[k], k)
    return got


# --- Slice ----------------------------------------------------------------------

SLICES = [  # x shape, starts, ends, axes, steps
    ((7, 9), [1, 2], [6, 8], None, None),
    ((7, 9), [0], [9], [1], [2]),                       # every other column
    ((7, 9), [-1], [-1000], [0], [-1]),                 # reversed rows
    ((7, 9), [6, 8], [-8, -10], [0, 1], [-2, -3]),      # negative steps, both axes
    ((2, 3, 17), [1], [2 ** 63 - 1], [-1], None),       # to the end, last axis
    ((2, 3, 17), [0, 0], [1, 100], [0, 2], None),       # keeps whole rows: one run
    ((2, 3, 17), [16], [-(2 ** 63)], [2], [-5]),
    ((5, 1, 33), [0, 3], [1, 30], [1, 2], [1, 4]),
    ((4, 6, 5, 3), [1, 1, 1], [3, 5, 4], [1, 2, 3], [1, 2, 1]),
    ((4, 6), [2], [2], [0], None),                      # empty
    ((0, 5), [0], [3], [1], None),                      # empty input
    ((1, 128, 2, 64), [0], [1], [0], None),             # a no-op slice
    ((9,), [8], [0], [0], [-3]),
]


@pytest.mark.parametrize("xs,starts,ends,axes,steps", SLICES)
@pytest.mark.parametrize("dt", DTYPES)
def test_slice(xs, starts, ends, axes, steps, dt):
    x = data(xs, dt)
    inits = [("starts", np.array(starts, np.int64)), ("ends", np.array(ends, np.int64))]
    names = ["x", "starts", "ends"]
    if axes is not None or steps is not None:
        inits.append(("axes", np.array(axes if axes is not None else list(range(len(starts))), np.int64)))
        names.append("axes")
    if steps is not None:
        inits.append(("steps", np.array(steps, np.int64)))
        names.append("steps")
    node = helper.make_node("Slice", names, ["y"])
    m = make_model([node], [("x", x.dtype, list(xs))], [("y", x.dtype, None)], inits, opset=13)
    compare(m, {"x": x}, "COPY_FAST")


def test_slice_runtime_starts():
    x = data((6, 11), np.float32)
    node = helper.make_node("Slice", ["x", "s", "e", "a", "st"], ["y"])
    m = make_model([node], [("x", np.float32, [6, 11]), ("s", np.int64, [2]), ("e", np.int64, [2]),
                            ("a", np.int64, [2]), ("st", np.int64, [2])], [("y", np.float32, None)], opset=13)
    for s, e, st in (([5, 1], [0, 11], [-2, 3]), ([0, -1], [6, -12], [1, -1])):
        feeds = {"x": x, "s": np.array(s, np.int64), "e": np.array(e, np.int64), "a": np.array([0, 1], np.int64),
                 "st": np.array(st, np.int64)}
        got = compare(m, feeds, "COPY_FAST")
        np.testing.assert_array_equal(got["y"], x[s[0]:e[0]:st[0], s[1]:(e[1] if e[1] > -12 else None):st[1]])


# --- Expand ---------------------------------------------------------------------

EXPANDS = [((3, 1), (3, 5)), ((1,), (2, 3, 4)), ((2, 1, 4), (2, 3, 4)), ((1, 1), (7, 9)),
           ((5,), (3, 1, 5)), ((3, 1, 1), (1, 4, 6)), ((1, 8, 1, 1), (2, 8, 3, 3)), ((2, 3), (2, 3)),
           ((4, 1), (4, 0)), ((1, 1, 33), (2, 2, 33)), ((9, 1, 7), (9, 17, 7))]


@pytest.mark.parametrize("xs,shape", EXPANDS)
@pytest.mark.parametrize("dt", DTYPES)
def test_expand(xs, shape, dt):
    x = data(xs, dt)
    m = node_model("Expand", {"x": x}, initializers=[("shape", np.array(shape, np.int64))])
    got = compare(m, {"x": x}, "COPY_FAST")
    same(got["y0"], np.broadcast_to(x, np.broadcast_shapes(xs, shape)))


# --- Concat ---------------------------------------------------------------------

CONCATS = [  # shapes, axis
    ([(2, 3), (2, 5)], 1), ([(2, 3), (4, 3), (1, 3)], 0), ([(2, 3, 4), (2, 1, 4), (2, 0, 4)], 1),
    ([(3, 5, 1), (3, 5, 2)], -1), ([(1, 7), (1, 9)], -1), ([(6, 4, 4)], 0),
    ([(2, 2, 1, 3), (2, 2, 1, 3), (2, 2, 1, 5)], 3), ([(0, 3), (2, 3)], 0), ([(4, 1), (4, 1), (4, 1)], 1),
]


@pytest.mark.parametrize("shapes,axis", CONCATS)
@pytest.mark.parametrize("dt", DTYPES)
def test_concat(shapes, axis, dt):
    feeds = {f"x{i}": data(s, dt) for i, s in enumerate(shapes)}
    m = node_model("Concat", feeds, axis=axis)
    got = compare(m, feeds, "COPY_FAST", stale_inputs=tuple(feeds))
    same(got["y0"], np.concatenate(list(feeds.values()), axis=axis))


# --- Gather ---------------------------------------------------------------------

GATHERS = [  # data shape, indices, axis
    ((30, 16), [[0, 29, -1], [5, 5, -30]], 0),      # embedding rows
    ((3, 11), [10, -11, 0, 4], 1),                  # inner 1
    ((2, 5, 7), [[4], [0]], 1),
    ((2, 5, 7), 3, 2),                              # scalar index: the axis goes
    ((2, 5, 7), [], 0),                             # no indices
    ((6,), [5, 0, -2, 1, 1], 0),
    ((4, 3, 2, 3), [1, -2, 0], -2),
]


@pytest.mark.parametrize("xs,ind,axis", GATHERS)
@pytest.mark.parametrize("idt", [np.int64, np.int32])
@pytest.mark.parametrize("dt", DTYPES)
def test_gather(xs, ind, axis, idt, dt):
    x = data(xs, dt)
    i = np.array(ind, idt)
    if i.size == 0:
        i = i.reshape(0)
    m = node_model("Gather", {"x": x, "i": i}, axis=axis)
    got = compare(m, {"x": x, "i": i}, "COPY_FAST")
    same(got["y0"], np.take(x, np.where(i < 0, i + xs[axis], i), axis=axis))


def test_gather_out_of_range_is_input_error():
    x = data((5, 3), np.float32)
    m = node_model("Gather", {"x": x, "i": np.array([1, 5], np.int64)}, axis=0)
    net = loadrun.load(m, algo="COPY_FAST")
    with pytest.raises(loadrun.InputError, match="index 5 .* out of range"):
        net.run({"x": x, "i": np.array([1, 5], np.int64)})
    assert net.steps()[0][1] == "COPY_FAST"


# --- comparisons and logic -------------------------------------------------------

BCAST = [((2, 3, 4), (2, 3, 4)), ((7,), ()), ((), (9,)), ((2, 8, 5, 7), (8, 1, 1)), ((9, 1), (1, 7)),
         ((33,), (4, 33)), ((1, 2, 8, 8), (1, 1, 1, 8)), ((0, 3), (3,)), ((17,), (17,))]
CMP_DTYPES = [np.float32, np.float64, np.int64, np.int32, np.int8, np.uint8]


def cmp_data(shape, dt):
    x = data(shape, dt) if dt != np.float64 else data(shape, np.float32).astype(np.float64)
    if np.issubdtype(dt, np.integer):
        x = (x % 5).astype(dt)  # small range: many equal pairs
    else:
        x = np.round(x / 4)
    return x


@pytest.mark.parametrize("op", ["Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual"])
@pytest.mark.parametrize("dt", CMP_DTYPES)
@pytest.mark.parametrize("sa,sb", BCAST)
def test_compare(op, dt, sa, sb):
    a, b = cmp_data(sa, dt), cmp_data(sb, dt)
    m = node_model(op, {"a": a, "b": b}, opset=16)
    compare(m, {"a": a, "b": b}, "ELEMWISE_FAST", stale_inputs=("a", "b"))


@pytest.mark.parametrize("op", ["Equal", "And", "Or", "Xor"])
@pytest.mark.parametrize("sa,sb", BCAST)
def test_bool_logic(op, sa, sb):
    a, b = data(sa, np.bool_), data(sb, np.bool_)
    m = node_model(op, {"a": a, "b": b}, opset=16)
    compare(m, {"a": a, "b": b}, "ELEMWISE_FAST", stale_inputs=("a", "b"))


@pytest.mark.parametrize("shape", [(1,), (7,), (33,), (2, 0), (3, 5, 9)])
def test_not(shape):
    x = data(shape, np.bool_)
    got = compare(node_model("Not", {"x": x}), {"x": x}, "ELEMWISE_FAST")
    same(got["y0"], ~x)


# --- Cast -----------------------------------------------------------------------

CAST_DTYPES = [np.float32, np.float16, np.float64, np.int8, np.uint8, np.int32, np.int64, np.bool_]
ONNX = {np.float32: TensorProto.FLOAT, np.float16: TensorProto.FLOAT16, np.float64: TensorProto.DOUBLE,
        np.int8: TensorProto.INT8, np.uint8: TensorProto.UINT8, np.int32: TensorProto.INT32,
        np.int64: TensorProto.INT64, np.bool_: TensorProto.BOOL}


def cast_source(dt, n=67):
    """Values that probe every rule: NaN, +-inf, -0, fractions (truncation),
    out of range of every integer type, float16 subnormals and overflow."""
    if dt == np.bool_:
        return rng.random(n) < 0.5
    if np.issubdtype(dt, np.integer):
        info = np.iinfo(dt)
        v = [0, 1, -1, int(info.min), int(info.max), 127, 128, 255, 256, -129, 2 ** 31 - 1, -(2 ** 31),
             2 ** 24 + 1, 65504, 65520]
        v = np.array([e for e in v if info.min <= e <= info.max], dt)
        return np.concatenate([v, rng.integers(info.min, info.max, n, dtype=dt, endpoint=True)])
    special = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 0.5, -0.5, 1.99, -1.99, 127.9, 128.0, -128.5,
                        255.9, 256.0, -129.0, 2.0 ** 31, -(2.0 ** 31), 2.0 ** 31 - 128, 2.0 ** 63, -(2.0 ** 63),
                        3e38, -3e38, 65504.0, 65520.0, 65519.0, 6e-8, 3e-8, 2.98e-8, 1e-5, 1e-45, 2049.0])
    with np.errstate(over="ignore"):
        v = np.concatenate([special, rng.standard_normal(n) * 10.0 ** rng.integers(-3, 6, n)]).astype(dt)
    return v


@pytest.mark.parametrize("to", CAST_DTYPES)
@pytest.mark.parametrize("frm", CAST_DTYPES)
@pytest.mark.parametrize("shape", [(1, -1), (-1,)])
def test_cast(frm, to, shape):
    x = cast_source(frm).reshape(shape)
    m = node_model("Cast", {"x": x}, to=ONNX[to], out_dtypes=[ONNX[to]])
    compare(m, {"x": x}, "ELEMWISE_FAST")


def test_cast_like_and_storage_types_stay_naive():
    x = cast_source(np.float32)
    like = np.zeros(1, np.int32)
    m = node_model("CastLike", {"x": x, "like": like}, opset=15, out_dtypes=[TensorProto.INT32])
    compare(m, {"x": x, "like": like}, "ELEMWISE_FAST")
    m = node_model("Cast", {"x": x}, to=TensorProto.BFLOAT16, out_dtypes=[TensorProto.BFLOAT16])
    net = loadrun.load(m, algo="ELEMWISE_FAST")
    net.run({"x": x})
    assert net.steps()[0][1] == "NAIVE"


# --- the default choice -------------------------------------------------------------

def test_fast_algorithms_are_the_default():
    """Without algo=, the heuristic takes the fast algorithm (first after NAIVE)."""
    x = data((4, 6), np.float32)
    cases = [
        node_model("Gather", {"x": x, "i": np.array([1, 0], np.int64)}, axis=1),
        node_model("Concat", {"x": x, "z": x}, axis=0),
        node_model("Expand", {"x": x}, initializers=[("shape", np.array([2, 4, 6], np.int64))]),
        node_model("Equal", {"x": x, "z": x}),
        node_model("Cast", {"x": x}, to=TensorProto.INT64, out_dtypes=[TensorProto.INT64]),
    ]
    for m in cases:
        net = loadrun.load(m)
        assert net.steps()[0][1] != "NAIVE", net.steps()


# The whole file again at each other ISA level this CPU runs (isa_levels.py).
test_other_isa_levels = other_isa_levels_test(__file__)
