"""QLinearConv's and ConvInteger's INT8_DIRECT_DOT (NCHW in and out) against NAIVE, exactly.

The cases are test_ops_qlinear_nchw44's (uint8/int8 inputs and weights in
all four pairings, zero points 0 and not 0, per-channel w_scale and
w_zero_point, B, pads, strides, dilation, auto_pad, group 1 and depthwise,
channel counts that are not multiples of 4, outputs that saturate), run with
weights preprocessed and not, on 1 and 2 threads. Also: multipliers of
exactly one half, so that requantisation meets ties that must round to even;
the default heuristic picks INT8_DIRECT_DOT where it can run and NAIVE
where it cannot (a grouped, non-depthwise conv; a 1-D conv); a y_scale of
0 (an infinite multiplier) gives NAIVE's bytes too. ConvInteger (int32
sums) on the same cases, with both zero points, x's only, and none, and
against an int64 sum in NumPy. Integer results are never compared with
ONNX Runtime's kernels.
"""

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from test_ops_qlinear_nchw44 import CASES, U8, S8, conv_model, params, q8, run, seeded_rng  # noqa: F401


def algos(steps, op="QLinearConv"):
    return [s[1] for s in steps if s[0].endswith("{%s}" % op)]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[7].__name__}x{c[8].__name__}-ic{c[1]}oc{c[2]}"
                         f"-k{c[5][0]}{c[5][1]}{'-zp' if c[10] else ''}")
def test_direct_dot_matches_naive(case):
    n, ic, oc, h, w, k, attrs, xt, wt, yt, zps, per_oc, bias, ys = case
    x = q8(xt, n, ic, h, w)
    inits = params(xt, wt, yt, oc, ic // attrs.get("group", 1), k, zps, per_oc, bias, ys)
    model = conv_model("QLinearConv", "", x, inits, yt, **attrs)
    ref, _ = run(model, x, algo="NAIVE")
    for kw in (dict(algo="INT8_DIRECT_DOT"), dict(algo="INT8_DIRECT_DOT", weight_preprocess=False),
               dict(algo="INT8_DIRECT_DOT", threads=2), {}):
        got, steps = run(model, x, **kw)
        assert algos(steps) == ["INT8_DIRECT_DOT"], kw
        assert got.dtype == yt and got.shape == ref.shape
        np.testing.assert_array_equal(got, ref, err_msg=str(kw))


def single_conv(x, w, xs, ws, ys, xzp, wzp, yzp, group=1, bias=None, **attrs):
    inits = [("xs", np.array(xs, np.float32)), ("xzp", xzp), ("w", w),
             ("ws", np.array(ws, np.float32)), ("wzp", wzp), ("ys", np.array(ys, np.float32)),
             ("yzp", yzp)]
    if bias is not None:
        inits.append(("b", bias))
    return conv_model("QLinearConv", "", x, inits, yzp.dtype, group=group, **attrs)


@pytest.mark.parametrize("yt", [U8, S8])
def test_ties_round_to_even(yt):
    # multiplier 0.5 * 1 / 1 = 0.5 exactly: every odd sum is half-way.
    rng = np.random.default_rng(5)
    x = rng.integers(0, 6, (1, 6, 9, 7)).astype(U8)
    w = rng.integers(-3, 4, (5, 6, 3, 3)).astype(S8)
    yzp = np.array(3 if yt is U8 else -7, yt)
    model = single_conv(x, w, 0.5, 1.0, 1.0, np.array(0, U8), np.array(0, S8), yzp,
                        pads=[1, 1, 1, 1])
    ref, _ = run(model, x, algo="NAIVE")
    got, steps = run(model, x)
    assert algos(steps) == ["INT8_DIRECT_DOT"]
    np.testing.assert_array_equal(got, ref)
    # The exact sums; onnx's reference rounds acc * multiplier + y_zero_point
    # half to even (the zero point added before rounding).
    acc = np.zeros((1, 5, 9, 7), np.int64)
    xp = np.pad(x.astype(np.int64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    for ky in range(3):
        for kx in range(3):
            acc += np.einsum("nchw,oc->nohw", xp[:, :, ky:ky + 9, kx:kx + 7],
                             w[:, :, ky, kx].astype(np.int64))
    info = np.iinfo(yt)
    want = np.clip(np.rint(acc * 0.5 + int(yzp)), info.min, info.max).astype(yt)
    assert (acc % 2 != 0).sum() > 50
    np.testing.assert_array_equal(got, want)


def test_default_falls_back_where_it_cannot_run():
    rng = np.random.default_rng(6)
    x = rng.integers(0, 256, (1, 4, 6, 6)).astype(U8)
    grouped = single_conv(x, rng.integers(-128, 128, (4, 2, 3, 3)).astype(S8), 0.1, 0.01, 0.2,
                          np.array(128, U8), np.array(0, S8), np.array(100, U8), group=2)
    ref, _ = run(grouped, x, algo="NAIVE")
    got, steps = run(grouped, x)
    assert algos(steps) == ["NAIVE"]
    np.testing.assert_array_equal(got, ref)
    x1 = rng.integers(0, 256, (1, 4, 9)).astype(U8)
    conv1d = single_conv(x1, rng.integers(-128, 128, (3, 4, 3)).astype(S8), 0.1, 0.01, 0.2,
                         np.array(128, U8), np.array(0, S8), np.array(100, U8))
    got, steps = run(conv1d, x1)
    assert algos(steps) == ["NAIVE"]


def test_zero_y_scale_matches_naive():
    rng = np.random.default_rng(7)
    x = rng.integers(0, 256, (1, 5, 6, 6)).astype(U8)
    model = single_conv(x, rng.integers(-128, 128, (6, 5, 3, 3)).astype(S8), 0.1, 0.01, 0.0,
                        np.array(128, U8), np.array(0, S8), np.array(100, U8))
    ref, _ = run(model, x, algo="NAIVE")
    got, steps = run(model, x)
    assert algos(steps) == ["INT8_DIRECT_DOT"]
    np.testing.assert_array_equal(got, ref)


def conv_integer_model(x, w, zps, **attrs):
    inits = [("w", w)] + [(n, a) for n, a in zip(("xzp", "wzp"), zps)]
    node = helper.make_node("ConvInteger", ["x"] + [n for n, _ in inits], ["y"], **attrs)
    g = helper.make_graph([node], "t", [helper.make_tensor_value_info("x", helper.np_dtype_to_tensor_dtype(x.dtype), x.shape)],
                          [helper.make_tensor_value_info("y", TensorProto.INT32, None)],
                          [numpy_helper.from_array(a, n) for n, a in inits])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)], ir_version=10)


