"""Elementwise families (binary, variadic, compare/logic, Where, Clip, Cast)
against ONNX Runtime."""
import numpy as np
import pytest
from onnx import TensorProto, helper

import loadrun
from onnx_ref import check_model, check_node, make_model, node_model, ort_run

rng = np.random.default_rng(0)

# (shape of A, shape of B): broadcasting both ways, scalars, size-1 dims, equal shapes.
PATTERNS = [
    ((3, 1, 5), (4, 1)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((), ()),
    ((1, 4, 1), (3, 1, 6)),
    ((2, 3, 4), (2, 3, 4)),
    ((7,), (1,)),
    ((2, 1, 3, 1), (1, 4, 1, 5)),
]


def fl(shape, dtype=np.float32):
    return np.asarray(rng.standard_normal(shape)).astype(dtype)


def bools(shape):
    return np.asarray(rng.random(shape) > 0.5)


def away_from_zero(shape, dtype=np.float32):
    """Values in +-[0.5, 2.5): safe divisors."""
    v = rng.uniform(0.5, 2.5, shape) * rng.choice([-1, 1], shape)
    return np.asarray(v).astype(dtype)


def ints(shape, dtype=np.int32, lo=-20, hi=20, nonzero=False):
    v = rng.integers(lo, hi, shape)
    if nonzero:
        v = np.where(v == 0, 3, v)
    return np.asarray(v).astype(dtype)


def ids(p):
    return "x".join(map(str, p)) or "scalar"


# --- binary arithmetic -----------------------------------------------------

@pytest.mark.parametrize("sa,sb", PATTERNS, ids=[f"{ids(a)}-{ids(b)}" for a, b in PATTERNS])
@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
def test_arith_float32_broadcast(op, sa, sb):
    check_node(op, {"a": fl(sa), "b": away_from_zero(sb)})


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
def test_arith_float64(op):
    check_node(op, {"a": fl((3, 1, 5), np.float64), "b": away_from_zero((4, 1), np.float64)})


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("sa,sb", [((3, 1, 5), (4, 1)), ((), (6,)), ((2, 3), (2, 3))])
def test_arith_int(op, dtype, sa, sb):
    check_node(op, {"a": ints(sa, dtype), "b": ints(sb, dtype, nonzero=True)})


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint16, np.uint32, np.uint64])
@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
def test_arith_small_ints(op, dtype):
    lo = 0 if np.dtype(dtype).kind == "u" else -10
    check_node(op, {"a": ints((4, 3), dtype, lo, 10), "b": ints((3,), dtype, 1, 10)})


def test_int_div_truncates_toward_zero():
    a = np.array([-7, 7, -7, 7, 0, -1, 1, -9], np.int64)
    b = np.array([2, -2, -2, 2, 3, 2, -2, 4], np.int64)
    got = check_node("Div", {"a": a, "b": b})["y0"]
    np.testing.assert_array_equal(got, [-3, -3, 3, 3, 0, 0, 0, -2])


def test_int_overflow_wraps():
    a = np.array([np.iinfo(np.int32).max, np.iinfo(np.int32).min], np.int32)
    b = np.array([1, -1], np.int32)
    got = loadrun.load(node_model("Add", {"a": a, "b": b})).run({"a": a, "b": b})["y0"]
    np.testing.assert_array_equal(got, [np.iinfo(np.int32).min, np.iinfo(np.int32).max])


@pytest.mark.parametrize("half_op", ["Add", "Sub", "Mul", "Div"])
def test_arith_float16(half_op):
    check_node(half_op, {"a": fl((2, 3, 4), np.float16), "b": away_from_zero((3, 1), np.float16)},
               rtol=1e-3)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.int8])
@pytest.mark.parametrize("fmod", [0, 1])
def test_mod_int(dtype, fmod):
    a = np.array([-7, 7, -7, 7, 0, -1, 1, -9, 9, 6], dtype)
    b = np.array([2, -2, -2, 2, 3, 5, -5, 4, -4, 3], dtype)
    check_node("Mod", {"a": a, "b": b}, fmod=fmod)
    check_node("Mod", {"a": ints((3, 1, 4), dtype), "b": ints((5, 1), dtype, nonzero=True)},
               fmod=fmod)


