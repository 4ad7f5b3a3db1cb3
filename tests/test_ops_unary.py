"""Elementwise unary ops (unary.cpp, activation.cpp), BitShift, Shape and Size
against ONNX Runtime.

Tolerance: relative max error <= 1e-4 for float32/float64 (onnx_ref default),
1e-3 for float16 (inputs and outputs are rounded to 11-bit mantissas, and ORT
may compute some float16 ops in float16). IsNaN/IsInf, integer ops, Shape and
Size are compared exactly.
"""
import numpy as np
import onnx
import pytest
from onnx import helper

import loadrun
from onnx_ref import assert_close, check_model, check_node, make_model, node_model, ort_run

rng = np.random.default_rng(0)
F16_RTOL = 1e-3

SHAPES = [(), (1,), (7,), (1, 3, 1), (2, 5, 3)]


def values(shape, lo=-3.0, hi=3.0, dtype=np.float32, edges=()):
    """Random values in [lo, hi) with `edges` written over the first elements."""
    a = rng.uniform(lo, hi, size=shape).astype(np.float64)
    flat = a.reshape(-1)
    e = np.asarray(edges, dtype=np.float64)[: flat.size]
    flat[: e.size] = e
    return a.astype(dtype)


# op -> (domain lo, hi, edge points, extra attrs)
EDGES = [0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.5, -2.5, 1.5]
FLOAT_OPS = {
    # unary.cpp
    "Tanh": (-4, 4, EDGES, {}),
    "Erf": (-3, 3, EDGES, {}),
    "Exp": (-5, 5, EDGES, {}),
    "Log": (0.01, 10, [1.0, 0.5, 2.5], {}),
    "Sqrt": (0, 10, [0.0, 1.0, 0.25], {}),
    "Neg": (-3, 3, EDGES, {}),
    "Abs": (-3, 3, EDGES, {}),
    "Reciprocal": (0.1, 5, [1.0, 0.5, 2.5], {}),
    "Ceil": (-4, 4, EDGES + [0.49, -0.49, 3.0001], {}),
    "Floor": (-4, 4, EDGES + [0.49, -0.49, -3.0001], {}),
    "Round": (-4, 4, [0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.5, 0.49, -0.51, 0.0], {}),
    "Sign": (-3, 3, EDGES, {}),
    "Sin": (-6, 6, EDGES, {}),
    "Cos": (-6, 6, EDGES, {}),
    "Tan": (-1.4, 1.4, EDGES, {}),
    "Asin": (-1, 1, [0.0, 1.0, -1.0, 0.5, -0.5], {}),
    "Acos": (-1, 1, [0.0, 1.0, -1.0, 0.5, -0.5], {}),
    "Atan": (-10, 10, EDGES, {}),
    "Sinh": (-4, 4, EDGES, {}),
    "Cosh": (-4, 4, EDGES, {}),
    "Asinh": (-10, 10, EDGES, {}),
    "Acosh": (1, 10, [1.0, 1.5, 2.5], {}),
    "Atanh": (-0.99, 0.99, [0.0, 0.5, -0.5, -0.0], {}),
    # activation.cpp
    "Relu": (-3, 3, EDGES, {}),
    "LeakyRelu": (-3, 3, EDGES, {}),
    "Sigmoid": (-8, 8, EDGES, {}),
    "HardSigmoid": (-4, 4, EDGES + [2.5, -2.5, 3.0], {}),
    "HardSwish": (-4, 4, EDGES + [3.0, -3.0], {}),
    "Elu": (-3, 3, EDGES, {}),
    "Selu": (-3, 3, EDGES, {}),
    "Celu": (-3, 3, EDGES, {}),
    "Softplus": (-20, 20, EDGES + [30.0, -30.0], {}),
    "Softsign": (-5, 5, EDGES, {}),
    "Mish": (-6, 6, EDGES, {}),
    "ThresholdedRelu": (-3, 3, EDGES + [1.0, 1.0001], {}),
    "Shrink": (-3, 3, EDGES + [0.5, -0.5, 0.5001], {}),
}
OPSET = {"Gelu": 20, "Mish": 18}  # ops newer than the default opset 17

# ORT kernels for float16.
F16_OPS = ["Relu", "Neg", "Abs", "Ceil", "Floor", "Round", "Sign", "Exp", "Log", "Sqrt",
           "Sigmoid", "Tanh", "LeakyRelu", "Reciprocal", "Erf", "HardSigmoid", "Cos", "Sin"]


