"""BitCast, float16 / bfloat16 compute, DeformConv, N-D ConvTranspose,
BatchNormalization and Dropout in training mode, against ONNX Runtime (the
ai.onnx.ml ops are in test_ops_ml.py).

Where ONNX Runtime cannot be the oracle it is said at the test:
- bfloat16: ORT's CPU provider has no bfloat16 kernels for these ops, so the
  reference is ORT on the same (bfloat16-exact) values in float32, rounded
  to bfloat16; loadrun computes in float32 and rounds once, so the two agree
  to a bfloat16 rounding step.
- seeded Dropout in training mode: ORT draws from its own generator; the ONNX
  reference (onnx.reference, NumPy's RandomState) is the one loadrun follows.
"""
import ml_dtypes
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

import loadrun
from onnx_ref import assert_close, ort_run

rng = np.random.default_rng(7)
BF16 = ml_dtypes.bfloat16


def r(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def model(nodes, inputs, outputs, inits=(), opset=22, ml=None, ir=10):
    """inputs/outputs: [(name, np dtype or TensorProto code, shape or None)]."""

    def vi(name, dt, shape):
        et = dt if isinstance(dt, int) else helper.np_dtype_to_tensor_dtype(np.dtype(dt))
        return helper.make_tensor_value_info(name, et, shape)

    g = helper.make_graph(nodes, "t", [vi(*i) for i in inputs], [vi(*o) for o in outputs],
                          [numpy_helper.from_array(np.asarray(a), n) for n, a in inits])
    imports = [helper.make_opsetid("", opset)]
    if ml is not None:
        imports.append(helper.make_opsetid("ai.onnx.ml", ml))
    return helper.make_model(g, opset_imports=imports, ir_version=ir)


def node_model(op, feeds, out_types, inits=(), opset=22, ml=None, domain="", inputs=None, **attrs):
    """One node reading `feeds` then `inits` (or `inputs`); outputs y0, y1, ...
    of the given dtypes (np dtypes or TensorProto codes)."""
    names = inputs if inputs is not None else list(feeds) + [n for n, _ in inits]
    outs = [f"y{i}" for i in range(len(out_types))]
    node = helper.make_node(op, names, outs, domain=domain, **attrs)
    return model([node], [(n, a.dtype, list(a.shape)) for n, a in feeds.items()],
                 [(o, t, None) for o, t in zip(outs, out_types)], inits, opset, ml)


def run(m, feeds):
    return loadrun.load(m).run(feeds)


def check(m, feeds, rtol=1e-4):
    ref = ort_run(m, feeds)
    got = run(m, feeds)
    assert set(got) == set(ref)
    for k in ref:
        assert_close(got[k], ref[k], rtol, k)
    return got


# ------------------------------------------------------------------ BitCast

def bits_of(shape, dt):
    """Random bytes viewed as dt (any bit pattern, NaNs included for floats)."""
    n = int(np.prod(shape, dtype=np.int64)) * np.dtype(dt).itemsize
    return np.frombuffer(rng.integers(0, 256, n, dtype=np.uint8).tobytes(), dtype=dt).reshape(shape)


@pytest.mark.parametrize("src,dst", [
    (np.float32, np.int32), (np.int32, np.float32), (np.float64, np.int64), (np.int64, np.float64),
    (np.uint16, np.int16), (np.float16, np.uint16), (np.int8, np.uint8), (np.uint32, np.float32),
    (np.uint64, np.int64), (np.float64, np.uint64),
])
@pytest.mark.parametrize("shape", [(3, 4), (), (0, 2), (2, 1, 5)])
def test_bitcast(src, dst, shape):
    x = bits_of(shape, src)
    to = helper.np_dtype_to_tensor_dtype(np.dtype(dst))
    m = node_model("BitCast", {"x": x}, [dst], opset=26, to=to)
    got = check(m, {"x": x})["y0"]
    assert got.tobytes() == x.tobytes()  # the very same bytes, NaN payloads included


def ref_run(m, feeds):
    names = [o.name for o in m.graph.output]
    return dict(zip(names, ReferenceEvaluator(m).run(None, feeds)))


@pytest.mark.parametrize("shape", [(3, 4), ()])
def test_bitcast_bool_to_uint8(shape):
    # ORT has no BitCast for bool: onnx.reference (a NumPy view) is the oracle.
    x = np.asarray(rng.random(shape) < 0.5)
    m = node_model("BitCast", {"x": x}, [np.uint8], opset=26, to=TensorProto.UINT8)
    got, ref = run(m, {"x": x})["y0"], ref_run(m, {"x": x})["y0"]
    assert got.dtype == np.uint8 and got.shape == ref.shape and got.tolist() == ref.tolist()


def test_bitcast_lowp_and_bool_target():
    # ORT lacks these pairs: the result is the input's bytes (as onnx.reference's view).
    x = bits_of((5, 3), np.uint16)
    got = run(node_model("BitCast", {"x": x}, [TensorProto.BFLOAT16], opset=26, to=TensorProto.BFLOAT16),
              {"x": x})["y0"]
    assert got.dtype == BF16 and got.tobytes() == x.tobytes()
    x4 = np.array([[0, 7, 8, 15]], dtype=ml_dtypes.uint4)
    got = run(node_model("BitCast", {"x": x4}, [TensorProto.INT4], opset=26, to=TensorProto.INT4),
              {"x": x4})["y0"]
    assert got.dtype == ml_dtypes.int4 and got.astype(np.int8).tolist() == [[0, 7, -8, -1]]
    # uint8 -> bool: nonzero bytes are true, stored as 1
    u = np.array([0, 1, 2, 255], np.uint8)
    got = run(node_model("BitCast", {"x": u}, [np.bool_], opset=26, to=TensorProto.BOOL), {"x": u})["y0"]
    assert got.dtype == np.bool_ and got.tolist() == [False, True, True, True]
    assert got.view(np.uint8).tolist() == [0, 1, 1, 1]


@pytest.mark.parametrize("src,to", [
    (np.float32, TensorProto.INT64), (np.int8, TensorProto.FLOAT16), (np.float64, TensorProto.FLOAT),
    (np.uint8, TensorProto.INT4),
])
def test_bitcast_width_mismatch(src, to):
    x = np.zeros((2,), src)
    with pytest.raises(loadrun.ModelError, match="bit width"):
        loadrun.load(node_model("BitCast", {"x": x}, [to], opset=26, to=to))


def test_bitcast_bad_to():
    x = np.zeros((2,), np.float32)
    with pytest.raises(loadrun.ModelError, match="STRING"):
        loadrun.load(node_model("BitCast", {"x": x}, [TensorProto.STRING], opset=26, to=TensorProto.STRING))
    with pytest.raises(loadrun.ModelError, match="not an ONNX"):
        loadrun.load(node_model("BitCast", {"x": x}, [TensorProto.FLOAT], opset=26, to=999))
    with pytest.raises(loadrun.UnsupportedError, match="COMPLEX64"):
        loadrun.load(node_model("BitCast", {"x": np.zeros(2, np.float64)}, [TensorProto.COMPLEX64],
                                opset=26, to=TensorProto.COMPLEX64))


# -------------------------------------------- float16 / bfloat16 computation

def lowp_check(dt, op, feeds, n_out=1, inits=(), opset=22, rtol=None, out_types=None, **attrs):
    """`op` on float16 / bfloat16 inputs (the float32 `feeds` and `inits`
    rounded to dt) in loadrun, against ORT on the same values in float32
    rounded to dt once: loadrun computes in float32 and rounds once, so they
    agree to a rounding step of dt (rtol: 2e-3 for float16, 1e-2 for
    bfloat16 -- a few ulps relative to the largest output)."""
    code = helper.np_dtype_to_tensor_dtype(np.dtype(dt))
    rtol = rtol if rtol is not None else (2e-3 if dt is np.float16 else 1e-2)
    low = lambda a: a.astype(dt) if a.dtype == np.float32 else a
    wide = lambda a: a.astype(dt).astype(np.float32) if a.dtype == np.float32 else a
    out_types = out_types or [np.float32] * n_out
    lt = [code if t is np.float32 else t for t in out_types]
    m_low = node_model(op, {k: low(v) for k, v in feeds.items()}, lt,
                       [(n, low(a)) for n, a in inits], opset, **attrs)
    m_f32 = node_model(op, {k: wide(v) for k, v in feeds.items()}, out_types,
                       [(n, wide(a)) for n, a in inits], opset, **attrs)
    got = run(m_low, {k: low(v) for k, v in feeds.items()})
    ref = ort_run(m_f32, {k: wide(v) for k, v in feeds.items()})
    assert set(got) == set(ref)
    for k, rv in ref.items():
        g = got[k]
        if rv.dtype == np.float32:
            assert g.dtype == np.dtype(dt), f"{k}: dtype {g.dtype}"
            assert_close(g.astype(np.float32), rv.astype(dt).astype(np.float32), rtol, k)
        else:
            assert_close(g, rv, 0, k)
    return got


LOWP = pytest.mark.parametrize("dt", [np.float16, BF16], ids=["float16", "bfloat16"])
I64 = lambda *v: np.array(v, np.int64)


@LOWP
@pytest.mark.parametrize("op,axis", [("Softmax", -1), ("Softmax", 1), ("LogSoftmax", 0), ("Hardmax", 2)])
def test_lowp_softmax(dt, op, axis):
    lowp_check(dt, op, {"x": r(2, 3, 5) * 3}, axis=axis)


@LOWP
@pytest.mark.parametrize("op", ["ReduceMax", "ReduceMin", "ReduceSum", "ReduceMean", "ReduceProd",
                                "ReduceL1", "ReduceL2", "ReduceLogSumExp", "ReduceSumSquare"])
@pytest.mark.parametrize("axes,keepdims", [((1,), 1), ((-1, 0), 0), (None, 1)])
def test_lowp_reduce(dt, op, axes, keepdims):
    inits = [("axes", I64(*axes))] if axes else []
    lowp_check(dt, op, {"x": r(3, 4, 5)}, inits=inits, opset=18, keepdims=keepdims)


@LOWP
@pytest.mark.parametrize("a,b", [((3, 4), (4, 5)), ((2, 3, 4), (4, 1)), ((4,), (2, 4, 3)), ((2, 1, 3, 4), (3, 4, 2))])
def test_lowp_matmul(dt, a, b):
    lowp_check(dt, "MatMul", {"a": r(*a), "b": r(*b)})


@LOWP
def test_lowp_gemm(dt):
    lowp_check(dt, "Gemm", {"a": r(4, 3), "b": r(5, 4)}, inits=[("c", r(5))], transA=1, transB=1, alpha=0.5)


@LOWP
@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div", "Max", "Min", "Pow"])
def test_lowp_binary(dt, op):
    a = np.abs(r(2, 3, 4)) + 0.5 if op == "Pow" else r(2, 3, 4)
    lowp_check(dt, op, {"a": a, "b": r(3, 1)})


@LOWP
@pytest.mark.parametrize("op,attrs", [("Celu", {"alpha": 1.5}), ("Elu", {}), ("Relu", {}), ("Sigmoid", {}),
                                      ("Tanh", {}), ("Exp", {}), ("Sqrt", {}), ("Neg", {}), ("Floor", {}),
                                      ("Gelu", {}), ("LeakyRelu", {"alpha": 0.2}), ("Softplus", {})])
def test_lowp_unary(dt, op, attrs):
    x = np.abs(r(3, 7)) if op == "Sqrt" else r(3, 7) * 2
    lowp_check(dt, op, {"x": x}, **attrs)


@LOWP
@pytest.mark.parametrize("op", ["Equal", "Less", "GreaterOrEqual"])
def test_lowp_compare(dt, op):
    a = np.round(r(4, 5) * 2) / 2  # ties on purpose
    lowp_check(dt, op, {"a": a, "b": np.round(r(5) * 2) / 2}, out_types=[np.bool_])


@LOWP
def test_lowp_where_clip_cumsum(dt):
    lowp_check(dt, "Where", {"c": rng.random((3, 4)) < 0.5, "a": r(3, 4), "b": r(4)})
    lowp_check(dt, "Clip", {"x": r(3, 4)}, inits=[("lo", np.array(-0.5, np.float32)),
                                                  ("hi", np.array(0.7, np.float32))])


@LOWP
@pytest.mark.parametrize("eq,shapes", [("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ij->", [(3, 4)]),
                                       ("ij->ji", [(3, 4)]), ("i,i", [(6,), (6,)])])
def test_lowp_einsum(dt, eq, shapes):
    lowp_check(dt, "Einsum", {f"x{i}": r(*s) for i, s in enumerate(shapes)}, equation=eq)


@LOWP
@pytest.mark.parametrize("causal", [0, 1])
def test_lowp_attention(dt, causal):
    lowp_check(dt, "Attention", {"q": r(2, 3, 4, 8), "k": r(2, 3, 6, 8), "v": r(2, 3, 6, 8)}, opset=23,
               is_causal=causal)


@LOWP
def test_lowp_unique(dt):
    x = np.round(r(20) * 2) / 2
    got = lowp_check(dt, "Unique", {"x": x}, out_types=[np.float32, np.int64, np.int64, np.int64], sorted=1)
    assert len(got["y0"]) < 20  # repeats were merged


@LOWP
def test_lowp_range(dt):
    feeds = {}
    inits = [("s", np.array(-1.5, np.float32)), ("l", np.array(4.0, np.float32)), ("d", np.array(0.75, np.float32))]
    got = lowp_check(dt, "Range", feeds, inits=inits)
    assert len(got["y0"]) == 8


@LOWP
def test_lowp_conv_family(dt):
    lowp_check(dt, "Conv", {"x": r(1, 2, 5, 5)}, inits=[("w", r(3, 2, 3, 3)), ("b", r(3))], pads=[1, 1, 1, 1])
    lowp_check(dt, "ConvTranspose", {"x": r(1, 2, 3, 3, 2)}, inits=[("w", r(2, 3, 2, 2, 2))], strides=[2, 1, 2])
    lowp_check(dt, "BatchNormalization", {"x": r(2, 3, 4)},
               inits=[("s", r(3)), ("b", r(3)), ("m", r(3)), ("v", np.abs(r(3)) + 0.5)])
    lowp_check(dt, "LayerNormalization", {"x": r(2, 3, 8)}, inits=[("s", r(8)), ("b", r(8))], opset=17)


def test_float16_direct_against_ort():
    # float16 where ORT has the kernel: ORT's own float16 result
    x = r(3, 4, 5).astype(np.float16)
    check(node_model("Softmax", {"x": x}, [np.float16], axis=1), {"x": x}, rtol=2e-3)
    check(node_model("ReduceMax", {"x": x}, [np.float16], inits=[("a", I64(1))], opset=18), {"x": x}, rtol=2e-3)
    check(node_model("LayerNormalization", {"x": x}, [np.float16], inits=[("s", r(5).astype(np.float16))],
                     opset=17), {"x": x}, rtol=2e-3)


def test_bfloat16_rounding_is_nearest_even():
    # Cast float32 -> bfloat16 of ties and of values near the largest finite:
    # the Mul by 1 below computes in float32 and rounds like ml_dtypes does.
    vals = np.array([1 + 2**-8, 1 + 3 * 2**-8, -(1 + 2**-8), 3.3895314e38, 3.4e38, np.inf, np.nan,
                     1e-40, -0.0], np.float32)
    x = vals.astype(BF16)
    one = np.ones_like(vals).astype(BF16)
    m = node_model("Mul", {"x": x, "o": one}, [TensorProto.BFLOAT16])
    got = run(m, {"x": x, "o": one})["y0"]
    np.testing.assert_array_equal(got.view(np.uint16), (vals.astype(BF16) * one).view(np.uint16))
    m = node_model("Div", {"a": np.array([1.0], np.float32).astype(BF16), "b": np.array([3.0], np.float32).astype(BF16)},
                   [TensorProto.BFLOAT16])
    got = run(m, {"a": np.array([1.0]).astype(BF16), "b": np.array([3.0]).astype(BF16)})["y0"]
    assert got.view(np.uint16)[0] == np.array([1 / 3], np.float32).astype(BF16).view(np.uint16)[0]


# --------------------------------------------------------------- DeformConv

def deform(x, w, off, b=None, mask=None, dtype=np.float32, **attrs):
    feeds = {"x": x.astype(dtype), "w": w.astype(dtype), "off": off.astype(dtype)}
    names = ["x", "w", "off", "b" if b is not None else "", "mask" if mask is not None else ""]
    if b is not None:
        feeds["b"] = b.astype(dtype)
    if mask is not None:
        feeds["mask"] = mask.astype(dtype)
    while names[-1] == "":
        names.pop()
    return node_model("DeformConv", feeds, [dtype], opset=22, inputs=names, **attrs), feeds


@pytest.mark.parametrize("case", [
    dict(x=(1, 2, 5, 5), w=(3, 2, 3, 3), out=(3, 3)),
    dict(x=(2, 4, 6, 5), w=(4, 2, 2, 3), out=(3, 2), group=2, strides=[2, 2], pads=[0, 1, 1, 0]),
    dict(x=(1, 4, 7, 7), w=(2, 4, 3, 3), out=(3, 3), dilations=[2, 2], offset_group=2),
    dict(x=(1, 2, 4, 4), w=(2, 2, 1, 1), out=(4, 4)),
    dict(x=(1, 1, 3, 6), w=(1, 1, 3, 2), out=(3, 7), pads=[1, 1, 1, 1], offset_group=1),
])
@pytest.mark.parametrize("extras", ["none", "bias", "mask", "both"])
def test_deform_conv(case, extras):
    case = dict(case)
    xs, ws, out = case.pop("x"), case.pop("w"), case.pop("out")
    og = case.get("offset_group", 1)
    kn = ws[2] * ws[3]
    # offsets of a few pixels, fractional, some far outside the input
    off = r(xs[0], og * kn * 2, *out) * 1.5
    off.flat[::17] = 40.0
    b = r(ws[0]) if extras in ("bias", "both") else None
    mask = rng.random((xs[0], og * kn, *out)) if extras in ("mask", "both") else None
    m, feeds = deform(r(*xs), r(*ws), off, b, mask, **case)
    check(m, feeds)


def test_deform_conv_float64_and_lowp():
    m, feeds = deform(r(1, 2, 4, 4), r(2, 2, 2, 2), r(1, 8, 3, 3), r(2), dtype=np.float64)
    check(m, feeds)
    # float16: computed in float32, rounded once (ORT in float32 is the oracle)
    m16, f16 = deform(r(1, 2, 4, 4), r(2, 2, 2, 2), r(1, 8, 3, 3), r(2), dtype=np.float16)
    m32, f32 = deform(*(f16[k].astype(np.float32) for k in ("x", "w", "off", "b")))
    got = run(m16, f16)["y0"]
    assert got.dtype == np.float16
    assert_close(got.astype(np.float32), ort_run(m32, f32)["y0"].astype(np.float16).astype(np.float32), 2e-3)


def test_deform_conv_zero_offsets_is_conv_1d_3d():
    # Any number of spatial dims: with zero offsets it is a plain Conv (ORT's Conv).
    for xs, ws, attrs in [((2, 2, 9), (3, 2, 3), dict(strides=[2], pads=[1, 0])),
                          ((1, 2, 4, 5, 3), (2, 1, 2, 3, 2), dict(group=2, pads=[1, 0, 1, 0, 1, 0]))]:
        x, w = r(*xs), r(*ws)
        conv = node_model("Conv", {"x": x}, [np.float32], inits=[("w", w)], **attrs)
        ref = ort_run(conv, {"x": x})["y0"]
        kn = int(np.prod(ws[2:]))
        off = np.zeros((xs[0], kn * (len(xs) - 2), *ref.shape[2:]), np.float32)
        m, feeds = deform(x, w, off, **attrs)
        assert_close(run(m, feeds)["y0"], ref)


def test_deform_conv_1d_matches_2d_with_height_1():
    # A 1-D deformable conv is the 2-D one on height 1 with zero vertical offsets.
    x, w, off = r(1, 2, 8), r(3, 2, 3), r(1, 3, 6) * 2
    m1, f1 = deform(x, w, off)
    off2 = np.zeros((1, 6, 1, 6), np.float32)
    off2[:, 1::2, 0] = off[:, :, :]
    m2, f2 = deform(x[:, :, None], w[:, :, None], off2)
    np.testing.assert_allclose(run(m1, f1)["y0"], check(m2, f2)["y0"][:, :, 0], rtol=1e-5, atol=1e-6)


def test_deform_conv_errors():
    with pytest.raises(loadrun.ModelError, match="offset has shape"):
        loadrun.load(deform(r(1, 2, 5, 5), r(3, 2, 3, 3), r(1, 9, 3, 3))[0])
    with pytest.raises(loadrun.ModelError, match="mask has shape"):
        loadrun.load(deform(r(1, 2, 5, 5), r(3, 2, 3, 3), r(1, 18, 3, 3), mask=r(1, 9, 2, 3))[0])
    with pytest.raises(loadrun.ModelError, match="channels"):
        loadrun.load(deform(r(1, 3, 5, 5), r(3, 2, 3, 3), r(1, 18, 3, 3))[0])
    with pytest.raises(loadrun.ModelError, match="offset_group"):
        loadrun.load(deform(r(1, 3, 5, 5), r(3, 3, 3, 3), r(1, 36, 3, 3), offset_group=2)[0])


# ------------------------------------------------------ ConvTranspose (N-D)

@pytest.mark.parametrize("xs,ws,attrs", [
    ((1, 2, 3, 4, 3), (2, 3, 2, 2, 2), {}),
    ((2, 4, 3, 3, 2), (4, 1, 3, 2, 2), dict(group=2, strides=[2, 1, 3], dilations=[1, 2, 1],
                                             pads=[1, 0, 0, 0, 1, 1], output_padding=[1, 0, 2])),
    ((1, 1, 2, 2, 2), (1, 2, 3, 3, 3), dict(strides=[2, 2, 2], auto_pad="SAME_UPPER")),
    ((1, 2, 2, 3, 2), (2, 1, 2, 2, 2), dict(output_shape=[4, 6, 5], strides=[2, 2, 2])),
    ((1, 1, 2, 2, 2, 2), (1, 1, 2, 1, 2, 1), dict(strides=[1, 2, 1, 2])),  # 4 spatial dims
])
@pytest.mark.parametrize("bias", [False, True])
def test_conv_transpose_nd(xs, ws, attrs, bias):
    inits = [("w", r(*ws))] + ([("b", r(ws[1] * attrs.get("group", 1)))] if bias else [])
    x = r(*xs)
    m = node_model("ConvTranspose", {"x": x}, [np.float32], inits=inits, **attrs)
    if len(xs) == 6:  # ORT has no 4-D spatial ConvTranspose: onnx.reference
        assert_close(run(m, {"x": x})["y0"], ref_run(m, {"x": x})["y0"])
    else:
        check(m, {"x": x})


# -------------------------------------------- BatchNormalization training

def bn_train(x, outs=3, dtype=np.float32, opset=15, **attrs):
    c = x.shape[1]
    inits = [("s", r(c, dtype=dtype)), ("b", r(c, dtype=dtype)), ("m", r(c, dtype=dtype)),
             ("v", (rng.random(c) + 0.2).astype(dtype))]
    return node_model("BatchNormalization", {"x": x}, [dtype] * outs, inits=inits, opset=opset,
                      training_mode=1, **attrs)


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (2, 3, 4, 5), (1, 2, 1, 1, 3), (1, 1, 1, 1)])
def test_batch_norm_training(shape):
    x = r(*shape) * 2 + 1
    m = bn_train(x, 3, epsilon=1e-3, momentum=0.7)
    got = check(m, {"x": x})
    # Y alone (ORT insists on all three outputs in training mode; ONNX calls
    # the running statistics optional): the same Y
    m.graph.node[0].output[1] = ""
    m.graph.node[0].output[2] = ""
    del m.graph.output[1:]
    np.testing.assert_array_equal(run(m, {"x": x})["y0"], got["y0"])


