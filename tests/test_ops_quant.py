"""Quantization ops, the storage-only dtypes and float16 MatMul/Gemm/Conv.

Float16 cases are checked against ONNX Runtime; the integer-arithmetic ops
(MatMulInteger, ConvInteger, QLinear*) against onnx.reference, which is exact
on every CPU (onnx_ref.EXACT_OPS); bfloat16, float8 and float4e2m1 (which
ORT's Python API cannot feed or return) against onnx.reference, bit for bit;
float -> int4/uint4/int2/uint2 against loadrun's own definition computed
exactly here (ONNX leaves out-of-range values undefined, and ml_dtypes, which
onnx.reference uses, changed its answer in 0.7).
"""
import ml_dtypes
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

import loadrun
from onnx_ref import check_model, check_node, make_model, node_model

rng = np.random.default_rng(0)

LOWP = {
    TensorProto.BFLOAT16: ml_dtypes.bfloat16,
    TensorProto.FLOAT8E4M3FN: ml_dtypes.float8_e4m3fn,
    TensorProto.FLOAT8E4M3FNUZ: ml_dtypes.float8_e4m3fnuz,
    TensorProto.FLOAT8E5M2: ml_dtypes.float8_e5m2,
    TensorProto.FLOAT8E5M2FNUZ: ml_dtypes.float8_e5m2fnuz,
    TensorProto.FLOAT8E8M0: ml_dtypes.float8_e8m0fnu,
    TensorProto.INT4: ml_dtypes.int4,
    TensorProto.UINT4: ml_dtypes.uint4,
    TensorProto.INT2: ml_dtypes.int2,
    TensorProto.UINT2: ml_dtypes.uint2,
    TensorProto.FLOAT4E2M1: ml_dtypes.float4_e2m1fn,
}
SUB_BYTE = {TensorProto.INT4, TensorProto.UINT4, TensorProto.INT2, TensorProto.UINT2}
FLOAT8 = [TensorProto.FLOAT8E4M3FN, TensorProto.FLOAT8E4M3FNUZ, TensorProto.FLOAT8E5M2, TensorProto.FLOAT8E5M2FNUZ]


def r(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def q8(dtype, *shape):
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max + 1, shape).astype(dtype)


def one_node(op, inputs, outputs, opset=25, initializers=(), **attrs):
    """A one-node model; inputs/outputs: [(name, TensorProto type, shape or None)]."""
    names = [n for n, _, _ in inputs] + [n for n, _ in initializers]
    node = helper.make_node(op, names, [n for n, _, _ in outputs], **attrs)
    g = helper.make_graph([node], "t", [helper.make_tensor_value_info(*i) for i in inputs],
                          [helper.make_tensor_value_info(*o) for o in outputs],
                          [numpy_helper.from_array(np.asarray(a), n) for n, a in initializers])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)


SUB_BYTE_RANGE = {TensorProto.INT4: (-8, 7), TensorProto.UINT4: (0, 15),
                  TensorProto.INT2: (-2, 1), TensorProto.UINT2: (0, 3)}


def float_to_sub_byte(x, to):
    """loadrun's float -> int4/uint4/int2/uint2, as int8 values: truncate toward
    zero, saturate to the type's range, NaN -> 0 (the rule of every float ->
    integer Cast in loadrun). Exact, and independent of ml_dtypes' version."""
    lo, hi = SUB_BYTE_RANGE[to]
    f = np.asarray(x).astype(np.float64)
    return np.clip(np.trunc(np.nan_to_num(f, nan=0.0, posinf=hi, neginf=lo)), lo, hi).astype(np.int8)


def assert_sub_byte(got, x, to):
    assert got.dtype == np.dtype(LOWP[to]) and got.shape == np.shape(x), (got.dtype, got.shape)
    want = float_to_sub_byte(x, to)
    g = got.astype(np.int8)  # in range: exact in every ml_dtypes version
    diff = g != want
    assert not diff.any(), f"{diff.sum()} elements differ, e.g. x {np.asarray(x)[diff][:5]} got {g[diff][:5]} want {want[diff][:5]}"