def test_mod_int_sign_rules():
    a = np.array([-7, 7], np.int32)
    b = np.array([3, -3], np.int32)
    np.testing.assert_array_equal(check_node("Mod", {"a": a, "b": b}, fmod=0)["y0"], [2, -2])
    np.testing.assert_array_equal(check_node("Mod", {"a": a, "b": b}, fmod=1)["y0"], [-1, 1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mod_float_fmod(dtype):
    check_node("Mod", {"a": fl((3, 1, 5), dtype) * 10, "b": away_from_zero((4, 1), dtype)}, fmod=1)


def test_mod_bad_fmod_is_model_error():
    # fmod=0 on floats is valid since opset 28 (tests/test_ops_misc.py covers it).
    a = fl((3,))
    with pytest.raises(loadrun.ModelError, match="fmod"):
        loadrun.load(node_model("Mod", {"a": a, "b": a}, fmod=2))


def test_mixed_dtypes_is_model_error():
    with pytest.raises(loadrun.ModelError, match="same dtype"):
        loadrun.load(node_model("Add", {"a": fl((3,)), "b": ints((3,), np.int64)},
                                out_dtypes=[TensorProto.FLOAT]))


def test_bad_broadcast_is_model_error():
    with pytest.raises(loadrun.ModelError, match="broadcast"):
        loadrun.load(node_model("Mul", {"a": fl((3, 4)), "b": fl((5,))},
                                out_dtypes=[TensorProto.FLOAT]))


@pytest.mark.parametrize("sa,sb", [((3, 1, 5), (4, 1)), ((), (2, 3)), ((2, 3), ())])
def test_pow_float(sa, sb):
    a = np.asarray(np.abs(fl(sa)) + 0.1, np.float32)
    check_node("Pow", {"a": a, "b": fl(sb)})


@pytest.mark.parametrize("edt", [np.int64, np.int32, np.float64])
def test_pow_float_base_other_exponent(edt):
    a = fl((3, 4))
    e = np.array([0, 1, 2, 3], edt)
    got = check_node("Pow", {"a": a, "b": e})["y0"]
    assert got.dtype == np.float32


@pytest.mark.parametrize("dtype,edt", [(np.int32, np.int32), (np.int64, np.int64), (np.int64, np.int32),
                                       (np.int32, np.float32)])
def test_pow_int_base(dtype, edt):
    a = ints((2, 5), dtype, -5, 6)
    e = np.array([0, 1, 2, 3, 4], edt)
    check_node("Pow", {"a": a, "b": e})


@pytest.mark.parametrize("xs,ss", [((2, 3, 4, 5), (3, 1, 1)), ((2, 3, 4, 5), (1,)), ((2, 3, 4, 5), ()),
                                   ((4, 6), (4, 6)), ((2, 3, 4), (4,))])
def test_prelu(xs, ss):
    check_node("PRelu", {"x": fl(xs), "slope": fl(ss)})


def test_prelu_int64():
    check_node("PRelu", {"x": ints((3, 4), np.int64), "slope": ints((4,), np.int64)}, opset=16)


def test_prelu_slope_must_broadcast_to_x():
    with pytest.raises(loadrun.ModelError, match="slope"):
        loadrun.load(node_model("PRelu", {"x": fl((3, 1)), "slope": fl((3, 4))},
                                out_dtypes=[TensorProto.FLOAT]))


# --- variadic --------------------------------------------------------------

VAR_SHAPES = [
    [(3, 4)],
    [(3, 1, 5), (4, 1)],
    [(2, 3), (), (1, 3)],
    [(1, 4, 1), (3, 1, 6), (6,), (3, 4, 6)],
]


@pytest.mark.parametrize("shapes", VAR_SHAPES, ids=lambda s: "+".join(ids(x) for x in s))
@pytest.mark.parametrize("op", ["Max", "Min", "Sum", "Mean"])
def test_variadic_float(op, shapes):
    check_node(op, {f"x{i}": fl(s) for i, s in enumerate(shapes)})


@pytest.mark.parametrize("op", ["Sum", "Max", "Min"])
def test_variadic_float64(op):
    check_node(op, {"a": fl((3, 1), np.float64), "b": fl((4,), np.float64)})


def test_mean_float64():
    # ORT has no float64 Mean kernel: compare with NumPy.
    a, b = fl((3, 1), np.float64), fl((4,), np.float64)
    got = loadrun.load(node_model("Mean", {"a": a, "b": b})).run({"a": a, "b": b})["y0"]
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, (a + b) / 2, rtol=1e-12)


def test_variadic_float16():
    check_node("Sum", {"a": fl((3, 1), np.float16), "b": fl((4,), np.float16)}, rtol=1e-3)
    check_node("Max", {"a": fl((3, 1), np.float16), "b": fl((4,), np.float16)})


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("op", ["Max", "Min"])
def test_variadic_int(op, dtype):
    check_node(op, {"a": ints((3, 1, 5), dtype), "b": ints((4, 1), dtype), "c": ints((5,), dtype)})


@pytest.mark.parametrize("op", ["Max", "Min"])
def test_max_min_nan_propagates(op):
    nan = np.nan
    a = np.array([1, nan, 3, nan, -2], np.float32)
    b = np.array([nan, 2, 1, nan, -5], np.float32)
    got = check_node(op, {"a": a, "b": b})["y0"]
    assert np.isnan(got[:2]).all() and np.isnan(got[3])
    check_node(op, {"a": a})
    check_node(op, {"a": a, "b": b, "c": np.array(0, np.float32)})


def test_variadic_mixed_dtypes_is_model_error():
    with pytest.raises(loadrun.ModelError, match="one dtype"):
        loadrun.load(node_model("Max", {"a": fl((3,)), "b": fl((3,), np.float64)},
                                out_dtypes=[TensorProto.FLOAT]))


# --- compare and logic -----------------------------------------------------

CMP = ["Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual"]


@pytest.mark.parametrize("sa,sb", PATTERNS[:5], ids=[f"{ids(a)}-{ids(b)}" for a, b in PATTERNS[:5]])
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
@pytest.mark.parametrize("op", CMP)
def test_compare(op, dtype, sa, sb):
    # Small integer values so that Equal and the *OrEqual forms see ties.
    a, b = ints(sa, np.int64, -3, 3).astype(dtype), ints(sb, np.int64, -3, 3).astype(dtype)
    got = check_node(op, {"a": a, "b": b})["y0"]
    assert got.dtype == np.bool_


@pytest.mark.parametrize("dtype", [np.int32, np.float64, np.uint8, np.float16, np.int8])
@pytest.mark.parametrize("op", CMP)
def test_compare_other_dtypes(op, dtype):
    a, b = ints((3, 4), np.int64, 0, 4).astype(dtype), ints((4,), np.int64, 0, 4).astype(dtype)
    check_node(op, {"a": a, "b": b})


def test_compare_nan_is_false():
    a = np.array([np.nan, 1, np.nan], np.float32)
    b = np.array([np.nan, np.nan, 1], np.float32)
    for op in CMP:
        got = check_node(op, {"a": a, "b": b})["y0"]
        assert not got.any(), op


def test_equal_bool():
    check_node("Equal", {"a": bools((3, 1, 4)), "b": bools((5, 1))})


@pytest.mark.parametrize("op", ["And", "Or", "Xor"])
@pytest.mark.parametrize("sa,sb", [((3, 1, 4), (5, 1)), ((), (4,)), ((2, 3), (2, 3))])
def test_logic(op, sa, sb):
    check_node(op, {"a": bools(sa), "b": bools(sb)})


def test_not():
    check_node("Not", {"a": bools((3, 5))})


def test_logic_requires_bool():
    with pytest.raises(loadrun.ModelError, match="bool"):
        loadrun.load(node_model("And", {"a": fl((3,)), "b": fl((3,))}, out_dtypes=[TensorProto.BOOL]))


# --- Where -----------------------------------------------------------------

@pytest.mark.parametrize("sc,sx,sy", [((2, 3), (2, 3), (2, 3)), ((3, 1), (1, 4), ()), ((4,), (2, 1, 4), (3, 1)),
                                      ((), (2, 2), (2, 2)), ((1, 5), (3, 1), (1,))])
def test_where_broadcast(sc, sx, sy):
    check_node("Where", {"c": bools(sc), "x": fl(sx), "y": fl(sy)})


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float64, np.float16, np.uint8, np.bool_, np.int16])
def test_where_dtypes(dtype):
    x = ints((3, 4), np.int64, 0, 2).astype(dtype)
    y = ints((4,), np.int64, 2, 9).astype(dtype) if dtype != np.bool_ else np.zeros(4, bool)
    c = bools((3, 1))
    if dtype in (np.bool_, np.int16):  # ORT has no kernel for these: compare with NumPy
        got = loadrun.load(node_model("Where", {"c": c, "x": x, "y": y})).run({"c": c, "x": x, "y": y})
        assert got["y0"].dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got["y0"], np.where(c, x, y))
    else:
        check_node("Where", {"c": c, "x": x, "y": y})