def test_batch_norm_training_defaults_float64_opset14():
    x = r(3, 2, 4, dtype=np.float64)
    check(bn_train(x, 3, np.float64), {"x": x})
    x = r(3, 2, 4)
    check(bn_train(x, 3, opset=14), {"x": x})


def test_batch_norm_training_is_not_inference():
    # the batch statistics, not input_mean / input_var, normalise Y
    x = r(8, 2, 3) * 3 + 5
    m0 = node_model("BatchNormalization", {"x": x}, [np.float32], opset=15,
                    inits=[("s", np.ones(2, np.float32)), ("b", np.zeros(2, np.float32)),
                           ("m", np.zeros(2, np.float32)), ("v", np.ones(2, np.float32))], training_mode=1)
    y = run(m0, {"x": x})["y0"]
    np.testing.assert_allclose(y.mean(axis=(0, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2)), 1, atol=1e-3)


def test_batch_norm_bad_training_mode():
    with pytest.raises(loadrun.ModelError, match="training_mode"):
        loadrun.load(node_model("BatchNormalization", {"x": r(2, 3)}, [np.float32], opset=15,
                                inits=[(n, r(3)) for n in "sbmv"], training_mode=2))
    # inference mode whose running statistics are read: unsupported (as before)
    with pytest.raises(loadrun.UnsupportedError, match="running mean/var"):
        loadrun.load(node_model("BatchNormalization", {"x": r(2, 3)}, [np.float32] * 3, opset=15,
                                inits=[(n, r(3)) for n in "sbmv"]))