def bits(a):
    a = np.asarray(a)
    return a.view({1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[a.itemsize])


def assert_same_bits(got, ref, nan_any=True):
    """Same dtype, shape and bit patterns (any NaN matches any NaN when nan_any)."""
    assert got.dtype == ref.dtype and got.shape == ref.shape, (got.dtype, got.shape, ref.dtype, ref.shape)
    diff = bits(got) != bits(ref)
    if nan_any:
        with np.errstate(invalid="ignore"):
            rf, gf = ref.astype(np.float64), got.astype(np.float64)
        diff &= ~(np.isnan(rf) & np.isnan(gf))
    assert not diff.any(), f"{diff.sum()} elements differ, e.g. got {got[diff][:5]} want {ref[diff][:5]}"


def run_both(model, feeds):
    """(loadrun outputs, onnx.reference outputs) as lists in graph-output order."""
    got = loadrun.load(model).run(feeds)
    ref = ReferenceEvaluator(model).run(None, feeds)
    return [got[o.name] for o in model.graph.output], ref


# ------------------------------------------------------------------ storage dtypes
def interesting_floats():
    """Every float16 value, random floats over float32's range, and specials."""
    halves = np.arange(1 << 16, dtype=np.uint16).view(np.float16).astype(np.float32)
    wide = r(4000) * np.float32(10.0) ** rng.integers(-44, 38, 4000).astype(np.float32)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 448, 464, 465, 480, 240, 57344, 61439, 61440,
                        6.0, 7.0, 5.0, 0.25, 0.75, 2.0**-127, 2.0**127, 3.4e38, 1e-45], np.float32)
    return np.concatenate([halves, wide, special, -special])


@pytest.mark.parametrize("to", list(LOWP))
@pytest.mark.parametrize("saturate", [1, 0])
def test_cast_float_to_lowp_bit_exact(to, saturate):
    x = interesting_floats()
    m = one_node("Cast", [("x", TensorProto.FLOAT, ["n"])], [("y", to, ["n"])], to=to, saturate=saturate)
    if to in SUB_BYTE:  # every float, infinities and NaN included, is defined
        return assert_sub_byte(loadrun.load(m).run({"x": x})["y"], x, to)
    (got,), (ref,) = run_both(m, {"x": x})
    assert_same_bits(got, ref, nan_any=to != TensorProto.FLOAT4E2M1)


@pytest.mark.parametrize("src", [TensorProto.FLOAT16, TensorProto.DOUBLE])
@pytest.mark.parametrize("to", [TensorProto.BFLOAT16, TensorProto.FLOAT8E4M3FN, TensorProto.FLOAT8E5M2FNUZ,
                                TensorProto.FLOAT4E2M1, TensorProto.INT4, TensorProto.FLOAT8E8M0])
def test_cast_half_and_double_to_lowp(src, to):
    x = rng.standard_normal(3001) * 20
    if src == TensorProto.FLOAT16:
        x = x.astype(np.float16)
    m = one_node("Cast", [("x", src, ["n"])], [("y", to, ["n"])], to=to)
    if to in SUB_BYTE:
        return assert_sub_byte(loadrun.load(m).run({"x": x})["y"], x, to)
    (got,), (ref,) = run_both(m, {"x": x})
    assert_same_bits(got, ref)


def test_cast_float_to_sub_byte_saturates():
    """The definition itself, on values whose answers differ between rules:
    in range (truncated), just outside, far outside, infinities and NaN."""
    x = np.array([0.0, -0.0, 0.9, -0.9, 1.5, -1.5, 1.99, -2.5, 3.7, 7.9, -8.9, 8.0, 15.5, 16.0, 17.0, -9.0,
                  300.0, -300.0, 3e9, -3e9, 1e30, np.inf, -np.inf, np.nan], np.float32)
    want = {TensorProto.INT4: [0, 0, 0, 0, 1, -1, 1, -2, 3, 7, -8, 7, 7, 7, 7, -8, 7, -8, 7, -8, 7, 7, -8, 0],
            TensorProto.UINT4: [0, 0, 0, 0, 1, 0, 1, 0, 3, 7, 0, 8, 15, 15, 15, 0, 15, 0, 15, 0, 15, 15, 0, 0],
            TensorProto.INT2: [0, 0, 0, 0, 1, -1, 1, -2, 1, 1, -2, 1, 1, 1, 1, -2, 1, -2, 1, -2, 1, 1, -2, 0],
            TensorProto.UINT2: [0, 0, 0, 0, 1, 0, 1, 0, 3, 3, 0, 3, 3, 3, 3, 0, 3, 0, 3, 0, 3, 3, 0, 0]}
    for to, w in want.items():
        for src in (np.float32, np.float64, np.float16):
            xs = x.astype(src)
            m = one_node("Cast", [("x", helper.np_dtype_to_tensor_dtype(xs.dtype), ["n"])],
                         [("y", to, ["n"])], to=to)
            got = loadrun.load(m).run({"x": xs})["y"]
            assert got.astype(np.int8).tolist() == w, (to, src)