@pytest.mark.parametrize("zp_mode", ["both", "x", "none"])
@pytest.mark.parametrize("case", CASES[:14], ids=lambda c: f"{c[7].__name__}x{c[8].__name__}-ic{c[1]}oc{c[2]}"
                         f"-k{c[5][0]}{c[5][1]}{'-zp' if c[10] else ''}")
def test_conv_integer_matches_naive(case, zp_mode):
    n, ic, oc, h, w, k, attrs, xt, wt, _, _, per_oc, _, _ = case
    x = q8(xt, n, ic, h, w)
    wts = q8(wt, oc, ic // attrs.get("group", 1), *k)
    zps = []
    if zp_mode != "none":
        zps.append(np.array(np.iinfo(xt).min + 99, xt))
    if zp_mode == "both":
        zps.append(q8(wt, oc) if per_oc else np.array(np.iinfo(wt).min + 77, wt))
    model = conv_integer_model(x, wts, zps, **attrs)
    ref, _ = run(model, x, algo="NAIVE")
    for kw in (dict(algo="INT8_DIRECT_DOT"), dict(algo="INT8_DIRECT_DOT", weight_preprocess=False),
               dict(algo="INT8_DIRECT_DOT", threads=2), {}):
        got, steps = run(model, x, **kw)
        assert algos(steps, "ConvInteger") == ["INT8_DIRECT_DOT"], kw
        assert got.dtype == np.int32 and got.shape == ref.shape
        np.testing.assert_array_equal(got, ref, err_msg=str(kw))


def test_conv_integer_exact_sums():
    rng = np.random.default_rng(8)
    x = rng.integers(0, 256, (2, 7, 8, 9)).astype(U8)
    w = rng.integers(-128, 128, (6, 7, 3, 3)).astype(S8)
    xzp, wzp = np.array(200, U8), np.arange(6).astype(S8) - 3
    got, steps = run(conv_integer_model(x, w, [xzp, wzp], pads=[1, 1, 1, 1]), x)
    assert algos(steps, "ConvInteger") == ["INT8_DIRECT_DOT"]
    xp = np.pad(x.astype(np.int64) - 200, ((0, 0), (0, 0), (1, 1), (1, 1)))
    wd = w.astype(np.int64) - wzp.astype(np.int64)[:, None, None, None]
    want = np.zeros((2, 6, 8, 9), np.int64)
    for ky in range(3):
        for kx in range(3):
            want += np.einsum("nchw,oc->nohw", xp[:, :, ky:ky + 8, kx:kx + 9], wd[:, :, ky, kx])
    np.testing.assert_array_equal(got, want.astype(np.int32))
