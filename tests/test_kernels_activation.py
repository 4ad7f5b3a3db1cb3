"""One definition per activation (csrc/kernels/activation.h, and per ISA
activation_avx2.h): a Conv with a fused activation gives the same result
under every Conv algorithm, and the same as the unfused Conv followed by the
standalone activation op.

For each activation and each Conv algorithm (shapes that cover each
algorithm's full tiles and edges, with and without a fused residual Add):
- fused (one Conv step running the algorithm) against unfused (the same
  algorithm for the Conv, then the activation op: ELEMWISE_FAST, or NAIVE in
  double when the Conv is NAIVE): the Conv sums are the same, so only the
  activation differs: bit for bit (sign of zero and NaN included) for the
  clamps (Relu, Relu6, Clip, LeakyRelu), per element rtol 1e-6 for the
  FMA-rounded HardSigmoid/HardSwish and 3e-6 for the transcendental ones
  (Sigmoid, Swish, Tanh, Gelu both forms), atol 1e-7. A few NaN inputs make
  NaN conv outputs, so each activation's NaN rule is compared too.
- fused against the NAIVE fused Conv (no NaN): the algorithms' own
  tolerances (1e-5, Winograd 1e-4 / 3e-4).
The file reruns at every other ISA level of this CPU (isa_levels.py).
"""
import numpy as np
import pytest
from onnx import helper

import loadrun
from isa_levels import other_isa_levels_test
from onnx_ref import assert_close, make_model

rng = np.random.default_rng(11)

# (name, ONNX op, attrs or Clip bounds, class of comparison)
ACTS = [
    ("Relu", "Relu", {}, "exact"),
    ("Relu6", "Clip", (0.0, 6.0), "exact"),
    ("Clip", "Clip", (-1.5, 2.5), "exact"),
    ("LeakyRelu", "LeakyRelu", {"alpha": 0.1}, "exact"),
    ("HardSigmoid", "HardSigmoid", {"alpha": 0.3, "beta": 0.4}, "fma"),
    ("HardSwish", "HardSwish", {}, "fma"),
    ("Sigmoid", "Sigmoid", {}, "transc"),
    ("Swish", "Swish", {"alpha": 1.5}, "transc"),
    ("Tanh", "Tanh", {}, "transc"),
    ("Gelu", "Gelu", {}, "transc"),
    ("GeluTanh", "Gelu", {"approximate": "tanh"}, "transc"),
]
RTOL = {"exact": 0.0, "fma": 1e-6, "transc": 3e-6}
CONV_RTOL = {"WINOGRAD_F63": 3e-4, "WINOGRAD_F43": 1e-4}

# (algo, x shape, w shape, attrs): full tiles and edges of each algorithm.
CONVS = [
    ("NAIVE", (1, 5, 7, 9), (6, 5, 3, 3), dict(pads=[1, 1, 1, 1])),
    ("CONV1x1_GEMM", (1, 13, 9, 11), (19, 13, 1, 1), {}),            # transposed (small plane)
    ("CONV1x1_GEMM", (1, 5, 17, 19), (7, 5, 1, 1), {}),              # plain GEMM
    ("IM2COL_GEMM", (2, 5, 7, 9), (6, 5, 3, 3), dict(strides=[2, 1], pads=[1, 2, 0, 1])),
    ("IM2COL_GEMM", (1, 9, 40, 40), (5, 9, 5, 3), dict(pads=[2, 1, 2, 1])),
    ("WINOGRAD_F63", (1, 19, 30, 31), (21, 19, 3, 3), dict(pads=[1, 0, 2, 1])),
    ("WINOGRAD_F43", (2, 5, 9, 13), (6, 5, 3, 3), dict(pads=[1, 1, 1, 1])),
    ("DEPTHWISE_DIRECT", (2, 5, 9, 13), (5, 1, 3, 3), dict(group=5, pads=[1, 1, 1, 1])),
    ("DEPTHWISE_DIRECT", (1, 3, 12, 41), (3, 1, 5, 5), dict(group=3, strides=[2, 2], pads=[1, 3, 2, 0])),
    ("DIRECT_SMALL_IC", (1, 3, 23, 21), (13, 3, 7, 7), dict(strides=[2, 2], pads=[3, 3, 3, 3])),
    ("DIRECT_SMALL_IC", (2, 2, 9, 19), (5, 2, 3, 3), dict(pads=[2, 0, 1, 1])),
]


def model(xs, w, b, act, attrs, residual):
    """x -> Conv(w, b) [-> Add(r)] -> activation -> y."""
    _, op, a, _ = act
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", **attrs)]
    prev = "c"
    inputs = [("x", np.float32, list(xs))]
    inits = [("w", w), ("b", b)]
    if residual is not None:
        nodes.append(helper.make_node("Add", ["c", "r"], ["s"], name="add"))
        inputs.append(("r", np.float32, list(residual.shape)))
        prev = "s"
    if op == "Clip":
        inits += [("lo", np.array(a[0], np.float32)), ("hi", np.array(a[1], np.float32))]
        nodes.append(helper.make_node("Clip", [prev, "lo", "hi"], ["y"], name="act"))
    else:
        nodes.append(helper.make_node(op, [prev], ["y"], name="act", **a))
    opset = 24 if op == "Swish" else 20
    return make_model(nodes, inputs, [("y", np.float32, None)], inits, opset=opset)