@pytest.mark.parametrize("frm", list(LOWP))
@pytest.mark.parametrize("to,npt", [(TensorProto.FLOAT, np.float32), (TensorProto.FLOAT16, np.float16),
                                    (TensorProto.DOUBLE, np.float64), (TensorProto.INT8, np.int8),
                                    (TensorProto.UINT16, np.uint16), (TensorProto.BOOL, np.bool_)])
def test_cast_every_lowp_code_out(frm, to, npt):
    """Every bit pattern of the storage type, decoded as ml_dtypes does."""
    dt = np.dtype(LOWP[frm])
    n = {1: 256, 2: 65536}[dt.itemsize]
    if frm in SUB_BYTE or frm == TensorProto.FLOAT4E2M1:
        n = 4 if frm in (TensorProto.INT2, TensorProto.UINT2) else 16
    x = np.arange(n, dtype=np.uint8 if dt.itemsize == 1 else np.uint16).view(dt)
    if to in (TensorProto.INT8, TensorProto.UINT16):  # float -> int: only in-range finite values are defined
        f = x.astype(np.float64)
        x = x[np.isfinite(f) & (f >= 0) & (f < 127)]
    m = one_node("Cast", [("x", frm, ["n"])], [("y", to, ["n"])], to=to)
    got = loadrun.load(m).run({"x": x})["y"]
    with np.errstate(all="ignore"):
        ref = x.astype(npt)
    assert_same_bits(got, ref)


@pytest.mark.parametrize("round_mode", ["up", "down", "nearest"])
@pytest.mark.parametrize("saturate", [1, 0])
def test_cast_to_e8m0_round_modes(round_mode, saturate):
    x = interesting_floats()
    m = one_node("Cast", [("x", TensorProto.FLOAT, ["n"])], [("y", TensorProto.FLOAT8E8M0, ["n"])],
                 to=TensorProto.FLOAT8E8M0, saturate=saturate, round_mode=round_mode)
    got = loadrun.load(m).run({"x": x})["y"]
    ref = numpy_helper.to_float8e8m0(x, bool(saturate), round_mode)
    assert_same_bits(got, ref, nan_any=False)


@pytest.mark.parametrize("to", [TensorProto.INT4, TensorProto.UINT4, TensorProto.INT2, TensorProto.UINT2])
@pytest.mark.parametrize("src", [np.int64, np.int8, np.uint64, np.bool_])
def test_cast_integers_to_sub_byte_wrap(to, src):
    if src == np.bool_:
        x = np.array([True, False, True])
    else:
        x = np.array([-9, -8, -2, -1, 0, 1, 2, 7, 8, 15, 16, 17, 100, -100, 127], dtype=np.int64).astype(src)
    m = one_node("Cast", [("x", helper.np_dtype_to_tensor_dtype(x.dtype), ["n"])], [("y", to, ["n"])], to=to)
    (got,), (ref,) = run_both(m, {"x": x})
    assert_same_bits(got, ref)


def test_castlike_and_lowp_to_lowp():
    x = r(50) * 30
    m = one_node("CastLike", [("x", TensorProto.FLOAT, ["n"]), ("t", TensorProto.FLOAT8E5M2, [1])],
                 [("y", TensorProto.FLOAT8E5M2, ["n"])], saturate=0)
    (got,), (ref,) = run_both(m, {"x": x, "t": np.zeros(1, ml_dtypes.float8_e5m2)})
    assert_same_bits(got, ref)
    # float8 -> bfloat16 -> int4, one Cast after another
    x8 = x.astype(ml_dtypes.float8_e4m3fn)
    nodes = [helper.make_node("Cast", ["x"], ["b"], to=TensorProto.BFLOAT16),
             helper.make_node("Cast", ["b"], ["y"], to=TensorProto.INT4)]
    g = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT8E4M3FN, [50])],
                          [helper.make_tensor_value_info("y", TensorProto.INT4, [50])])
    m2 = helper.make_model(g, opset_imports=[helper.make_opsetid("", 25)], ir_version=10)
    assert_sub_byte(loadrun.load(m2).run({"x": x8})["y"], x8, TensorProto.INT4)


