"""Miscellaneous ops of the conformance issue against ONNX Runtime (or, where
ONNX Runtime lacks the opset-28 semantics, against NumPy): bitwise ops,
BitShift on signed integers, Mod fmod=0 on floats, Range on float16,
ReduceMax/Min on bool, the losses, the normalisations and Det. The pooling,
sampling and detection ops of the same issue are in test_ops_sampling.py."""
import numpy as np
import pytest
from onnx import helper

import loadrun
from onnx_ref import assert_close, check_model, check_node, make_model, node_model

rng = np.random.default_rng(7)


def r(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def run(model, feeds):
    return loadrun.load(model).run(feeds)


def one_node(op, inputs, outputs, inits=(), opset=17, **attrs):
    """Model with explicit input/output (name, dtype, shape) lists; inits are (name, array)."""
    node = helper.make_node(op, [n for n, *_ in inputs] + [n for n, _ in inits], [n for n, *_ in outputs],
                            **attrs)
    return make_model([node], inputs, outputs, inits, opset)


# ----------------------------------------------------------------- bitwise

@pytest.mark.parametrize("op", ["BitwiseAnd", "BitwiseOr", "BitwiseXor"])
@pytest.mark.parametrize("dt", [np.int8, np.uint16, np.int32, np.uint64, np.int64])
def test_bitwise_binary(op, dt):
    info = np.iinfo(dt)
    a = rng.integers(info.min, info.max, size=(2, 3, 4), dtype=dt, endpoint=True)
    b = rng.integers(info.min, info.max, size=(3, 1), dtype=dt, endpoint=True)
    check_node(op, {"a": a, "b": b}, opset=18)


@pytest.mark.parametrize("dt", [np.int8, np.uint8, np.int16, np.uint32, np.int64])
def test_bitwise_not(dt):
    info = np.iinfo(dt)
    check_node("BitwiseNot", {"a": rng.integers(info.min, info.max, size=(3, 1, 5), dtype=dt)}, opset=18)


def test_bitwise_rejects_floats():
    with pytest.raises(loadrun.ModelError, match="integers"):
        loadrun.load(node_model("BitwiseAnd", {"a": r(2), "b": r(2)}, opset=18, out_dtypes=[1]))


# ---------------------------------------------------------------- BitShift

def shift_ref(x, y, left):
    bits = x.dtype.itemsize * 8
    x, y = np.broadcast_arrays(x, y)
    out = np.zeros(x.shape, x.dtype)
    for i in np.ndindex(x.shape):
        v, n = int(x[i]), int(y[i])
        if n < 0 or n >= bits:
            out[i] = -1 if (not left and v < 0) else 0
        elif left:
            u = (v << n) & ((1 << bits) - 1)  # bits pushed past the top are dropped
            out[i] = u - (1 << bits) if u >= 1 << (bits - 1) else u  # two's complement
        else:
            out[i] = v >> n  # Python's >> is arithmetic
    return out


@pytest.mark.parametrize("dt", [np.int8, np.int16, np.int32, np.int64])
@pytest.mark.parametrize("direction", ["LEFT", "RIGHT"])
def test_bitshift_signed(dt, direction):
    bits = np.dtype(dt).itemsize * 8
    info = np.iinfo(dt)
    x = np.array([0, 1, -1, 5, -7, info.min, info.max, 3, -100, 42], dtype=dt)
    y = np.array([0, 1, 3, bits - 1, bits, bits + 3, -1, -bits, 2, 1], dtype=dt)
    m = one_node("BitShift", [("x", dt, [10]), ("y", dt, [10])], [("z", dt, None)], direction=direction)
    got = run(m, {"x": x, "y": y})["z"]
    np.testing.assert_array_equal(got, shift_ref(x, y, direction == "LEFT"))
    assert got.dtype == dt


@pytest.mark.parametrize("dt", [np.uint8, np.uint32, np.uint64])
def test_bitshift_unsigned_matches_ort(dt):
    x = rng.integers(0, 200, size=(2, 5), dtype=dt)
    y = np.array([0, 1, 2, 3, 7], dtype=dt)
    check_node("BitShift", {"x": x, "y": y}, direction="LEFT")
    check_node("BitShift", {"x": x, "y": y}, direction="RIGHT")


# --------------------------------------------------------------------- Mod

@pytest.mark.parametrize("dt", [np.float16, np.float32, np.float64])
def test_mod_float_fmod0(dt):
    inf, nan = np.inf, np.nan
    a = np.array([5.5, -5.5, 5.5, -5.5, 0.0, -0.0, 0.0, inf, 3.0, -3.0, 3.0, nan, 2.0, 7.25], dtype=dt)
    b = np.array([2.0, 2.0, -2.0, -2.0, 3.0, 3.0, -3.0, 2.0, inf, inf, -inf, 1.0, 0.0, 0.5], dtype=dt)
    m = one_node("Mod", [("a", dt, [14]), ("b", dt, [14])], [("c", dt, None)], fmod=0)
    got = run(m, {"a": a, "b": b})["c"]
    with np.errstate(all="ignore"):
        want = np.mod(a, b)  # NumPy's mod has the opset-28 semantics, inf and signed zeros included
    assert want[8] == 3 and want[9] == inf and want[10] == -inf
    assert got.dtype == dt
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    np.testing.assert_array_equal(got[ok], want[ok])
    np.testing.assert_array_equal(np.signbit(got[ok]), np.signbit(want[ok]))  # zeros take b's sign


def test_mod_float_broadcast_random():
    a, b = r(3, 4) * 10, r(4) * 3
    m = one_node("Mod", [("a", np.float32, [3, 4]), ("b", np.float32, [4])], [("c", np.float32, None)])
    np.testing.assert_allclose(run(m, {"a": a, "b": b})["c"], np.mod(a, b), rtol=1e-5, atol=1e-5)


# ------------------------------------------------- Range float16, Reduce bool

def test_range_float16():
    m = one_node("Range", [], [("y", np.float16, None)],
                 inits=[("s", np.array(1.5, np.float16)), ("l", np.array(9.0, np.float16)),
                        ("d", np.array(0.75, np.float16))])
    got = run(m, {})["y"]
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, (1.5 + np.arange(10, dtype=np.float32) * 0.75).astype(np.float16))


