"""Fast non-GEMM kernels (csrc/kernels/eltwise*.cpp) against NAIVE.

Each operator has one fast algorithm, NAME_FAST, backed by the kernel table of
the ISA level in use; the whole file runs at every level the CPU supports
(isa_levels.py: the level in use here, the others in a child pytest with
LOADRUN_ISA set). A test builds a one-node model, runs it with algo="NAIVE"
and with the fast algo forced by name, checks from net.steps() that the fast
algo ran, and compares:
- data movement and IEEE-exact arithmetic (Add/Sub/Mul/Div, Max/Min, Relu,
  Clip, Neg, Abs, Sqrt, Reciprocal, Pow 2/0.5, Where, MaxPool, Transpose):
  bit for bit, NaN positions included (rtol 0);
- FMA-contracted or float-accumulated results (HardSigmoid, HardSwish,
  LeakyRelu, BatchNorm, AveragePool, global pools, LayerNorm): per element
  |fast - naive| <= rtol + rtol |naive| (atol = rtol: the inputs are O(1),
  so results that cancel near zero keep rounding on that scale), rtol 1e-6
  (1e-5 where stated);
- transcendental approximations (exp, log, tanh, sigmoid, erf, Gelu, Swish,
  Softmax): per-element relative error <= 1e-6 wherever the reference is a
  normal float (stated in kernels/eltwise.h), same NaN/inf; a separate sweep
  over the float range (+-inf, NaN, subnormals, huge magnitudes) checks the
  AVX2 functions against float64 references.
The zoo models still match ONNX Runtime at rtol 1e-4 with the default choice.
"""
import math

import numpy as np
import pytest
from onnx import TensorProto, helper

import loadrun
from isa_levels import other_isa_levels_test
from onnx_ref import assert_close, assert_close_elementwise, make_model, node_model, ort_run

rng = np.random.default_rng(7)


# The AVX2 vector math (kernels/vmath_avx2.h) runs at these levels.
AVX2_MATH = loadrun.isa_level() in ("avx2", "avx512")


def algos(prefix):
    """The fast algorithm of an operator family (one, whatever the ISA)."""
    return pytest.mark.parametrize("algo", [f"{prefix}_FAST"])


def run(model, feeds, algo):
    # optimize=False: the kernel under test runs even where a compile pass
    # would make the step a view (a Transpose of unit dims)
    net = loadrun.load(model, algo=algo, optimize=False)
    out = net.run(feeds)
    return out, net.steps()


def f32(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def compare(model, feeds, algo, rtol=0.0, elementwise=False):
    """Fast `algo` vs NAIVE on `model`; returns the fast outputs."""
    ref, _ = run(model, feeds, "NAIVE")
    got, steps = run(model, feeds, algo)
    assert [s[1] for s in steps] == [algo] * len(steps), steps
    for k in ref:
        g, r = np.asarray(got[k]), np.asarray(ref[k])
        assert g.shape == r.shape and g.dtype == r.dtype, k
        if rtol == 0.0:
            np.testing.assert_array_equal(g, r, err_msg=k)  # NaN == NaN here
            if g.dtype.kind == "f":  # and the same signs of zeros
                np.testing.assert_array_equal(np.signbit(g), np.signbit(r), err_msg=k)
        elif elementwise:
            assert_rel_elementwise(g, r, rtol, k)
        else:
            assert_close_elementwise(g, r, rtol, rtol, k)
    return got


def assert_rel_elementwise(got, ref, rtol, name=""):
    """Per element: same NaN/inf, |got - ref| <= rtol |ref| where |ref| is a normal float,
    and |got - ref| <= 2^-126 where it is below."""
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert np.array_equal(np.isnan(got), np.isnan(ref)), f"{name}: NaN positions differ"
    inf = np.isinf(ref)
    assert np.array_equal(got[inf], ref[inf]), f"{name}: infinities differ"
    ok = ~np.isnan(ref) & ~inf
    g, r = got[ok], ref[ok]
    tiny = np.finfo(np.float32).tiny
    normal = np.abs(r) >= tiny
    if normal.any():
        e = np.max(np.abs(g[normal] - r[normal]) / np.abs(r[normal]))
        assert e <= rtol, f"{name}: max relative error {e:.3g} > {rtol}"
    assert np.all(np.abs(g[~normal] - r[~normal]) <= tiny), f"{name}: error above 2^-126 on subnormal results"


SIZES = [1, 7, 8, 9, 17, 33]


def awkward(n, lo=-6.0, hi=6.0, specials=True):
    x = rng.uniform(lo, hi, n).astype(np.float32)
    if specials and n >= 8:
        x[:6] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30][:6]
    return x