@pytest.mark.parametrize("t", list(LOWP))
def test_lowp_data_movement(t):
    """Identity / Reshape / Transpose / Concat / Slice move storage types by element size, and
    lowp initializers (packed int4 in the file) load exactly."""
    dt = np.dtype(LOWP[t])
    codes = 16 if t in (TensorProto.INT4, TensorProto.UINT4, TensorProto.FLOAT4E2M1) else (
        4 if t in (TensorProto.INT2, TensorProto.UINT2) else 255)
    raw = rng.integers(0, codes, 2 * 3 * 5)
    x = raw.astype(np.uint8 if dt.itemsize == 1 else np.uint16).view(dt).reshape(2, 3, 5)
    w = rng.integers(0, codes, 2 * 3 * 2).astype(np.uint8 if dt.itemsize == 1 else np.uint16).view(dt).reshape(2, 3, 2)
    nodes = [helper.make_node("Identity", ["x"], ["i"]),
             helper.make_node("Transpose", ["i"], ["tr"], perm=[2, 0, 1]),
             helper.make_node("Reshape", ["tr", "shape"], ["rs"]),
             helper.make_node("Concat", ["x", "w"], ["cc"], axis=2),
             helper.make_node("Slice", ["cc", "st", "en", "ax"], ["sl"])]
    g = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("x", t, [2, 3, 5])],
                          [helper.make_tensor_value_info(n, t, None) for n in ("rs", "sl")],
                          [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.array([5, 6]), "shape"),
                           numpy_helper.from_array(np.array([3]), "st"), numpy_helper.from_array(np.array([7]), "en"),
                           numpy_helper.from_array(np.array([-1]), "ax")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 25)], ir_version=10)
    net = loadrun.load(m)
    assert [i.dtype for i in net.inputs] == [dt.name]
    out = net.run({"x": x})
    assert_same_bits(out["rs"], x.transpose(2, 0, 1).reshape(5, 6), nan_any=False)
    assert_same_bits(out["sl"], np.concatenate([x, w], axis=2)[:, :, 3:7], nan_any=False)


def test_lowp_feed_of_wrong_dtype_is_an_input_error():
    m = one_node("Identity", [("x", TensorProto.FLOAT8E4M3FN, [3])], [("y", TensorProto.FLOAT8E4M3FN, [3])])
    net = loadrun.load(m)
    with pytest.raises(loadrun.InputError):
        net.run({"x": np.array([0.1, 1, 2], np.float32)})  # not exact in float8
    y = net.run({"x": np.array([0.5, 1, -2], np.float32)})["y"]  # exact: converted
    assert y.dtype == ml_dtypes.float8_e4m3fn and y.astype(np.float32).tolist() == [0.5, 1, -2]


def test_cast_errors():
    with pytest.raises(loadrun.ModelError, match="round_mode"):
        loadrun.load(one_node("Cast", [("x", TensorProto.FLOAT, [3])], [("y", TensorProto.FLOAT8E8M0, [3])],
                              to=TensorProto.FLOAT8E8M0, round_mode="sideways"))
    with pytest.raises(loadrun.UnsupportedError, match="FLOAT6E2M3"):
        loadrun.load(one_node("Cast", [("x", TensorProto.FLOAT, [3])], [("y", 27, [3])], to=27))