# ------------------------------------------------------- Dropout (training)

def dropout(x, ratio, training, n_out=1, **attrs):
    consts = []
    names = ["x"]
    if ratio is not None:
        consts.append(("r", np.array(ratio, np.float32)))
        names.append("r")
    if training is not None:
        if ratio is None:
            names.append("")
        consts.append(("t", np.array(training)))
        names.append("t")
    return node_model("Dropout", {"x": x}, [x.dtype, np.bool_][:n_out], inits=consts, opset=13,
                      inputs=names, **attrs)


@pytest.mark.parametrize("ratio", [0.5, 0.25, 0.9, None])
@pytest.mark.parametrize("n_out", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_training_seeded(ratio, n_out, dtype):
    # ORT draws from its own generator: onnx.reference (NumPy's RandomState(seed)) is the oracle.
    x = r(3, 4, 5, dtype=dtype)
    m = dropout(x, ratio, True, n_out, seed=3)
    # (onnx.reference cannot take an absent ratio: give it the default 0.5)
    got, ref = run(m, {"x": x}), ref_run(dropout(x, 0.5 if ratio is None else ratio, True, n_out, seed=3), {"x": x})
    assert_close(got["y0"], ref["y0"], 1e-6)
    if n_out == 2:
        assert got["y1"].dtype == np.bool_ and (got["y1"] == ref["y1"]).all()
    # the same every run
    np.testing.assert_array_equal(run(m, {"x": x})["y0"], got["y0"])


def test_dropout_training_float16():
    x = r(4, 6, dtype=np.float16)
    m = dropout(x, 0.5, True, 2, seed=11)
    got, ref = run(m, {"x": x}), ref_run(m, {"x": x})
    assert got["y0"].dtype == np.float16
    assert (got["y1"] == ref["y1"]).all()
    # (onnx.reference returns float32 here: its scale is a float32 scalar)
    assert_close(got["y0"], ref["y0"].astype(np.float16), 1e-3)


@pytest.mark.parametrize("ratio,training", [(0.0, True), (0.5, False), (None, False), (0.7, None)])
def test_dropout_deterministic_forms_against_ort(ratio, training):
    x = r(3, 7)
    got = check(dropout(x, ratio, training, 2), {"x": x})
    assert got["y1"].all()
    np.testing.assert_array_equal(got["y0"], x)


def test_dropout_training_unseeded():
    # No seed: a fresh random mask each run; kept elements are scaled by 1/(1-ratio).
    x = np.ones((100, 100), np.float32)
    m = dropout(x, 0.3, True, 2)
    a, b = run(m, {"x": x}), run(m, {"x": x})
    for o in (a, b):
        kept = o["y1"]
        assert 0.65 < kept.mean() < 0.75
        np.testing.assert_allclose(o["y0"][kept], 1 / 0.7, rtol=1e-6)
        assert (o["y0"][~kept] == 0).all()
    assert (a["y1"] != b["y1"]).any()


def test_dropout_training_dynamic_flag():
    # training_mode as a graph input, read at run time
    x = r(2, 9)
    m = node_model("Dropout", {"x": x, "t": np.array(True)}, [np.float32, np.bool_], opset=13,
                   inits=[("r", np.array(0.5, np.float32))], inputs=["x", "r", "t"], seed=5)
    net = loadrun.load(m)
    on = net.run({"x": x, "t": np.array(True)})
    off = net.run({"x": x, "t": np.array(False)})
    ref = ref_run(m, {"x": x, "t": np.array(True)})
    assert (on["y1"] == ref["y1"]).all() and not on["y1"].all()
    np.testing.assert_array_equal(off["y0"], x)


def test_dropout_bad_ratio():
    x = r(2, 3)
    with pytest.raises(loadrun.LoadrunError, match="ratio"):
        run(dropout(x, 1.0, True), {"x": x})
    with pytest.raises(loadrun.LoadrunError, match="ratio"):
        run(dropout(x, -0.5, True), {"x": x})


@LOWP
@pytest.mark.parametrize("op,attrs", [("MaxPool", dict(kernel_shape=[2, 2], strides=[2, 1])),
                                      ("AveragePool", dict(kernel_shape=[3, 2], pads=[1, 0, 1, 1])),
                                      ("GlobalMaxPool", {}), ("GlobalAveragePool", {}),
                                      ("ArgMax", dict(axis=1)), ("ArgMin", dict(axis=-1, keepdims=0))])
def test_lowp_pool_arg(dt, op, attrs):
    out = [np.int64] if op.startswith("Arg") else None
    lowp_check(dt, op, {"x": r(2, 3, 5, 4)}, out_types=out, **attrs)