@pytest.mark.parametrize("op,fn", [("ReduceMax", np.any), ("ReduceMin", np.all)])
@pytest.mark.parametrize("axes,keep", [([1], 1), ([0, 2], 0), ([-1], 1), ([1], 0)])
def test_reduce_bool(op, fn, axes, keep):
    x = rng.integers(0, 2, size=(3, 4, 2)).astype(bool)
    x[0, :, :] = True
    x[1, :, :] = False
    m = one_node(op, [("x", bool, [3, 4, 2])], [("y", bool, None)],
                 inits=[("axes", np.array(axes, np.int64))], opset=18, keepdims=keep)
    got = run(m, {"x": x})["y"]
    np.testing.assert_array_equal(got, fn(x, axis=tuple(axes), keepdims=bool(keep)))


def test_reduce_bool_empty_slices():
    x = np.zeros((2, 0, 3), bool)
    for op, val in [("ReduceMax", False), ("ReduceMin", True)]:
        m = one_node(op, [("x", bool, [2, 0, 3])], [("y", bool, None)],
                     inits=[("axes", np.array([1], np.int64))], opset=18)
        np.testing.assert_array_equal(run(m, {"x": x})["y"], np.full((2, 1, 3), val))


# ------------------------------------------------------------------ losses

def nll_feeds(shape, c, dt=np.int64, ignore=None):
    n, *d = shape
    x = -np.abs(r(n, c, *d)) - 0.1  # log-probabilities: no cancellation in the sums
    t = rng.integers(0, c, size=(n, *d)).astype(dt)
    if ignore is not None:
        t.flat[::3] = ignore
    return x, t


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("shape", [(3,), (2, 5), (2, 3, 1, 2)])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss(reduction, shape, weighted):
    c = 4
    x, t = nll_feeds(shape, c)
    inits = [("w", np.abs(r(c)) + 0.1)] if weighted else []
    m = node_model("NegativeLogLikelihoodLoss", {"x": x, "t": t}, initializers=inits, reduction=reduction)
    check_model(m, {"x": x, "t": t})