def test_where_condition_must_be_bool():
    with pytest.raises(loadrun.ModelError, match="bool"):
        loadrun.load(node_model("Where", {"c": fl((3,)), "x": fl((3,)), "y": fl((3,))},
                                out_dtypes=[TensorProto.FLOAT]))


# --- Clip ------------------------------------------------------------------

def clip_model(x, lo, hi, opset=13):
    """Clip with optional bound inputs (None: absent); bounds are initializers."""
    inits, names = [], ["x"]
    for name, v in (("lo", lo), ("hi", hi)):
        if v is None:
            names.append("")
        else:
            inits.append((name, np.array(v, dtype=x.dtype)))
            names.append(name)
    while names[-1] == "":
        names.pop()
    node = helper.make_node("Clip", names, ["y"])
    return make_model([node], [("x", x.dtype, list(x.shape))], [("y", x.dtype, None)], inits, opset)


@pytest.mark.parametrize("lo,hi", [(-0.5, 0.7), (-0.5, None), (None, 0.7), (None, None), (0.3, -0.2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_inputs(dtype, lo, hi):
    x = fl((3, 4, 5), dtype)
    check_model(clip_model(x, lo, hi), {"x": x})


def test_clip_float16():
    x = fl((3, 4, 5), np.float16)
    check_model(clip_model(x, -0.5, 0.75), {"x": x}, rtol=1e-3)


@pytest.mark.parametrize("lo,hi", [(-5, 7), (-5, None), (None, 7), (None, None)])
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.int8])
def test_clip_int(dtype, lo, hi):
    if np.dtype(dtype).kind == "u":
        lo = None if lo is None else 5
    x = ints((4, 6), dtype, 0 if np.dtype(dtype).kind == "u" else -20, 20)
    check_model(clip_model(x, lo, hi), {"x": x})


def test_clip_keeps_nan():
    x = np.array([np.nan, -5, 5, 0.25], np.float32)
    got = check_model(clip_model(x, -1, 1), {"x": x})["y"]
    assert np.isnan(got[0])


@pytest.mark.parametrize("attrs", [{"min": -0.5, "max": 0.6}, {"min": 0.1}, {"max": 0.2}, {}])
@pytest.mark.parametrize("opset", [7, 10])  # 6-10; loadrun starts at 7
def test_clip_attribute_form(opset, attrs):
    x = fl((2, 3, 4))
    node = helper.make_node("Clip", ["x"], ["y"], **attrs)
    m = make_model([node], [("x", np.float32, [2, 3, 4])], [("y", np.float32, None)], opset=opset)
    check_model(m, {"x": x})


def test_clip_attribute_form_float64_converts_bounds():
    # ORT has no float64 Clip-6 kernel; the expected values come from NumPy.
    x = fl((3, 5), np.float64) * 3
    node = helper.make_node("Clip", ["x"], ["y"], min=-1.5, max=2.0)
    m = make_model([node], [("x", np.float64, [3, 5])], [("y", np.float64, None)], opset=9)
    got = loadrun.load(m).run({"x": x})["y"]
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, np.clip(x, -1.5, 2.0))


