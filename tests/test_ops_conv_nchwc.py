"""The fast ConvNCHWc algorithms (NCHWC_DIRECT, NCHWC_DEPTHWISE) against
NAIVE, on one-node models of the domain-"loadrun" ConvNCHWc built with
onnx.helper, inputs blocked by numpy here ([N, C, H, W] -> [N, ceil(C/b),
H, W, b]) with NaN in the padded lanes of the last block (input and
residual), so a kernel that lets a padded lane reach a real output fails.
Each algorithm runs by name (loadrun.load(algo=...)), with and without
weight preprocessing, and net.steps() proves it ran. Cases: block 4 and 8,
channels below, at and off a multiple of the block, kernels 1x1 to 7x7,
strides 1-2, dilation 2, asymmetric pads, batch 2, bias or none, a fused
activation and a fused residual. The whole file reruns at every other ISA
level (tests/isa_levels.py).

Tolerance against NAIVE on the real lanes, per element
|fast - naive| <= 1e-4 + 1e-5 |naive| (sums of up to a few hundred
standard-normal products in another order); padded output lanes must be
finite.
"""
import numpy as np
import pytest
from onnx import helper

import loadrun
from isa_levels import other_isa_levels_test
from onnx_ref import assert_close_elementwise, make_model

test_other_isa_levels = other_isa_levels_test(__file__)

RTOL, ATOL = 1e-5, 1e-4
rng = np.random.default_rng(5)