# --- unary -------------------------------------------------------------------

EXACT_UNARY = ["Relu", "Neg", "Abs", "Sqrt", "Reciprocal"]
CLOSE_UNARY = [("LeakyRelu", {"alpha": 0.3}), ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}), ("HardSwish", {})]
TRANSC_UNARY = [("Exp", {}), ("Log", {}), ("Tanh", {}), ("Sigmoid", {}), ("Erf", {}), ("Gelu", {}),
                ("Gelu", {"approximate": "tanh"}), ("Swish", {"alpha": 1.5})]


def unary_model(op, x, **attrs):
    opset = 24 if op == "Swish" else (20 if op == "Gelu" else 17)
    return node_model(op, {"x": x}, opset=opset, **attrs)


@algos("ELEMWISE")
@pytest.mark.parametrize("op", EXACT_UNARY)
@pytest.mark.parametrize("n", SIZES)
def test_unary_exact(algo, op, n):
    x = awkward(n, -50, 50)
    compare(unary_model(op, x.reshape(1, n)), {"x": x.reshape(1, n)}, algo)


@algos("ELEMWISE")
@pytest.mark.parametrize("op,attrs", CLOSE_UNARY)
@pytest.mark.parametrize("n", SIZES)
def test_unary_close(algo, op, attrs, n):
    x = awkward(n, -8, 8)
    if n >= 12:  # the kinks and zero crossings, where cancellation would show
        x[6:12] = [-3.0, -2.9999998, 3.0000002, -4.0 / 3.0, -1.3333333, 0.0]
    compare(unary_model(op, x, **attrs), {"x": x}, algo, rtol=1e-6, elementwise=True)


@algos("ELEMWISE")
@pytest.mark.parametrize("op,attrs", TRANSC_UNARY)
@pytest.mark.parametrize("shape", [(1,), (7,), (9,), (2, 17), (3, 33)])
def test_unary_transcendental(algo, op, attrs, shape):
    # vs NAIVE (double): 1e-6 for single functions, 3e-6 for the composite
    # ones (Gelu, Swish: the rounding of the inner argument adds up).
    rtol = 3e-6 if op in ("Gelu", "Swish") else 1e-6
    x = rng.uniform(-12, 12, shape).astype(np.float32)
    if op == "Gelu":
        # NAIVE's double 1 + erf (1 + tanh) cancels below about -5: the sweep
        # below checks the tail against erfc instead.
        x = rng.uniform(-5, 12, shape).astype(np.float32)
    if op == "Log":
        x = np.abs(x) * 10.0 ** rng.uniform(-30, 30, shape).astype(np.float32)
    compare(unary_model(op, x, **attrs), {"x": x}, algo, rtol=rtol, elementwise=True)


def _sweep():
    """Values over the whole float range, specials and subnormals included."""
    parts = [
        np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 1e-40, 1.17549435e-38,
                  np.finfo(np.float32).max, -np.finfo(np.float32).max, 88.72, 88.73, -87.33, -87.34,
                  -103.9, 0.625, -0.625, 1.0, -1.0, 0.5, 2.0]),
        np.linspace(-20, 20, 40001),
        np.linspace(-110, 110, 20001),
        np.geomspace(1e-38, 3e38, 20000),
        -np.geomspace(1e-38, 3e38, 20000),
        np.geomspace(1e-45, 1e-38, 200),
    ]
    return np.concatenate(parts).astype(np.float32)