# ------------------------------------------------------------------ QuantizeLinear (ORT)
@pytest.mark.parametrize("qt", [np.uint8, np.int8, np.uint16, np.int16])
def test_quantize_per_tensor(qt):
    x = r(3, 7) * 300
    x[0, :4] = [0.5, 1.5, 2.5, -2.5]  # ties round to even
    info = np.iinfo(qt)
    zp = np.array(info.min // 2 + info.max // 3, qt)
    check_node("QuantizeLinear", {"x": x, "s": np.array(2.0, np.float32), "z": zp}, opset=21)


@pytest.mark.parametrize("axis", [0, 1, -1, -3])
def test_quantize_per_axis(axis):
    x = r(2, 3, 4) * 100
    d = x.shape[axis]
    s = (rng.random(d) + 0.1).astype(np.float32)
    z = rng.integers(-20, 20, d).astype(np.int8)
    check_node("QuantizeLinear", {"x": x, "s": s, "z": z}, opset=13, axis=axis)


@pytest.mark.parametrize("block", [1, 2, 3, 5])
def test_quantize_dequantize_blocked(block):
    x = r(2, 5, 3) * 50
    nb = -(-5 // block)
    s = (rng.random((2, nb, 3)) + 0.1).astype(np.float32)
    z = rng.integers(0, 40, (2, nb, 3)).astype(np.uint8)
    check_node("QuantizeLinear", {"x": x, "s": s, "z": z}, opset=21, axis=1, block_size=block)
    xq = q8(np.uint8, 2, 5, 3)
    check_node("DequantizeLinear", {"x": xq, "s": s, "z": z}, opset=21, axis=-2, block_size=block)


def test_quantize_without_zero_point_and_float16_and_opset10():
    x = r(4, 5) * 100
    check_node("QuantizeLinear", {"x": x, "s": np.array(0.7, np.float32)}, opset=10)
    xh = (r(4, 5) * 100).astype(np.float16)
    check_node("QuantizeLinear", {"x": xh, "s": np.array(0.7, np.float16), "z": np.array(-3, np.int8)}, opset=19)
    check_node("QuantizeLinear", {"x": x, "s": np.array(0.7, np.float32)}, opset=21, output_dtype=TensorProto.INT16)


def test_quantize_size_one_dims_and_scalar_input():
    check_node("QuantizeLinear", {"x": r(1, 1, 1) * 9, "s": np.array([0.3], np.float32),
                                  "z": np.array([7], np.uint8)}, opset=13, axis=1)
    check_node("QuantizeLinear", {"x": np.array(3.3, np.float32), "s": np.array(0.5, np.float32)}, opset=13)


# ------------------------------------------------------------------ QuantizeLinear (reference)
@pytest.mark.parametrize("to", FLOAT8 + [TensorProto.FLOAT4E2M1, TensorProto.INT4, TensorProto.UINT4,
                                         TensorProto.INT2, TensorProto.UINT2])
@pytest.mark.parametrize("saturate", [1, 0])
def test_quantize_lowp_types(to, saturate):
    x = np.concatenate([r(40) * 20, np.array([1e6, -1e6, 0.0, -0.0, 3.0, -3.0], np.float32)]).reshape(2, 23)
    s = np.array([0.5, 3.0], np.float32)
    z = np.zeros(2, LOWP[to])
    if to in SUB_BYTE:
        z = np.array([1, 0], LOWP[to])
    m = one_node("QuantizeLinear", [("x", TensorProto.FLOAT, [2, 23]), ("s", TensorProto.FLOAT, [2]), ("z", to, [2])],
                 [("y", to, [2, 23])], axis=0, saturate=saturate)
    (got,), (ref,) = run_both(m, {"x": x, "s": s, "z": z})
    assert_same_bits(got, ref)


def test_quantize_output_dtype_without_zero_point_lowp_and_float16_scale():
    x = r(3, 4) * 10
    m = one_node("QuantizeLinear", [("x", TensorProto.FLOAT16, [3, 4]), ("s", TensorProto.FLOAT16, [3, 2])],
                 [("y", TensorProto.INT4, [3, 4])], axis=1, block_size=2, output_dtype=TensorProto.INT4)
    (got,), (ref,) = run_both(m, {"x": x.astype(np.float16), "s": (rng.random((3, 2)) + 0.5).astype(np.float16)})
    assert_same_bits(got, ref)


# ------------------------------------------------------------------ DequantizeLinear
@pytest.mark.parametrize("qt", [np.uint8, np.int8, np.uint16, np.int16])
def test_dequantize_per_tensor_and_axis(qt):
    x = q8(qt, 2, 3, 4)
    check_node("DequantizeLinear", {"x": x, "s": np.array(0.25, np.float32), "z": q8(qt)}, opset=21)
    check_node("DequantizeLinear", {"x": x, "s": (rng.random(3) + 0.1).astype(np.float32), "z": q8(qt, 3)},
               opset=21, axis=-2)


def test_dequantize_int32_float16_and_opset10():
    x = rng.integers(-10**6, 10**6, (3, 4)).astype(np.int32)
    check_node("DequantizeLinear", {"x": x, "s": np.array(0.01, np.float32)}, opset=10)
    check_node("DequantizeLinear", {"x": q8(np.uint8, 5, 2), "s": np.array(0.3, np.float16),
                                    "z": np.array(128, np.uint8)}, opset=19, rtol=1e-3)


@pytest.mark.parametrize("frm", FLOAT8 + [TensorProto.FLOAT4E2M1, TensorProto.INT4, TensorProto.UINT4,
                                          TensorProto.INT2, TensorProto.UINT2])
@pytest.mark.parametrize("out", [TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.BFLOAT16])
def test_dequantize_lowp_types(frm, out):
    dt = np.dtype(LOWP[frm])
    codes = 4 if frm in (TensorProto.INT2, TensorProto.UINT2) else 16 if dt.itemsize == 1 and (
        frm in SUB_BYTE or frm == TensorProto.FLOAT4E2M1) else 256
    x = np.arange(codes, dtype=np.uint8).view(dt)
    x = x[np.isfinite(x.astype(np.float32))].reshape(1, -1)
    n = x.shape[1]
    z = np.array([1 if frm in SUB_BYTE else 0], dt)
    sdt = {TensorProto.FLOAT: np.float32, TensorProto.FLOAT16: np.float16, TensorProto.BFLOAT16: ml_dtypes.bfloat16}[out]
    m = one_node("DequantizeLinear", [("x", frm, [1, n]), ("s", out, []), ("z", frm, [1])],
                 [("y", out, [1, n])], axis=0)
    (got,), (ref,) = run_both(m, {"x": x, "s": np.array(1.5, sdt), "z": z})
    assert_same_bits(got, ref)


def test_dequantize_e8m0_scale_with_output_dtype():
    x = q8(np.int8, 4, 6)
    s = np.array([2.0**-5, 1.0, 4.0, 2.0**-120], ml_dtypes.float8_e8m0fnu)
    m = one_node("DequantizeLinear", [("x", TensorProto.INT8, [4, 6]), ("s", TensorProto.FLOAT8E8M0, [4])],
                 [("y", TensorProto.FLOAT, [4, 6])], axis=0, output_dtype=TensorProto.FLOAT)
    got = loadrun.load(m).run({"x": x, "s": s})["y"]
    np.testing.assert_array_equal(got, x.astype(np.float32) * s.astype(np.float32)[:, None])


def test_quantize_dequantize_errors():
    x = r(2, 6)
    with pytest.raises(loadrun.ModelError, match="per-axis"):
        loadrun.load(node_model("QuantizeLinear", {"x": x, "s": np.ones(3, np.float32)}, opset=13,
                                out_dtypes=[TensorProto.UINT8], axis=1))
    with pytest.raises(loadrun.ModelError, match="blocked"):
        loadrun.load(node_model("DequantizeLinear", {"x": q8(np.uint8, 2, 6), "s": np.ones((2, 2), np.float32)},
                                opset=21, out_dtypes=[TensorProto.FLOAT], axis=1, block_size=2))
    with pytest.raises(loadrun.ModelError, match="axis"):
        loadrun.load(node_model("QuantizeLinear", {"x": x, "s": np.ones(2, np.float32)}, opset=13,
                                out_dtypes=[TensorProto.UINT8], axis=2))
    with pytest.raises(loadrun.ModelError, match="zero point"):
        loadrun.load(node_model("DequantizeLinear", {"x": q8(np.uint8, 2, 6), "s": np.array(1, np.float32),
                                                     "z": np.array(0, np.int8)}, opset=13, out_dtypes=[TensorProto.FLOAT]))
    with pytest.raises(loadrun.ModelError, match="output_dtype"):
        loadrun.load(node_model("QuantizeLinear", {"x": x, "s": np.array(1, np.float32), "z": np.array(0, np.int8)},
                                opset=21, out_dtypes=[TensorProto.UINT8], output_dtype=TensorProto.UINT8))


# ------------------------------------------------------------------ DynamicQuantizeLinear
@pytest.mark.parametrize("x", [
    r(3, 5) * 4,
    np.abs(r(7)) + 1,  # all positive: zero point 0
    -np.abs(r(2, 2, 3)) - 1,  # all negative: zero point 255
    np.zeros(4, np.float32),  # empty range
    np.array([0.0, 2.0, -3.0, -2.5, 1.34, 0.5], np.float32),
])
def test_dynamic_quantize_linear(x):
    check_node("DynamicQuantizeLinear", {"x": x.astype(np.float32)}, n_outputs=3, opset=11)


# ------------------------------------------------------------------ MatMulInteger
@pytest.mark.parametrize("at,bt", [(np.uint8, np.uint8), (np.int8, np.int8), (np.uint8, np.int8), (np.int8, np.uint8)])
def test_matmul_integer(at, bt):
    a, b = q8(at, 5, 7), q8(bt, 7, 3)
    check_node("MatMulInteger", {"a": a, "b": b, "az": q8(at), "bz": q8(bt)}, opset=10)
    check_node("MatMulInteger", {"a": a, "b": b}, opset=10)


def test_matmul_integer_batched_broadcast_and_per_column():
    a, b = q8(np.uint8, 2, 1, 4, 6), q8(np.int8, 3, 6, 5)
    check_node("MatMulInteger", {"a": a, "b": b, "az": np.array(7, np.uint8), "bz": np.array(-3, np.int8)}, opset=10)
    check_node("MatMulInteger", {"a": a, "b": b[0], "az": np.array(7, np.uint8), "bz": q8(np.int8, 5)}, opset=10)
    check_node("MatMulInteger", {"a": q8(np.uint8, 6), "b": q8(np.uint8, 2, 6, 3)}, opset=10)  # 1-D A
    check_node("MatMulInteger", {"a": q8(np.uint8, 1, 1), "b": q8(np.uint8, 1, 1)}, opset=10)


def test_matmul_integer_per_row_a_zero_point():
    a, b, az = q8(np.uint8, 4, 3), q8(np.uint8, 3, 2), q8(np.uint8, 4)
    m = node_model("MatMulInteger", {"a": a, "b": b, "az": az}, opset=10)
    got = loadrun.load(m).run({"a": a, "b": b, "az": az})["y0"]
    want = (a.astype(np.int32) - az.astype(np.int32)[:, None]) @ b.astype(np.int32)
    np.testing.assert_array_equal(got, want)


def test_matmul_integer_errors():
    with pytest.raises(loadrun.UnsupportedError, match="MatMulInteger"):
        loadrun.load(node_model("MatMulInteger", {"a": q8(np.int16, 2, 2), "b": q8(np.int16, 2, 2)}, opset=10,
                                out_dtypes=[TensorProto.INT32]))
    with pytest.raises(loadrun.ModelError, match="inner dims"):
        loadrun.load(node_model("MatMulInteger", {"a": q8(np.uint8, 2, 3), "b": q8(np.uint8, 2, 2)}, opset=10,
                                out_dtypes=[TensorProto.INT32]))


# ------------------------------------------------------------------ QLinearMatMul
def qmm_feeds(qt, a_shape, b_shape, per_col=False, st=np.float32):
    n = b_shape[-1]
    return {"a": q8(qt, *a_shape), "as": np.array(0.02, st), "az": q8(qt),
            "b": q8(qt, *b_shape), "bs": (rng.random(n) * 0.02 + 0.005).astype(st) if per_col else np.array(0.015, st),
            "bz": q8(qt, n) if per_col else q8(qt), "ys": np.array(0.9, st), "yz": q8(qt)}


@pytest.mark.parametrize("qt", [np.uint8, np.int8])
def test_qlinear_matmul(qt):
    check_node("QLinearMatMul", qmm_feeds(qt, (4, 9), (9, 3)), opset=10)
    check_node("QLinearMatMul", qmm_feeds(qt, (2, 3, 5), (5, 4), per_col=True), opset=10)
    check_node("QLinearMatMul", qmm_feeds(qt, (1, 1), (1, 1)), opset=10)


def test_qlinear_matmul_float16_scales():
    check_node("QLinearMatMul", qmm_feeds(np.int8, (3, 8), (8, 2), st=np.float16), opset=21)


# ------------------------------------------------------------------ ConvInteger
@pytest.mark.parametrize("shape,k,attrs", [
    ((1, 1, 3, 3), (1, 1, 2, 2), {}),
    ((2, 4, 7, 6), (6, 2, 3, 3), {"group": 2, "pads": [1, 0, 2, 1], "strides": [2, 1]}),
    ((1, 3, 9), (2, 3, 3), {"dilations": [2], "pads": [2, 2]}),  # 1-D
    ((1, 2, 4, 5, 3), (3, 2, 2, 3, 2), {"auto_pad": "SAME_UPPER"}),  # 3-D
    ((1, 2, 5, 5), (4, 2, 3, 3), {"auto_pad": "VALID", "strides": [2, 2]}),
])
def test_conv_integer(shape, k, attrs):
    check_node("ConvInteger", {"x": q8(np.uint8, *shape), "w": q8(np.uint8, *k), "xz": np.array(100, np.uint8),
                               "wz": np.array(3, np.uint8)}, opset=10, **attrs)


def test_conv_integer_int8_and_per_channel_weight_zero_point():
    x, w = q8(np.int8, 1, 2, 5, 5), q8(np.int8, 3, 2, 3, 3)
    wz = q8(np.int8, 3)
    m = node_model("ConvInteger", {"x": x, "w": w, "xz": np.array(-5, np.int8), "wz": wz}, opset=10, pads=[1, 1, 1, 1])
    got = loadrun.load(m).run({"x": x, "w": w, "xz": np.array(-5, np.int8), "wz": wz})["y0"]
    xi = np.pad(x.astype(np.int64) + 5, [(0, 0), (0, 0), (1, 1), (1, 1)])
    wi = w.astype(np.int64) - wz.astype(np.int64)[:, None, None, None]
    want = np.zeros((1, 3, 5, 5), np.int64)
    for i in range(5):
        for j in range(5):
            want[0, :, i, j] = np.tensordot(wi, xi[0, :, i:i + 3, j:j + 3], axes=3)
    np.testing.assert_array_equal(got, want.astype(np.int32))
    check_node("ConvInteger", {"x": q8(np.uint8, 1, 2, 5, 5), "w": w}, opset=10)  # no zero points


# ------------------------------------------------------------------ QLinearConv
def qconv_feeds(xt, wt, x_shape, w_shape, per_channel=False, bias=True):
    oc = w_shape[0]
    f = {"x": q8(xt, *x_shape), "xs": np.array(0.03, np.float32), "xz": q8(xt),
         "w": q8(wt, *w_shape),
         "ws": (rng.random(oc) * 0.01 + 0.002).astype(np.float32) if per_channel else np.array(0.004, np.float32),
         "wz": np.zeros(oc, wt) if per_channel else np.array(0, wt),
         "ys": np.array(0.5, np.float32), "yz": q8(xt)}
    if bias:
        f["b"] = rng.integers(-2000, 2000, oc).astype(np.int32)
    return f


@pytest.mark.parametrize("xt", [np.uint8, np.int8])
def test_qlinear_conv(xt):
    wt = np.int8
    check_node("QLinearConv", qconv_feeds(xt, wt, (1, 3, 7, 7), (4, 3, 3, 3)), opset=10, pads=[1, 1, 1, 1])
    check_node("QLinearConv", qconv_feeds(xt, wt, (2, 4, 6, 5), (4, 2, 2, 3), per_channel=True), opset=10,
               group=2, strides=[2, 1])
    check_node("QLinearConv", qconv_feeds(xt, wt, (1, 2, 8), (3, 2, 3), bias=False), opset=10, dilations=[2])


def test_qlinear_conv_uint8_weights_and_errors():
    check_node("QLinearConv", qconv_feeds(np.uint8, np.uint8, (1, 1, 4, 4), (1, 1, 1, 1), bias=False), opset=10)
    f = qconv_feeds(np.uint8, np.int8, (1, 3, 4, 4), (2, 3, 1, 1))
    f["b"] = np.zeros(3, np.int32)
    with pytest.raises(loadrun.ModelError, match="B must be"):
        loadrun.load(node_model("QLinearConv", f, opset=10, out_dtypes=[TensorProto.UINT8]))
    f = qconv_feeds(np.uint8, np.int8, (1, 3, 4, 4), (2, 2, 1, 1))
    with pytest.raises(loadrun.ModelError, match="channels"):
        loadrun.load(node_model("QLinearConv", f, opset=10, out_dtypes=[TensorProto.UINT8]))


# ------------------------------------------------------------------ float16 MatMul / Gemm / Conv
def f16(*shape):
    return r(*shape, dtype=np.float16)


def test_matmul_gemm_conv_float16():
    check_node("MatMul", {"a": f16(2, 3, 17), "b": f16(17, 5)}, rtol=2e-3)
    check_node("MatMul", {"a": f16(7), "b": f16(1, 7, 3)}, rtol=2e-3)
    check_node("Gemm", {"a": f16(9, 4), "b": f16(6, 4), "c": f16(6)}, transB=1, alpha=0.5, beta=2.0, rtol=2e-3)
    check_node("Conv", {"x": f16(1, 4, 6, 7), "w": f16(6, 2, 3, 3), "b": f16(6)}, group=2, pads=[1, 1, 1, 1], rtol=2e-3)


def test_float16_rounded_once_from_float32():
    """A long float16 dot product equals the float32 one rounded once (no per-step rounding)."""
    a, b = f16(1, 4096), f16(4096, 1)
    got = loadrun.load(node_model("MatMul", {"a": a, "b": b})).run({"a": a, "b": b})["y0"]
    want = (a.astype(np.float32) @ b.astype(np.float32)).astype(np.float16)
    assert got.dtype == np.float16
    np.testing.assert_allclose(got.astype(np.float32), want.astype(np.float32), rtol=1e-3, atol=1e-3)