@pytest.mark.parametrize("ignore", [-1, 2, 100])
@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_nll_loss_ignore_index_int32(ignore, reduction):
    x, t = nll_feeds((3, 4), 5, np.int32, ignore=ignore if ignore != 100 else None)
    m = node_model("NegativeLogLikelihoodLoss", {"x": x, "t": t}, initializers=[("w", np.abs(r(5)))],
                   reduction=reduction, ignore_index=ignore)
    check_model(m, {"x": x, "t": t})


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("shape", [(4,), (2, 3, 2)])
@pytest.mark.parametrize("weighted,ignore", [(False, None), (True, None), (True, 1), (False, -5)])
def test_softmax_cross_entropy(reduction, shape, weighted, ignore):
    c = 3
    x, t = nll_feeds(shape, c, ignore=ignore)
    attrs = {} if ignore is None else {"ignore_index": ignore}
    inits = [("w", np.abs(r(c)) + 0.1)] if weighted else []
    m = node_model("SoftmaxCrossEntropyLoss", {"x": x, "t": t}, n_outputs=2, initializers=inits,
                   reduction=reduction, **attrs)
    check_model(m, {"x": x, "t": t})


def test_softmax_cross_entropy_float64_single_output():
    x, t = nll_feeds((5, 2), 6)
    x = x.astype(np.float64)
    check_node("SoftmaxCrossEntropyLoss", {"x": x, "t": t}, reduction="sum")


def test_loss_float16_close_to_float32():
    x, t = nll_feeds((4, 3), 5)
    m16 = node_model("SoftmaxCrossEntropyLoss", {"x": x.astype(np.float16), "t": t}, reduction="none")
    m32 = node_model("SoftmaxCrossEntropyLoss", {"x": x, "t": t}, reduction="none")
    got = run(m16, {"x": x.astype(np.float16), "t": t})["y0"]
    ref = run(m32, {"x": x.astype(np.float16).astype(np.float32), "t": t})["y0"]
    assert got.dtype == np.float16
    np.testing.assert_allclose(got.astype(np.float32), ref, rtol=2e-3, atol=2e-3)


def test_loss_errors():
    x, t = nll_feeds((3,), 4)
    with pytest.raises(loadrun.ModelError, match="reduction"):
        loadrun.load(node_model("NegativeLogLikelihoodLoss", {"x": x, "t": t}, reduction="avg",
                                out_dtypes=[1]))
    with pytest.raises(loadrun.ModelError, match="target shape"):
        loadrun.load(node_model("NegativeLogLikelihoodLoss", {"x": x, "t": t[:2]}, out_dtypes=[1]))
    bad = t.copy()
    bad[0] = 7
    with pytest.raises(loadrun.InputError, match="outside"):
        run(node_model("NegativeLogLikelihoodLoss", {"x": x, "t": t}), {"x": x, "t": bad})


# ---------------------------------------------------------- normalisations

@pytest.mark.parametrize("shape", [(2, 3, 5), (1, 4, 3, 2), (2, 1, 1, 1), (1, 2, 2, 3, 2)])
def test_instance_norm(shape):
    c = shape[1]
    check_node("InstanceNormalization", {"x": r(*shape) * 3 + 1}, initializers=[("s", r(c)), ("b", r(c))],
               epsilon=1e-3)


@pytest.mark.parametrize("shape,groups", [((2, 4, 3), 2), ((1, 6, 2, 3), 3), ((2, 6, 2, 2), 1), ((1, 4, 5), 4)])
def test_group_norm(shape, groups):
    c = shape[1]
    check_node("GroupNormalization", {"x": r(*shape) * 2 - 1}, initializers=[("s", r(c)), ("b", r(c))],
               opset=21, num_groups=groups, epsilon=1e-4)