def ort_has(op, dtype, opset=None, **attrs):
    x = np.zeros((2,), dtype)
    opset = opset or OPSET.get(op, 17)
    try:
        ort_run(node_model(op, {"x": x}, opset=opset, **attrs), {"x": x})
        return True
    except Exception:
        return False


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("op", sorted(FLOAT_OPS))
def test_float32(op, shape):
    lo, hi, edges, attrs = FLOAT_OPS[op]
    check_node(op, {"x": values(shape, lo, hi, np.float32, edges)}, opset=OPSET.get(op, 17), **attrs)


def check_f64(op, x, opset, **attrs):
    """float64 against ORT's float64 kernel, or, where ORT has none, against ORT's
    float32 kernel on the same values (float32 rounding is far below 1e-4)."""
    if ort_has(op, np.float64, opset=opset, **attrs):
        return check_node(op, {"x": x}, opset=opset, **attrs)
    x32 = x.astype(np.float32)
    ref = ort_run(node_model(op, {"x": x32}, opset=opset, **attrs), {"x": x32})["y0"]
    got = loadrun.load(node_model(op, {"x": x}, opset=opset, **attrs)).run({"x": x})["y0"]
    assert got.dtype == np.float64
    assert_close(got.astype(np.float32), ref, name=op)
    return got


@pytest.mark.parametrize("op", sorted(FLOAT_OPS))
def test_float64(op):
    lo, hi, edges, attrs = FLOAT_OPS[op]
    check_f64(op, values((3, 7), lo, hi, np.float64, edges), OPSET.get(op, 17), **attrs)


@pytest.mark.parametrize("op", F16_OPS)
def test_float16(op):
    if not ort_has(op, np.float16):
        pytest.skip(f"ORT has no float16 {op}")
    lo, hi, edges, attrs = FLOAT_OPS[op]
    check_node(op, {"x": values((5, 3), lo, hi, np.float16, edges)}, rtol=F16_RTOL, **attrs)


def test_float16_all_ops_against_float32_math():
    """float16 for ops ORT lacks in float16: compare with numpy on the same (rounded) input."""
    x = values((4, 5), -0.9, 0.9, np.float16, [0.0, 0.5, -0.5])
    for op, fn in [("Tan", np.tan), ("Atan", np.arctan), ("Asinh", np.arcsinh),
                   ("Softsign", lambda v: v / (1 + np.abs(v))), ("Atanh", np.arctanh)]:
        got = loadrun.load(node_model(op, {"x": x})).run({"x": x})["y0"]
        assert got.dtype == np.float16
        ref = fn(x.astype(np.float32))
        err = np.max(np.abs(got.astype(np.float32) - ref)) / np.max(np.abs(ref))
        assert err <= F16_RTOL, (op, err)


def test_round_half_to_even_exact():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 4.5, 0.4999999, -0.0], np.float32)
    got = check_node("Round", {"x": x})["y0"]
    np.testing.assert_array_equal(got, [0, 2, 2, -0, -2, -2, 4, 4, 0, -0])


@pytest.mark.parametrize("op", ["Ceil", "Floor", "Round", "Sign", "Abs", "Neg", "Relu", "Sin",
                                "Exp", "Sigmoid", "Softsign", "Atan", "Tanh", "Elu"])
def test_nan_inf(op):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -1.5, 2.5], np.float32)
    lo, hi, edges, attrs = FLOAT_OPS[op]
    model = node_model(op, {"x": x}, **attrs)
    ref = ort_run(model, {"x": x})["y0"]
    got = loadrun.load(model).run({"x": x})["y0"]
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    inf = np.isinf(ref)
    np.testing.assert_array_equal(got[inf], ref[inf])
    fin = np.isfinite(ref)
    assert_close(got[fin], ref[fin], name=op)


# -- attributes -----------------------------------------------------------

@pytest.mark.parametrize("op,attrs", [
    ("LeakyRelu", {"alpha": 0.3}),
    ("HardSigmoid", {"alpha": 0.1, "beta": 0.6}),
    ("Elu", {"alpha": 0.7}),
    ("Selu", {"alpha": 1.2, "gamma": 0.8}),
    ("Celu", {"alpha": 2.5}),
    ("ThresholdedRelu", {"alpha": -0.5}),
    ("Shrink", {"bias": 0.3, "lambd": 1.2}),
    ("Shrink", {"bias": -1.0, "lambd": 0.0}),
])
def test_attrs(op, attrs):
    check_node(op, {"x": values((3, 1, 5), -3, 3, np.float32, EDGES + [1.2, -1.2])}, **attrs)