_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _expit(x):
    """1 / (1 + exp(-x)) in float64 without overflow."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _ref(op, x):
    x = x.astype(np.float64)
    with np.errstate(all="ignore"):
        if op == "Exp":
            return np.exp(x)
        if op == "Log":
            return np.log(x)
        if op == "Tanh":
            return np.tanh(x)
        if op == "Sigmoid":
            return _expit(x)
        if op == "Erf":
            return _erf(x)
        if op == "Gelu":
            return 0.5 * x * _erfc(-x / math.sqrt(2.0))
        if op == "GeluTanh":
            u = math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)
            return x * _expit(2 * u)
    raise ValueError(op)


# Bounds of kernels/eltwise.h (AVX2 table), per element: |got - ref| <=
# rtol * |ref| + 2e-36 (the absolute part covers results that underflow
# through an intermediate, e.g. x * sigmoid(x) for x < -87). Measured maxima
# on this sweep: exp 1.2e-7, log 1.1e-7, tanh 1.3e-7, sigmoid 1.8e-7, erf
# 1.7e-7, Swish 1.7e-7, Gelu 3.6e-7, Gelu tanh 3.6e-7 for |x| <= 4 growing
# with |2u| beyond (u is rounded to float before the exponential).
SWEEP_RTOL = {"Exp": 3e-7, "Log": 3e-7, "Tanh": 3e-7, "Sigmoid": 3e-7, "Erf": 3e-7, "Swish": 3e-7,
              "Gelu": 5e-7, "GeluTanh": None}


@pytest.mark.skipif(not AVX2_MATH, reason="the AVX2 vector math runs at the avx2 and avx512 levels")
@pytest.mark.parametrize("op", list(SWEEP_RTOL))
def test_avx2_math_accuracy_sweep(op):
    """The stated bound of kernels/eltwise.h over the float range vs float64 references."""
    x = _sweep()
    xd = x.astype(np.float64)
    attrs = {"approximate": "tanh"} if op == "GeluTanh" else ({"alpha": 1.0} if op == "Swish" else {})
    model = unary_model("Gelu" if op == "GeluTanh" else op, x, **attrs)
    got, steps = run(model, {"x": x}, "ELEMWISE_FAST")
    assert steps[0][1] == "ELEMWISE_FAST"
    y = np.asarray(got["y0"]).astype(np.float64)
    with np.errstate(all="ignore"):
        ref = xd * _ref("Sigmoid", x) if op == "Swish" else _ref(op, x)
        ref32 = ref.astype(np.float32)
    if op in ("Gelu", "Swish"):
        ref[x == -np.inf] = np.nan  # x * (something -> 0) at -inf, as NAIVE gives
    if op == "GeluTanh":
        u2 = np.abs(2 * math.sqrt(2 / math.pi) * (xd + 0.044715 * xd ** 3))
        rtol = 1e-6 * np.maximum(1.0, u2 / 4)
    else:
        rtol = SWEEP_RTOL[op]
    ref = np.where(np.isinf(ref32) & np.isfinite(ref), np.copysign(np.inf, ref), ref)  # float overflow
    assert np.array_equal(np.isnan(y), np.isnan(ref)), "NaN positions differ"
    fin = np.isfinite(ref)
    assert np.array_equal(y[~fin & ~np.isnan(ref)], ref[~fin & ~np.isnan(ref)]), "infinities differ"
    with np.errstate(invalid="ignore"):
        err = np.abs(y - ref) - rtol * np.abs(ref)
    bad = fin & (err > 2e-36)
    assert not bad.any(), f"{op}: bound exceeded at x={x[bad][:5]} got {y[bad][:5]} ref {ref[bad][:5]}"


@algos("ELEMWISE")
def test_unary_non_float32_stays_naive(algo):
    x = rng.standard_normal((3, 5))
    got, steps = run(node_model("Exp", {"x": x}), {"x": x}, algo)
    assert steps[0][1] == "NAIVE"
    np.testing.assert_allclose(got["y0"], np.exp(x), rtol=1e-12)


# --- binary and variadic --------------------------------------------------------

BCAST = [
    ((2, 3, 4), (2, 3, 4)),        # same shape
    ((7,), ()),                    # scalar right
    ((), (9,)),                    # scalar left
    ((1,), (17,)),                 # size-1 broadcast
    ((2, 8, 5, 7), (8, 1, 1)),     # per channel NCHW
    ((1, 8, 3, 3), (1, 8, 1, 1)),
    ((3, 33), (33,)),              # bias over the last dim
    ((33,), (4, 33)),
    ((9, 1), (1, 7)),              # outer product
    ((1, 7), (9, 1)),
    ((2, 1, 3, 1), (1, 4, 1, 5)),  # alternating
    ((1, 2, 8, 8), (1, 1, 1, 8)),  # attention mask
    ((4, 1, 6), (5, 1)),
    ((1, 1, 1), (1,)),
    ((0, 3), (3,)),                # empty
]


@algos("ELEMWISE")
@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("sa,sb", BCAST)
def test_binary_broadcast(algo, op, sa, sb):
    a, b = f32(*sa), f32(*sb)
    if a.size >= 3:
        a.flat[:3] = [np.nan, np.inf, -0.0]
    if op == "Div" and b.size:
        b.flat[0] = 0.0
    compare(node_model(op, {"a": a, "b": b}), {"a": a, "b": b}, algo)


@algos("ELEMWISE")
@pytest.mark.parametrize("sx,ss", [((2, 3, 4), (2, 3, 4)), ((7,), ()), ((2, 8, 5, 7), (8, 1, 1)),
                                   ((1, 9, 9, 33), (33,)), ((1, 5, 7, 3), (1, 1, 3)), ((0, 3), (3,))])
def test_prelu_broadcast(algo, sx, ss):
    # the slope broadcasts to X (per channel NCHW, per channel NHWC as Keras exports it)
    x, s = f32(*sx), f32(*ss)
    if x.size >= 4:
        x.flat[:4] = [np.nan, np.inf, -np.inf, -0.0]
    compare(node_model("PRelu", {"x": x, "s": s}), {"x": x, "s": s}, algo)


@algos("ELEMWISE")
@pytest.mark.parametrize("e", [2.0, 0.5, 1.0, 3.0, -1.5])
def test_pow_scalar_exponent(algo, e):
    x = awkward(33, -5, 5)
    x[6:9] = [-4.0, -np.inf, 1e-30]
    feeds = {"x": x}
    model = node_model("Pow", feeds, initializers=[("e", np.array(e, np.float32))])
    compare(model, feeds, algo)


@algos("ELEMWISE")
def test_pow_tensor_exponent_stays_naive(algo):
    x, e = np.abs(f32(3, 4)), f32(4)
    _, steps = run(node_model("Pow", {"x": x, "e": e}), {"x": x, "e": e}, algo)
    assert steps[0][1] == "NAIVE"


@algos("ELEMWISE")
@pytest.mark.parametrize("op", ["Max", "Min", "Sum", "Mean"])
@pytest.mark.parametrize("shapes", [[(9,)], [(2, 9), (9,)], [(3, 1), (1, 17), ()], [(1, 8, 3, 3), (8, 1, 1), (1, 1, 3)]])
def test_variadic(algo, op, shapes):
    feeds = {f"x{i}": f32(*s) for i, s in enumerate(shapes)}
    first = feeds["x0"]
    if first.size >= 4:
        first.flat[:4] = [np.nan, 0.0, -0.0, np.inf]
    if len(shapes) > 1 and feeds["x1"].size >= 2:
        feeds["x1"].flat[:2] = [-0.0, np.nan]
    compare(node_model(op, feeds), feeds, algo)


@algos("ELEMWISE")
@pytest.mark.parametrize("lo,hi", [(0.0, 6.0), (None, 1.0), (-1.0, None), (None, None), (2.0, 1.0)])
@pytest.mark.parametrize("n", [1, 9, 33])
def test_clip(algo, lo, hi, n):
    x = awkward(n, -10, 10)
    inits, names = [], ["x"]
    for name, v in (("lo", lo), ("hi", hi)):
        if v is not None:
            inits.append((name, np.array(v, np.float32)))
    node = helper.make_node("Clip", ["x", "lo" if lo is not None else "", "hi" if hi is not None else ""], ["y"])
    model = make_model([node], [("x", np.float32, [n])], [("y", np.float32, None)], inits, opset=13)
    compare(model, {"x": x}, algo)


@pytest.mark.parametrize("dt", [np.float32, np.int64, np.uint8, np.float16, np.bool_])
@pytest.mark.parametrize("sc,sx,sy", [((4, 5), (4, 5), (4, 5)), ((5,), (4, 5), ()), ((4, 1), (1, 5), (4, 5)),
                                       ((2, 1, 9), (3, 1), (1, 9))])
def test_where(dt, sc, sx, sy):
    c = rng.random(sc) > 0.5
    x = (rng.standard_normal(sx) * 10).astype(dt)
    y = (rng.standard_normal(sy) * 10).astype(dt)
    feeds = {"c": np.asarray(c), "x": x, "y": y}
    compare(node_model("Where", feeds), feeds, "ELEMWISE_FAST")


# --- BatchNormalization, Softmax, LayerNormalization ----------------------------

@algos("BATCHNORM")
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 3, 7, 9), (1, 8, 17), (3, 5), (1, 4, 2, 3, 3)])
def test_batch_norm(algo, shape):
    c = shape[1]
    x = f32(*shape)
    inits = [("s", f32(c)), ("b", f32(c)), ("m", f32(c)), ("v", np.abs(f32(c)) + 0.1)]
    compare(node_model("BatchNormalization", {"x": x}, initializers=inits, epsilon=1e-3),
            {"x": x}, algo, rtol=1e-6)


@algos("SOFTMAX")
@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("shape,axis", [((1,), -1), ((7,), 0), ((3, 8), -1), ((2, 9), 1), ((2, 3, 17), -1),
                                        ((1, 2, 5, 33), 3)])
def test_softmax(algo, op, shape, axis):
    # Softmax: per element (probabilities keep their relative accuracy);
    # LogSoftmax: relative to the largest magnitude (values near 0 are a
    # difference of O(1) terms, so only their absolute error is small).
    x = f32(*shape, scale=4.0)
    compare(node_model(op, {"x": x}, axis=axis), {"x": x}, algo, rtol=1e-6, elementwise=op == "Softmax")


@algos("SOFTMAX")
def test_softmax_large_and_masked(algo):
    x = f32(4, 33, scale=30.0)
    x[0, :5] = np.finfo(np.float32).min  # masked out, as BERT's mask does
    x[1, :] = -np.inf
    x[2, 3] = np.nan
    x[3, 0] = 1e30
    compare(node_model("Softmax", {"x": x}, axis=-1), {"x": x}, algo, rtol=1e-6, elementwise=True)


@algos("SOFTMAX")
def test_softmax_legacy_2d(algo):
    x = f32(2, 3, 5)
    compare(node_model("Softmax", {"x": x}, opset=11, axis=1), {"x": x}, algo, rtol=1e-6, elementwise=True)


@algos("SOFTMAX")
def test_softmax_inner_axis_stays_naive(algo):
    x = f32(2, 5, 3)
    _, steps = run(node_model("Softmax", {"x": x}, axis=1), {"x": x}, algo)
    assert steps[0][1] == "NAIVE"


@algos("LAYERNORM")
@pytest.mark.parametrize("shape,axis", [((1, 1), -1), ((3, 7), -1), ((2, 5, 8), -1), ((2, 3, 9), 1),
                                        ((4, 33), 1), ((2, 2, 17), -2)])
@pytest.mark.parametrize("bias,nout", [(True, 1), (False, 3)])
def test_layer_norm(algo, shape, axis, bias, nout):
    x = f32(*shape) + 3.0
    ax = axis % len(shape)
    norm = shape[ax:]
    inits = [("s", f32(*norm))] + ([("b", f32(*norm))] if bias else [])
    model = node_model("LayerNormalization", {"x": x}, n_outputs=nout, initializers=inits,
                       out_dtypes=[TensorProto.FLOAT] * nout, axis=axis, epsilon=1e-5)
    compare(model, {"x": x}, algo, rtol=1e-5)


@algos("LAYERNORM")
@pytest.mark.parametrize("mean,spread,n", [(1000.0, 0.01, 128), (-3.0e4, 1.0, 257), (50.0, 1e-3, 768)])
def test_layer_norm_large_mean_small_spread(algo, mean, spread, n):
    """A float mean of values far from 0 is off by up to an ulp of the mean,
    which is a large share of a small spread: the fast row corrects it (the
    fuzz found a 3e-4 relative mismatch vs NAIVE before), so the result
    matches NAIVE to float rounding of the deviations."""
    x = (mean + spread * rng.standard_normal((6, n))).astype(np.float32)
    inits = [("s", f32(n)), ("b", f32(n))]
    model = node_model("LayerNormalization", {"x": x}, n_outputs=3, initializers=inits,
                       out_dtypes=[TensorProto.FLOAT] * 3, axis=-1, epsilon=1e-12)
    compare(model, {"x": x}, algo, rtol=2e-5)


@algos("LAYERNORM")
def test_layer_norm_broadcast_scale_stays_naive(algo):
    x = f32(2, 3, 4)
    model = node_model("LayerNormalization", {"x": x}, initializers=[("s", f32(4))], axis=1)
    _, steps = run(model, {"x": x}, algo)
    assert steps[0][1] == "NAIVE"


# --- pooling ---------------------------------------------------------------------

POOL_CASES = [
    # (input shape, kernel, strides, pads, ceil_mode)
    ((1, 1, 1, 1), [1, 1], [1, 1], [0, 0, 0, 0], 0),
    ((1, 2, 8, 8), [2, 2], [2, 2], [0, 0, 0, 0], 0),
    ((2, 3, 7, 9), [3, 3], [2, 2], [1, 1, 1, 1], 0),
    ((1, 4, 17, 33), [3, 3], [1, 1], [1, 1, 1, 1], 0),
    ((1, 2, 9, 9), [3, 3], [2, 2], [0, 0, 0, 0], 1),
    ((1, 2, 33, 17), [2, 2], [1, 1], [0, 1, 1, 0], 0),
    ((1, 1, 7, 8), [3, 2], [2, 1], [1, 0, 1, 1], 1),
    ((1, 3, 40, 40), [3, 3], [2, 2], [1, 1, 1, 1], 0),
    ((2, 3, 9), [3], [2], [1, 1], 0),  # 1-D
    ((1, 2, 6, 6), [5, 5], [3, 3], [2, 2, 2, 2], 1),
]


@algos("POOL")
@pytest.mark.parametrize("shape,k,s,p,ceil", POOL_CASES)
def test_max_pool(algo, shape, k, s, p, ceil):
    x = f32(*shape)
    x.flat[::11] = np.nan
    compare(node_model("MaxPool", {"x": x}, kernel_shape=k, strides=s, pads=p, ceil_mode=ceil), {"x": x}, algo)


@algos("POOL")
@pytest.mark.parametrize("shape,k,s,p,ceil", POOL_CASES)
@pytest.mark.parametrize("cip", [0, 1])
def test_average_pool(algo, shape, k, s, p, ceil, cip):
    x = f32(*shape)
    model = node_model("AveragePool", {"x": x}, opset=19, kernel_shape=k, strides=s, pads=p, ceil_mode=ceil,
                       count_include_pad=cip)
    compare(model, {"x": x}, algo, rtol=1e-6)


@algos("POOL")
def test_pool_dilation_stays_naive(algo):
    x = f32(1, 1, 9, 9)
    _, steps = run(node_model("MaxPool", {"x": x}, kernel_shape=[2, 2], dilations=[2, 2]), {"x": x}, algo)
    assert steps[0][1] == "NAIVE"


@algos("POOL")
@pytest.mark.parametrize("op", ["GlobalAveragePool", "GlobalMaxPool"])
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 3, 7, 7), (1, 5, 33), (1, 2, 3, 4, 5), (1, 1280, 7, 7)])
def test_global_pool(algo, op, shape):
    x = f32(*shape)
    if op == "GlobalMaxPool":
        x.flat[::5] = np.nan  # ignored, as NAIVE does (a lone NaN gives -inf)
    compare(node_model(op, {"x": x}), {"x": x}, algo, rtol=0.0 if op == "GlobalMaxPool" else 1e-6)


# --- ReduceSum / ReduceMean ------------------------------------------------------

@algos("REDUCE")
@pytest.mark.parametrize("op", ["ReduceSum", "ReduceMean"])
@pytest.mark.parametrize("shape,axes", [
    ((3, 33), [-1]), ((2, 5, 7), [2]), ((2, 8, 9, 9), [2, 3]), ((2, 8, 9, 9), [-2, -1]), ((1, 17), [1]),
    ((4, 9, 6), [1]), ((4, 9, 6), [0]), ((4, 9, 6), [0, 1]), ((2, 1, 7, 3), [1, 2]), ((1, 1), [0, 1]),
    ((5, 7), None), ((2, 3, 4), [0, 2]),  # not one block: the NAIVE loop inside
])
@pytest.mark.parametrize("keepdims", [0, 1])
def test_reduce(algo, op, shape, axes, keepdims):
    x = f32(*shape)
    inits = [("axes", np.array(axes, np.int64))] if axes is not None else []
    model = node_model(op, {"x": x}, initializers=inits, opset=18, keepdims=keepdims)
    compare(model, {"x": x}, algo, rtol=1e-5)


@algos("REDUCE")
@pytest.mark.parametrize("axis", [0, 1])
def test_reduce_max_is_fast_and_exact(algo, axis):
    """ReduceMax runs REDUCE_FAST (a melspectrogram model's hot path) with
    NAIVE's bits, NaN and infinities included."""
    x = f32(5, 37)
    x[1, 3], x[2, 0], x[4, 36] = np.nan, np.inf, -np.inf
    model = node_model("ReduceMax", {"x": x}, initializers=[("axes", np.array([axis], np.int64))], opset=18)
    compare(model, {"x": x}, algo)


# --- Transpose ----------------------------------------------------------------------

@algos("TRANSPOSE")
@pytest.mark.parametrize("shape,perm", [
    ((1, 128, 2, 64), [0, 2, 1, 3]), ((1, 128, 2, 64), [0, 2, 3, 1]), ((2, 7, 3, 9), [0, 2, 1, 3]),
    ((2, 7, 3, 9), [0, 3, 1, 2]), ((2, 7, 3, 9), [0, 2, 3, 1]), ((9, 17), [1, 0]), ((33, 8), [1, 0]),
    ((3, 1, 5), [2, 1, 0]), ((1, 1, 1), [2, 0, 1]), ((4, 5, 6), [0, 1, 2]), ((2, 3, 4, 5, 6), [4, 2, 0, 3, 1]),
    ((0, 3), [1, 0]),
])
@pytest.mark.parametrize("dt", [np.float32, np.int32, np.int64, np.uint8])
def test_transpose(algo, shape, perm, dt):
    x = (rng.standard_normal(shape) * 100).astype(dt)
    if dt == np.int32 and x.size:  # bit patterns of float NaNs (signalling too) and infinities
        x.flat[::3] = np.array([0x7F800001, -0x00400001, 0x7F800000, -1], np.int64).astype(np.int32)[
            np.arange(len(x.flat[::3])) % 4]
    model = node_model("Transpose", {"x": x}, perm=perm)
    ref, _ = run(model, {"x": x}, "NAIVE")
    got, steps = run(model, {"x": x}, algo)
    np.testing.assert_array_equal(got["y0"], ref["y0"])
    np.testing.assert_array_equal(got["y0"], np.transpose(x, perm))
    # Non-4-byte dtypes move with memcpy only when the last input dim stays last.
    moved = [p for p, d in zip(perm, shape) if d != 1]
    last = [i for i, d in enumerate(shape) if d != 1]
    fast = dt in (np.float32, np.int32) or len(moved) <= 1 or moved[-1] == last[-1] or x.size == 0
    assert steps[0][1] == (algo if fast else "NAIVE")


# --- zoo models ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["bert_tiny", "mobilenetv2", "resnet18", "mlp"])
def test_zoo_models_match_ort(name):
    from loadrun import zoo

    model = zoo.build(name)
    net = loadrun.load(model)
    feeds = {}
    for i in net.inputs:
        if i.dtype.startswith("int"):
            hi = 30522 if i.name == "input_ids" else 2
            feeds[i.name] = rng.integers(0, hi, size=i.shape).astype(i.dtype)
        else:
            feeds[i.name] = rng.standard_normal(i.shape).astype(i.dtype)
    got = net.run(feeds)
    ref = ort_run(model, feeds)
    for k in ref:
        assert_close(got[k], ref[k], 1e-4, k)
    ran = {s[1] for s in net.steps()}
    # bert_tiny's Softmax and head Transposes run inside its fused attention
    # (ATTENTION_TILED, on the same softmax row kernel): tests/test_fuse_transformer.py
    expect = {"bert_tiny": {"LAYERNORM", "ELEMWISE"},
              "mobilenetv2": {"POOL"}, "resnet18": {"POOL"}, "mlp": set()}[name]
    for prefix in expect:
        assert f"{prefix}_FAST" in ran, (prefix, ran)


# The whole file again at each other ISA level this CPU runs (isa_levels.py).
test_other_isa_levels = other_isa_levels_test(__file__)