def r(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def block(x, b):
    """[N, C, H, W] -> [N, ceil(C/b), H, W, b], padded lanes NaN."""
    n, c, h, w = x.shape
    cb = -(-c // b)
    p = np.full((n, cb * b, h, w), np.nan, np.float32)
    p[:, :c] = x
    return np.ascontiguousarray(p.reshape(n, cb, b, h, w).transpose(0, 1, 3, 4, 2))


def unblock(y, c):
    n, cb, h, w, b = y.shape
    return y.transpose(0, 1, 4, 2, 3).reshape(n, cb * b, h, w)[:, :c]


def nchwc_model(xb_shape, w, block_size, bias=True, act=None, act_params=None, res_shape=None,
                **attrs):
    inits = [("w", w)] + ([("b", r(w.shape[0]))] if bias else [])
    ins = ["x", "w", "b" if bias else ""]
    kw = dict(attrs, block=block_size)
    if act:
        kw["__loadrun_activation"] = act
        if act_params:
            kw["__loadrun_act_params"] = act_params
    inputs = [("x", np.float32, list(xb_shape))]
    if res_shape is not None:
        ins.append("res")
        kw["__loadrun_residual"] = 1
        inputs.append(("res", np.float32, list(res_shape)))
    while ins and ins[-1] == "":
        ins.pop()
    node = helper.make_node("ConvNCHWc", ins, ["y"], name="conv", domain="loadrun", **kw)
    m = make_model([node], inputs, [("y", np.float32, None)], inits)
    m.opset_import.append(helper.make_opsetid("loadrun", 1))
    return m


def out_hw(h, w, k, attrs):
    s = attrs.get("strides", [1, 1])
    d = attrs.get("dilations", [1, 1])
    p = attrs.get("pads", [0, 0, 0, 0])
    return ((h + p[0] + p[2] - d[0] * (k[0] - 1) - 1) // s[0] + 1,
            (w + p[1] + p[3] - d[1] * (k[1] - 1) - 1) // s[1] + 1)


# (algo, block, x shape NCHW, w shape, attrs, act, residual)
CASES = [
    ("NCHWC_DIRECT", 8, (1, 16, 14, 14), (16, 16, 3, 3), dict(pads=[1, 1, 1, 1]), None, False),
    ("NCHWC_DIRECT", 8, (2, 11, 9, 13), (13, 11, 3, 3), dict(pads=[1, 0, 2, 1]), "Relu", True),
    ("NCHWC_DIRECT", 4, (1, 6, 10, 7), (5, 6, 3, 3), dict(strides=[2, 2], pads=[1, 1, 1, 1]), "Relu6", False),
    ("NCHWC_DIRECT", 4, (1, 3, 11, 12), (9, 3, 1, 1), {}, None, True),
    ("NCHWC_DIRECT", 8, (1, 19, 8, 8), (24, 19, 1, 1), dict(strides=[2, 2]), "HardSwish", False),
    ("NCHWC_DIRECT", 8, (1, 5, 23, 21), (7, 5, 7, 7), dict(strides=[2, 2], pads=[3, 3, 3, 3]), None, False),
    ("NCHWC_DIRECT", 4, (1, 9, 12, 17), (6, 9, 5, 5), dict(pads=[2, 1, 2, 3], dilations=[2, 2]), "Sigmoid", True),
    ("NCHWC_DIRECT", 8, (1, 8, 1, 1), (3, 8, 3, 3), dict(pads=[1, 1, 1, 1]), None, False),
    ("NCHWC_DIRECT", 4, (2, 4, 7, 29), (4, 4, 2, 3), dict(strides=[1, 2], pads=[0, 1, 1, 0]), "Relu", False),
    ("NCHWC_DEPTHWISE", 8, (1, 16, 14, 14), (16, 1, 3, 3), dict(pads=[1, 1, 1, 1]), "Relu6", False),
    ("NCHWC_DEPTHWISE", 8, (2, 13, 15, 9), (13, 1, 3, 3), dict(strides=[2, 2], pads=[1, 0, 1, 1]), None, True),
    ("NCHWC_DEPTHWISE", 4, (1, 6, 11, 19), (6, 1, 3, 3), dict(pads=[0, 2, 1, 0]), "HardSwish", True),
    ("NCHWC_DEPTHWISE", 4, (1, 3, 9, 10), (3, 1, 5, 5), dict(strides=[2, 2], pads=[2, 2, 2, 2]), None, False),
    ("NCHWC_DEPTHWISE", 8, (1, 21, 12, 12), (21, 1, 7, 7), dict(pads=[3, 3, 3, 3]), "Relu", False),
    ("NCHWC_DEPTHWISE", 8, (1, 10, 13, 13), (10, 1, 3, 3), dict(pads=[2, 2, 2, 2], dilations=[2, 2]), None, False),
]


@pytest.mark.parametrize("preprocess", [False, True])
@pytest.mark.parametrize("algo,b,xs,ws,attrs,act,residual", CASES)
def test_algo_vs_naive(algo, b, xs, ws, attrs, act, residual, preprocess):
    oc = ws[0]
    group = xs[1] if algo == "NCHWC_DEPTHWISE" else 1
    attrs = dict(attrs, group=group) if group > 1 else dict(attrs)
    x, w = r(*xs), r(*ws)
    oh, ow = out_hw(xs[2], xs[3], ws[2:], attrs)
    xb = block(x, b)
    feeds = {"x": xb}
    res_shape = None
    if residual:
        feeds["res"] = block(r(xs[0], oc, oh, ow), b)
        res_shape = feeds["res"].shape
    m = nchwc_model(xb.shape, w, b, act=act, res_shape=res_shape, **attrs)
    ref = loadrun.load(m, algo="NAIVE").run(feeds)["y"]
    net = loadrun.load(m, algo=algo, weight_preprocess=preprocess)
    got = net.run(feeds)["y"]
    (step,) = [s for s in net.steps() if s[0].endswith("{ConvNCHWc}")]
    assert step[1] == algo
    assert step[5] == preprocess
    assert got.shape == ref.shape == (xs[0], -(-oc // b), oh, ow, b)
    assert np.isfinite(got).all(), "a padded output lane is not finite"
    assert_close_elementwise(unblock(got, oc), unblock(ref, oc), RTOL, ATOL, algo)
    # A second run on the same network (bound kernels, prepared weights kept).
    assert_close_elementwise(unblock(net.run(feeds)["y"], oc), unblock(ref, oc), RTOL, ATOL, algo)


def test_algos_not_usable_elsewhere():
    """NCHWC_DEPTHWISE never takes a dense conv, NCHWC_DIRECT never a depthwise one."""
    b = 8
    xb = block(r(1, 8, 6, 6), b)
    dense = nchwc_model(xb.shape, r(8, 8, 3, 3), b, pads=[1, 1, 1, 1])
    dw = nchwc_model(xb.shape, r(8, 1, 3, 3), b, pads=[1, 1, 1, 1], group=8)
    for m, algo in ((dense, "NCHWC_DEPTHWISE"), (dw, "NCHWC_DIRECT")):
        net = loadrun.load(m, algo=algo)
        net.run({"x": xb})
        assert net.steps()[0][1] != algo


def test_heuristic_picks_fast_algo():
    b = 8
    xb = block(r(1, 16, 10, 10), b)
    for ws, group, want in (((16, 16, 3, 3), 1, "NCHWC_DIRECT"), ((16, 1, 3, 3), 16, "NCHWC_DEPTHWISE")):
        m = nchwc_model(xb.shape, r(*ws), b, pads=[1, 1, 1, 1], group=group)
        net = loadrun.load(m)
        net.run({"x": xb})
        assert net.steps()[0][1] == want


@pytest.mark.parametrize("algo,ws,group", [("NCHWC_DIRECT", (20, 12, 3, 3), 1),
                                            ("NCHWC_DEPTHWISE", (12, 1, 3, 3), 12)])
def test_threads_and_clip(algo, ws, group):
    """Two threads (work split over image x block x row) give NAIVE's result
    and the one-thread result bit for bit; Clip's bounds reach the epilogue."""
    b = 8
    x = r(2, 12, 17, 15)
    xb = block(x, b)
    attrs = dict(pads=[1, 1, 1, 1], strides=[1, 1])
    if group > 1:
        attrs["group"] = group
    m = nchwc_model(xb.shape, r(*ws), b, act="Clip", act_params=[-0.5, 0.7], **attrs)
    ref = loadrun.load(m, algo="NAIVE").run({"x": xb})["y"]
    one = loadrun.load(m, algo=algo).run({"x": xb})["y"]
    net = loadrun.load(m, algo=algo, threads=2)
    two = net.run({"x": xb})["y"]
    assert net.steps()[0][1] == algo
    assert np.array_equal(one, two)
    assert unblock(two, ws[0]).min() >= -0.5 and unblock(two, ws[0]).max() <= 0.7
    assert_close_elementwise(unblock(two, ws[0]), unblock(ref, ws[0]), RTOL, ATOL, algo)