def test_group_norm_opset18_per_group_scale():
    x = r(2, 6, 3)
    check_node("GroupNormalization", {"x": x}, initializers=[("s", r(3)), ("b", r(3))], opset=18,
               num_groups=3)


def test_group_norm_errors():
    with pytest.raises(loadrun.ModelError, match="groups"):
        loadrun.load(node_model("GroupNormalization", {"x": r(1, 6, 2)}, initializers=[("s", r(6)), ("b", r(6))],
                                opset=21, num_groups=4, out_dtypes=[1]))
    with pytest.raises(loadrun.ModelError, match="scale"):
        loadrun.load(node_model("InstanceNormalization", {"x": r(1, 3, 2)},
                                initializers=[("s", r(2)), ("b", r(3))], out_dtypes=[1]))


@pytest.mark.parametrize("axes", [None, [0, 2, 3], [1], [2, 3], [-1]])
def test_mvn(axes):
    attrs = {} if axes is None else {"axes": axes}
    check_node("MeanVarianceNormalization", {"x": r(2, 3, 4, 5) * 2 + 1}, opset=13, **attrs)


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_lp_normalization(p, axis):
    x = r(3, 4, 5)
    x[0, 0, :] = 0
    x[:, 0, 0] = 0
    check_node("LpNormalization", {"x": x}, p=p, axis=axis)


def test_lp_normalization_bad_p():
    with pytest.raises(loadrun.ModelError, match="p must be"):
        loadrun.load(node_model("LpNormalization", {"x": r(2, 3)}, p=3, out_dtypes=[1]))


@pytest.mark.parametrize("size", [1, 3, 5])
def test_lrn(size):
    check_node("LRN", {"x": r(2, 6, 3, 3)}, size=size, alpha=2e-2, beta=0.6, bias=1.5)


def lrn_ref(x, size, alpha=1e-4, beta=0.75, bias=1.0):
    c = x.shape[1]
    sq = np.zeros_like(x, dtype=np.float64)
    for ch in range(c):
        lo, hi = max(0, ch - (size - 1) // 2), min(c - 1, ch + size // 2)
        sq[:, ch] = (x[:, lo:hi + 1].astype(np.float64) ** 2).sum(axis=1)
    return x / (bias + alpha / size * sq) ** beta


@pytest.mark.parametrize("shape,size,dt", [((1, 4, 5), 2, np.float32), ((2, 5, 2, 2), 4, np.float32),
                                           ((1, 5, 2, 2), 3, np.float64), ((1, 3, 2, 1, 2), 3, np.float32)])
def test_lrn_even_sizes_other_ranks_float64(shape, size, dt):
    # ONNX Runtime takes odd sizes, 4-D float32 only: NumPy is the reference here.
    x = r(*shape).astype(dt) * 3
    got = run(node_model("LRN", {"x": x}, size=size, alpha=0.1), {"x": x})["y0"]
    assert got.dtype == dt
    assert_close(got, lrn_ref(x, size, alpha=0.1).astype(dt), rtol=1e-5)


# --------------------------------------------------------------------- Det

@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 4, 4), (2, 1, 5, 5)])
def test_det(shape):
    check_node("Det", {"x": r(*shape)})


def test_det_singular_and_float64():
    # ONNX Runtime has no float64 Det: NumPy is the reference.
    x = np.concatenate([np.array([[[1, 2], [2, 4]], [[0, 1], [1, 0]]], np.float64), r(3, 2, 2, dtype=np.float64)])
    got = run(node_model("Det", {"x": x}), {"x": x})["y0"]
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, np.linalg.det(x), rtol=1e-12, atol=1e-12)
    assert got[0] == 0 and got[1] == -1


def test_det_bad_shape():
    with pytest.raises(loadrun.ModelError, match="M, M"):
        loadrun.load(node_model("Det", {"x": r(2, 3)}, out_dtypes=[1]))