def out_shape(xs, ws, attrs):
    n, _, *sp = xs
    k = ws[2:]
    s = attrs.get("strides", [1] * len(sp))
    p = attrs.get("pads", [0] * (2 * len(sp)))
    return (n, ws[0]) + tuple((sp[i] + p[i] + p[i + len(sp)] - k[i]) // s[i] + 1 for i in range(len(sp)))


def run(m, feeds, algo, optimize=True):
    net = loadrun.load(m, algo=algo, optimize=optimize)
    y = net.run(feeds)["y"]
    return np.asarray(y), net.steps()


def check_same_formula(got, ref, cls, name):
    if cls == "exact":
        np.testing.assert_array_equal(got, ref, err_msg=name)  # NaN == NaN here
        np.testing.assert_array_equal(np.signbit(got), np.signbit(ref), err_msg=name)
        return
    assert np.array_equal(np.isnan(got), np.isnan(ref)), f"{name}: NaN positions differ"
    inf = np.isinf(ref)
    assert np.array_equal(got[inf], ref[inf]), f"{name}: infinities differ"
    ok = np.isfinite(ref)
    g, r = got[ok].astype(np.float64), ref[ok].astype(np.float64)
    err = np.abs(g - r) - RTOL[cls] * np.abs(r)
    assert np.all(err <= 1e-7), f"{name}: max excess {err.max():.3g} (rtol {RTOL[cls]})"


@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("algo,xs,ws,attrs", CONVS)
@pytest.mark.parametrize("act", ACTS, ids=[a[0] for a in ACTS])
def test_fused_activation_same_under_every_algorithm(act, algo, xs, ws, attrs, residual):
    cin = ws[1] * attrs.get("group", 1)
    x = (rng.standard_normal(xs) * 2).astype(np.float32)
    w = (rng.standard_normal(ws) / np.sqrt(cin * np.prod(ws[2:]) / 4)).astype(np.float32)
    b = rng.standard_normal(ws[0]).astype(np.float32)
    ys = out_shape(xs, ws, attrs)
    res = (rng.standard_normal(ys) * 2).astype(np.float32) if residual else None
    m = model(xs, w, b, act, attrs, res)
    feeds = {"x": x} if res is None else {"x": x, "r": res}

    # vs the NAIVE fused Conv, finite inputs
    got, steps = run(m, feeds, algo)
    assert [s[1] for s in steps] == [algo], steps  # one step: Conv (+ Add) + activation fused
    ref, _ = run(m, feeds, "NAIVE")
    assert_close(got, ref, CONV_RTOL.get(algo, 1e-5), f"{act[0]} {algo}")

    # fused vs unfused with the same Conv algorithm, NaN inputs included
    x = x.copy()
    x.reshape(-1)[rng.choice(x.size, 3, replace=False)] = np.nan
    feeds["x"] = x
    fused, _ = run(m, feeds, algo)
    unfused, steps = run(m, feeds, algo, optimize=False)
    assert steps[0][1] == algo and len(steps) == (3 if residual else 2), steps
    assert steps[-1][1] == ("NAIVE" if algo == "NAIVE" else "ELEMWISE_FAST"), steps
    assert np.isfinite(unfused).any()
    assert np.isnan(unfused).any() == (act[0] != "HardSigmoid")  # its clamp maps NaN to 1
    check_same_formula(fused, unfused, act[3], f"{act[0]} {algo}")


@pytest.mark.parametrize("act", ACTS, ids=[a[0] for a in ACTS])
def test_activation_op_fast_vs_naive_same_formula(act):
    """The standalone op: ELEMWISE_FAST (vector definition) against NAIVE
    (the scalar one in double), over the kinks and tails."""
    _, op, a, cls = act
    x = np.concatenate([np.linspace(-12, 12, 4001), [-3.0, -2.9999998, 3.0000002, 0.0, -0.0, 6.0, -1.5,
                                                      2.5, np.nan, np.inf, -np.inf]]).astype(np.float32)
    x = x.reshape(1, -1)
    inits = []
    if op == "Clip":
        inits = [("lo", np.array(a[0], np.float32)), ("hi", np.array(a[1], np.float32))]
        node = helper.make_node("Clip", ["x", "lo", "hi"], ["y"])
    else:
        node = helper.make_node(op, ["x"], ["y"], **a)
    m = make_model([node], [("x", np.float32, list(x.shape))], [("y", np.float32, None)], inits,
                   opset=24 if op == "Swish" else 20)
    got, steps = run(m, {"x": x}, "ELEMWISE_FAST")
    assert steps[0][1] == "ELEMWISE_FAST"
    ref, _ = run(m, {"x": x}, "NAIVE")
    with np.errstate(invalid="ignore"):
        check_same_formula(got, ref, cls, act[0])


# The whole file again at each other ISA level this CPU runs (isa_levels.py).
test_other_isa_levels = other_isa_levels_test(__file__)
