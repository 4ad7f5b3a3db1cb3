"""BitCast, float16 / bfloat16 compute, DeformConv, N-D ConvTranspose,
BatchNormalization and Dropout in training mode, and the ai.onnx.ml ops
Binarizer, ArrayFeatureExtractor and TreeEnsemble, against ONNX Runtime.

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
import onnx
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