@pytest.mark.parametrize("approximate", [None, "none", "tanh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (1,), (3, 7)], ids=str)
def test_gelu(approximate, dtype, shape):
    kw = {} if approximate is None else {"approximate": approximate}
    x = values(shape, -5, 5, dtype, EDGES)
    if dtype == np.float64:
        check_f64("Gelu", x, 20, **kw)
    else:
        check_node("Gelu", {"x": x}, opset=20, **kw)


def test_gelu_bad_approximate():
    x = values((3,))
    with pytest.raises(loadrun.ModelError):
        loadrun.load(node_model("Gelu", {"x": x}, opset=20, out_dtypes=[onnx.TensorProto.FLOAT],
                                approximate="fast"))


def test_celu_alpha_zero():
    x = values((3,))
    with pytest.raises(loadrun.ModelError):
        loadrun.load(node_model("Celu", {"x": x}, out_dtypes=[onnx.TensorProto.FLOAT], alpha=0.0))


# -- integer inputs ------------------------------------------------------------

INT_TYPES = [np.int8, np.int16, np.int32, np.int64]


@pytest.mark.parametrize("dtype", INT_TYPES)
@pytest.mark.parametrize("op", ["Sign", "Abs", "Neg", "Relu"])
def test_signed_ints(op, dtype):
    info = np.iinfo(dtype)
    x = np.array([0, 1, -1, 5, -7, info.max, info.min + 1, 3], dtype).reshape(2, 1, 4)
    if not ort_has(op, dtype):
        # ORT lacks some integer kernels; check against numpy instead.
        ref = {"Sign": np.sign, "Abs": np.abs, "Neg": np.negative,
               "Relu": lambda v: np.maximum(v, 0)}[op](x)
        got = loadrun.load(node_model(op, {"x": x})).run({"x": x})["y0"]
        assert got.dtype == ref.dtype
        np.testing.assert_array_equal(got, ref)
        return
    check_node(op, {"x": x})


@pytest.mark.parametrize("dtype", [np.uint8, np.uint32, np.uint64])
def test_sign_abs_unsigned(dtype):
    x = np.array([0, 1, 7, np.iinfo(dtype).max], dtype)
    check_node("Sign", {"x": x})
    check_node("Abs", {"x": x})


def test_int_unsupported_for_float_ops():
    x = np.array([1, 2], np.int32)
    with pytest.raises(loadrun.UnsupportedError):
        m = node_model("Sin", {"x": x}, out_dtypes=[onnx.TensorProto.INT32])
        loadrun.load(m).run({"x": x})


# -- IsNaN / IsInf ---------------------------------------------------------------

SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -6e4, 6e4]  # finite in float16 too


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("shape", [(), (8,), (2, 1, 4)], ids=str)
def test_isnan(dtype, shape):
    if dtype == np.float16 and not ort_has("IsNaN", dtype, opset=20):
        pytest.skip("ORT has no float16 IsNaN")
    n = int(np.prod(shape))
    x = np.resize(np.array(SPECIALS, dtype), n).reshape(shape)
    got = check_node("IsNaN", {"x": x}, opset=20)["y0"]
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(got, np.isnan(x))


@pytest.mark.parametrize("neg,pos", [(None, None), (1, 1), (0, 1), (1, 0), (0, 0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_isinf(neg, pos, dtype):
    kw = {}
    if neg is not None:
        kw = {"detect_negative": neg, "detect_positive": pos}
    x = np.array(SPECIALS * 2, dtype).reshape(2, 8)
    got = check_node("IsInf", {"x": x}, **kw)["y0"]
    assert got.dtype == np.bool_
    want = (np.isneginf(x) & bool(1 if neg is None else neg)) | \
           (np.isposinf(x) & bool(1 if pos is None else pos))
    np.testing.assert_array_equal(got, want)


def test_isinf_bad_attr():
    x = values((3,))
    with pytest.raises(loadrun.ModelError):
        loadrun.load(node_model("IsInf", {"x": x}, out_dtypes=[onnx.TensorProto.BOOL],
                                detect_negative=2))


# -- BitShift ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.uint64])
@pytest.mark.parametrize("direction", ["LEFT", "RIGHT"])
@pytest.mark.parametrize("sa,sb", [((), ()), ((7,), (7,)), ((2, 1, 5), (3, 1)), ((1,), (4, 3)),
                                   ((3, 4), ())])
def test_bitshift(dtype, direction, sa, sb):
    bits = np.dtype(dtype).itemsize * 8
    a = rng.integers(0, np.iinfo(dtype).max, size=sa, dtype=dtype, endpoint=True)
    b = rng.integers(0, bits, size=sb, dtype=dtype)  # amounts < width: defined in ORT too
    if dtype == np.uint16:  # ORT has no uint16 kernel: numpy is the reference
        got = loadrun.load(node_model("BitShift", {"a": a, "b": b}, direction=direction)).run(
            {"a": a, "b": b})["y0"]
        want = np.left_shift(a, b) if direction == "LEFT" else np.right_shift(a, b)
        assert got.dtype == np.uint16
        np.testing.assert_array_equal(got, want)
        return
    check_node("BitShift", {"a": a, "b": b}, direction=direction)


def test_bitshift_values():
    a = np.array([1, 255, 128, 3], np.uint8)
    b = np.array([7, 1, 7, 0], np.uint8)
    got = check_node("BitShift", {"a": a, "b": b}, direction="LEFT")["y0"]
    np.testing.assert_array_equal(got, [128, 254, 0, 3])
    got = check_node("BitShift", {"a": a, "b": b}, direction="RIGHT")["y0"]
    np.testing.assert_array_equal(got, [0, 127, 1, 3])


def test_bitshift_errors():
    a = np.array([1, 2], np.uint8)
    with pytest.raises(loadrun.ModelError):
        loadrun.load(node_model("BitShift", {"a": a, "b": a}, out_dtypes=[onnx.TensorProto.UINT8],
                                direction="UP"))
    with pytest.raises(loadrun.ModelError):
        loadrun.load(node_model("BitShift", {"a": a, "b": a}, out_dtypes=[onnx.TensorProto.UINT8]))
    # Signed integers are valid since opset 28 (tests/test_ops_misc.py); floats are not.
    f = np.array([1, 2], np.float32)
    with pytest.raises(loadrun.ModelError, match="integers"):
        loadrun.load(node_model("BitShift", {"a": f, "b": f}, out_dtypes=[onnx.TensorProto.FLOAT],
                                direction="LEFT"))


# -- Shape / Size -------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(), (1,), (2, 1, 3, 5)], ids=str)
@pytest.mark.parametrize("start,end", [(None, None), (1, None), (-1, None), (0, -1), (-3, -1),
                                       (1, 3), (2, 1), (-10, 10), (5, None), (None, -10)])
def test_shape(shape, start, end):
    kw = {}
    if start is not None:
        kw["start"] = start
    if end is not None:
        kw["end"] = end
    x = values(shape)
    got = check_node("Shape", {"x": x}, opset=15, **kw)["y0"]
    assert got.dtype == np.int64
    r = len(shape)
    s = 0 if start is None else start
    e = r if end is None else end
    assert list(got) == list(shape[slice(s, e)])


def test_shape_older_opset():
    check_node("Shape", {"x": values((3, 1, 2))}, opset=13)


@pytest.mark.parametrize("shape", [(), (1,), (0, 3), (2, 1, 3, 5)], ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_size(shape, dtype):
    x = np.zeros(shape, dtype)
    got = check_node("Size", {"x": x})["y0"]
    assert got.dtype == np.int64 and got.shape == () and int(got) == int(np.prod(shape))


def test_shape_feeds_arithmetic():
    """Shape -> Cast -> Sqrt: a folded shape value goes through a unary op."""
    nodes = [helper.make_node("Shape", ["x"], ["s"], start=1),
             helper.make_node("Cast", ["s"], ["f"], to=onnx.TensorProto.FLOAT),
             helper.make_node("Sqrt", ["f"], ["y"])]
    m = make_model(nodes, [("x", np.float32, [2, 9, 4])], [("y", np.float32, None)], opset=15)
    got = check_model(m, {"x": values((2, 9, 4))})
    np.testing.assert_allclose(got["y"], [3.0, 2.0])