def test_clip_bound_must_be_scalar_and_same_dtype():
    node = helper.make_node("Clip", ["x", "lo"], ["y"])
    m = make_model([node], [("x", np.float32, [3, 4])], [("y", np.float32, None)],
                   [("lo", np.zeros(2, np.float32))])
    with pytest.raises(loadrun.ModelError, match="scalar"):
        loadrun.load(m)
    m = make_model([node], [("x", np.int32, [3, 4])], [("y", np.int32, None)],
                   [("lo", np.zeros((), np.int64))])
    with pytest.raises(loadrun.ModelError, match="dtype"):
        loadrun.load(m)


# --- Cast ------------------------------------------------------------------

ALL = [np.float32, np.float64, np.float16, np.int8, np.uint8, np.int16, np.uint16, np.int32,
       np.uint32, np.int64, np.uint64, np.bool_]
ONNX_OF = {np.dtype(d): helper.np_dtype_to_tensor_dtype(np.dtype(d)) for d in ALL}


def cast_source(dtype):
    """Values every target can hold: 0..100 (fractions for float sources), zeros included."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random((3, 7)) > 0.5
    v = rng.uniform(0, 100, (3, 7))
    v[0, :3] = 0
    if dtype.kind != "f":
        v = np.floor(v)
    return v.astype(dtype)


@pytest.mark.parametrize("dst", ALL, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("src", ALL, ids=lambda d: np.dtype(d).name)
def test_cast_matrix(src, dst):
    x = cast_source(src)
    got = check_node("Cast", {"x": x}, to=ONNX_OF[np.dtype(dst)],
                     rtol=1e-3 if np.float16 in (src, dst) else 1e-4)["y0"]
    assert got.dtype == np.dtype(dst)


@pytest.mark.parametrize("dst", [np.int32, np.int64, np.int8, np.int16])
@pytest.mark.parametrize("src", [np.float32, np.float64, np.float16])
def test_cast_float_to_int_truncates(src, dst):
    x = np.array([-2.9, -2.5, -1.1, -0.5, 0, 0.5, 1.9, 2.5, 99.99, -99.99], src)
    got = check_node("Cast", {"x": x}, to=ONNX_OF[np.dtype(dst)])["y0"]
    np.testing.assert_array_equal(got, np.trunc(x.astype(np.float64)).astype(dst))


@pytest.mark.parametrize("src,dst", [(np.int32, np.uint8), (np.int64, np.int32), (np.int64, np.uint32),
                                     (np.int32, np.int8), (np.uint16, np.int16)])
def test_cast_int_narrowing_wraps(src, dst):
    info = np.iinfo(src)
    x = np.array([info.max, info.min, 300, 255, 256, 128, 127] + ([-1, -129] if info.min < 0 else []),
                 src)
    check_node("Cast", {"x": x}, to=ONNX_OF[np.dtype(dst)])


def test_cast_to_bool_nonzero():
    x = np.array([0.0, -0.0, 1e-30, -3, np.nan, np.inf], np.float32)
    got = check_node("Cast", {"x": x}, to=TensorProto.BOOL)["y0"]
    np.testing.assert_array_equal(got, [False, False, True, True, True, True])


def test_cast_bool_to_float():
    x = np.array([[True, False, True]])
    got = check_node("Cast", {"x": x}, to=TensorProto.FLOAT)["y0"]
    np.testing.assert_array_equal(got, [[1.0, 0.0, 1.0]])


def test_cast_float16_round_trip():
    x = (fl((4, 9)) * 100).astype(np.float32)
    x[0, :3] = [70000.0, 1e-6, -3e-5]  # overflow to inf, subnormals
    x[1, :2] = [65519.0, 65520.0]  # the last value that rounds down, the first that overflows
    nodes = [helper.make_node("Cast", ["x"], ["h"], to=TensorProto.FLOAT16),
             helper.make_node("Cast", ["h"], ["y"], to=TensorProto.FLOAT)]
    m = make_model(nodes, [("x", np.float32, [4, 9])], [("y", np.float32, None)])
    with np.errstate(over="ignore"):
        ref = x.astype(np.float16).astype(np.float32)
    got = loadrun.load(m).run({"x": x})["y"]
    np.testing.assert_array_equal(got, ref)
    x[0, 0] = x[1, 1] = 0  # ORT's outputs (with no inf, which assert_close cannot compare)
    check_model(m, {"x": x})


@pytest.mark.parametrize("to", [TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.FLOAT])
@pytest.mark.parametrize("src", [np.float32, np.float64, np.float16])
def test_cast_nan_inf_float_types(src, to):
    x = np.array([np.nan, np.inf, -np.inf, 0.5, -0.0], src)
    m = node_model("Cast", {"x": x}, to=to)
    got = loadrun.load(m).run({"x": x})["y0"]
    ref = ort_run(m, {"x": x})["y0"]
    assert got.dtype == ref.dtype
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(ref))


@pytest.mark.parametrize("to,err,name", [(TensorProto.STRING, loadrun.UnsupportedError, "STRING"),
                                         (TensorProto.FLOAT6E2M3, loadrun.UnsupportedError, "FLOAT6E2M3"),
                                         (99, loadrun.ModelError, "99")])
def test_cast_unsupported_target(to, err, name):
    node = helper.make_node("Cast", ["x"], ["y"], to=to)
    m = make_model([node], [("x", np.float32, [2])], [("y", np.float32, None)])
    with pytest.raises(err, match=name):
        loadrun.load(m)


@pytest.mark.parametrize("src,like", [(np.float32, np.int64), (np.int64, np.float32), (np.float32, np.float16),
                                      (np.int32, np.bool_)])
def test_castlike(src, like):
    x = cast_source(src)
    got = check_node("CastLike", {"x": x, "t": np.zeros((1,), like)}, opset=15,
                     rtol=1e-3 if np.float16 in (src, like) else 1e-4)["y0"]
    assert got.dtype == np.dtype(like)


# --- shape arithmetic ------------------------------------------------------

def test_shape_arithmetic_int64_chain_folds():
    """Shape -> Mul/Div/Add/Sub (int64) -> output; everything folds at compile time."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Mul", ["s", "two"], ["m"]),
        helper.make_node("Div", ["m", "three"], ["d"]),
        helper.make_node("Sub", ["d", "one"], ["e"]),
        helper.make_node("Add", ["e", "s"], ["y"]),
        helper.make_node("Cast", ["y"], ["yf"], to=TensorProto.FLOAT),
        helper.make_node("Equal", ["s", "three"], ["q"]),
        helper.make_node("Where", ["q", "one", "s"], ["w"]),
        helper.make_node("Relu", ["x"], ["r"]),
    ]
    m = make_model(nodes, [("x", np.float32, [2, 3, 7, 1])],
                   [("y", np.int64, None), ("yf", np.float32, None), ("w", np.int64, None),
                    ("r", np.float32, None)],
                   [("two", np.array(2, np.int64)), ("three", np.array([3], np.int64)),
                    ("one", np.array(1, np.int64))])
    x = fl((2, 3, 7, 1))
    got = check_model(m, {"x": x})
    s = np.array(x.shape)
    np.testing.assert_array_equal(got["y"], (s * 2) // 3 - 1 + s)
    # Only Relu is left to run; the integer chain was folded.
    steps = loadrun.load(m).steps()
    assert len(steps) == 1, steps


HAVE_GATHER_RESHAPE = {"Gather", "Reshape"} <= {t for d, t, _ in loadrun.supported_ops() if d == ""}


@pytest.mark.skipif(not HAVE_GATHER_RESHAPE, reason="Gather/Reshape are not in this build")
def test_shape_gather_mul_reshape_chain():
    """The exporters' flatten idiom: Reshape(x, [N, C*H*W]) with the shape computed in int64."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "i0"], ["n"], axis=0),
        helper.make_node("Gather", ["s", "i1"], ["c"], axis=0),
        helper.make_node("Gather", ["s", "i2"], ["h"], axis=0),
        helper.make_node("Gather", ["s", "i3"], ["w"], axis=0),
        helper.make_node("Mul", ["c", "h"], ["ch"]),
        helper.make_node("Mul", ["ch", "w"], ["chw"]),
        helper.make_node("Mul", ["n", "e0"], ["a0"]),  # [n, 0]
        helper.make_node("Mul", ["chw", "e1"], ["a1"]),  # [0, chw]
        helper.make_node("Add", ["a0", "a1"], ["shp"]),
        helper.make_node("Reshape", ["x", "shp"], ["y"]),
    ]
    m = make_model(nodes, [("x", np.float32, [2, 3, 4, 5])], [("y", np.float32, None)],
                   [("i0", np.array(0, np.int64)), ("i1", np.array(1, np.int64)),
                    ("i2", np.array(2, np.int64)), ("i3", np.array(-1, np.int64)),
                    ("e0", np.array([1, 0], np.int64)), ("e1", np.array([0, 1], np.int64))])
    x = fl((2, 3, 4, 5))
    got = check_model(m, {"x": x})["y"]
    assert got.shape == (2, 60)
    # Only the Reshape of x is left to run; the int64 chain folded at compile time.
    assert len(loadrun.load(m).steps()) == 1
