"""QLinearConvNCHW44 (domain loadrun) and the int8 NCHW44 layout pass.

Integer results are compared exactly, never against ONNX Runtime's kernels:
  - the op's NCHW44_DOT (weights preprocessed or not, 1 and 2 threads) and
    NAIVE against QLinearConv's NAIVE on the unblocked input, bit for bit:
    uint8/int8 inputs and weights in all four pairings, zero points 0 and
    not 0, w_scale / w_zero_point per channel, B, pads, strides, dilation,
    auto_pad, group 1 and depthwise, channel counts that are not multiples of 4, an output that
    saturates; the input's lanes past the real channels hold random bytes
    and the output's lanes past OC must be y_zero_point;
  - the pass (load(layout="nchw44-dot")) on small QLinearConv graphs built
    with onnx.helper: a chain stays blocked between converted convs (one
    ToNCHWc, FromNCHWc only where a graph output or another op reads), a
    depthwise conv is converted too, a var
    read by two convs is blocked once, a grouped conv is left alone, graph
    output names are unchanged, and the outputs are bit-identical to the
    unconverted graph's.
"""

import zlib

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import loadrun

rng = np.random.default_rng(44)
U8, S8 = np.uint8, np.int8


@pytest.fixture(autouse=True)
def seeded_rng(request):
    """Each test draws from its own seed (its name), whatever ran before it:
    test_ops_qlinear_conv_fast.py uses these helpers too."""
    global rng
    rng = np.random.default_rng(zlib.crc32(request.node.name.encode()))


def q8(dtype, *shape):
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max + 1, shape).astype(dtype)


def tp(dtype):
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def block(x):
    """NCHW -> NCHW44 with random bytes in the lanes past C (they must never be read)."""
    n, c, h, w = x.shape
    cb = -(-c // 4)
    out = q8(x.dtype, n, cb * 4, h, w)
    out[:, :c] = x
    return out.reshape(n, cb, 4, h, w).transpose(0, 1, 3, 4, 2).copy()


def unblock(y, c):
    n, cb, h, w, b = y.shape
    return y.transpose(0, 1, 4, 2, 3).reshape(n, cb * b, h, w)[:, :c]


def params(xt, wt, yt, oc, ic, k, zps, per_oc, bias, y_scale):
    q = oc if per_oc else 1
    shape = [oc] if per_oc else []
    p = [("xs", np.array(0.05, np.float32)),
         ("xzp", np.array(np.iinfo(xt).min + 147 if zps else 0, xt)),
         ("w", q8(wt, oc, ic, *k)),
         ("ws", rng.uniform(0.002, 0.02, q).astype(np.float32).reshape(shape)),
         ("wzp", (q8(wt, q) if zps else np.zeros(q, wt)).reshape(shape)),
         ("ys", np.array(y_scale, np.float32)),
         ("yzp", np.array(np.iinfo(yt).min + 133 if zps else 0, yt))]
    if bias:
        p.append(("b", rng.integers(-10000, 10000, oc).astype(np.int32)))
    return p


def conv_model(op, domain, x, inits, out_dtype, **attrs):
    node = helper.make_node(op, ["x"] + [n for n, _ in inits], ["y"], name="conv", domain=domain,
                            **attrs)
    g = helper.make_graph([node], "t", [helper.make_tensor_value_info("x", tp(x.dtype), x.shape)],
                          [helper.make_tensor_value_info("y", tp(out_dtype), None)],
                          [numpy_helper.from_array(a, n) for n, a in inits])
    opsets = [helper.make_opsetid("", 21)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    return helper.make_model(g, opset_imports=opsets, ir_version=10)


def run(model, x, **kw):
    net = loadrun.load(model, **kw)
    return net.run({"x": x})["y"], net.steps()


# (n, ic, oc, h, w, kernel, attrs, x dtype, w dtype, y dtype, zero points, per-channel, B, y_scale)
CASES = []
for i, (xt, wt) in enumerate([(U8, S8), (S8, S8), (U8, U8), (S8, U8)]):
    yt = S8 if i % 2 else U8
    for zps in (False, True):
        CASES += [
            (1, 5, 6, 7, 9, (3, 3), dict(pads=[1, 1, 1, 1]), xt, wt, yt, zps, zps, True, 0.5),
            (2, 3, 9, 8, 11, (3, 3), dict(pads=[1, 0, 2, 1], strides=[2, 2]), xt, wt, yt, zps,
             not zps, not zps, 0.3),
            (1, 8, 4, 6, 6, (1, 1), {}, xt, wt, yt, zps, True, False, 0.7),
            (1, 13, 5, 9, 10, (3, 2), dict(pads=[2, 2, 2, 2], dilations=[2, 2]), xt, wt, yt, zps,
             False, True, 0.6),
            (1, 4, 7, 5, 17, (5, 5), dict(auto_pad="SAME_UPPER"), xt, wt, yt, zps, True, True,
             0.02),  # saturates
            # depthwise
            (2, 6, 6, 9, 10, (3, 3), dict(group=6, pads=[1, 1, 1, 1]), xt, wt, yt, zps, zps, True, 0.05),
            (1, 11, 11, 8, 7, (3, 3), dict(group=11, pads=[1, 1, 0, 0], strides=[2, 2]), xt, wt, yt,
             zps, not zps, not zps, 0.08),
        ]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[7].__name__}x{c[8].__name__}-ic{c[1]}oc{c[2]}"
                         f"-k{c[5][0]}{c[5][1]}{'-zp' if c[10] else ''}")
def test_op_matches_qlinear_conv(case):
    n, ic, oc, h, w, k, attrs, xt, wt, yt, zps, per_oc, bias, ys = case
    x = q8(xt, n, ic, h, w)
    xb = block(x)
    inits = params(xt, wt, yt, oc, ic // attrs.get("group", 1), k, zps, per_oc, bias, ys)
    ref, _ = run(conv_model("QLinearConv", "", x, inits, yt, **attrs), x, algo="NAIVE")
    blocked = conv_model("QLinearConvNCHW44", "loadrun", xb, inits, yt, **attrs)
    yzp = inits[6][1]
    for kw in (dict(algo="NAIVE"), dict(algo="NCHW44_DOT"), dict(algo="NCHW44_DOT", weight_preprocess=False),
               dict(algo="NCHW44_DOT", threads=2)):
        got, steps = run(blocked, xb, **kw)
        assert [s[1] for s in steps if s[0].endswith("{QLinearConvNCHW44}")] == [kw["algo"]]
        assert got.dtype == yt and got.shape == (n, -(-oc // 4), *ref.shape[2:], 4)
        np.testing.assert_array_equal(unblock(got, oc), ref, err_msg=str(kw))
        assert (got.transpose(0, 1, 4, 2, 3).reshape(n, -1, *ref.shape[2:])[:, oc:] == yzp).all()
    # Not degenerate: most cases spread over the output range (uint8 x uint8
    # without zero points sums only positive products and saturates, as the
    # y_scale 0.02 cases are meant to).
    if ref.size > 50 and ys > 0.04 and not (xt is U8 and wt is U8 and not zps):
        assert len(np.unique(ref)) > 10
    if ys < 0.04:
        assert (ref == np.iinfo(yt).max).any()
        if not (xt is U8 and wt is U8 and not zps):
            assert (ref == np.iinfo(yt).min).any()


# ------------------------------------------------------------------ the pass
def qconv(name, x, y, w, zp_x, zp_y, group=1, **attrs):
    oc = w.shape[0]
    inits = [(f"{name}.xs", np.array(0.04, np.float32)), (f"{name}.xzp", zp_x),
             (f"{name}.w", w), (f"{name}.ws", rng.uniform(0.002, 0.01, oc).astype(np.float32)),
             (f"{name}.wzp", np.zeros(oc, w.dtype)), (f"{name}.ys", np.array(0.1, np.float32)),
             (f"{name}.yzp", zp_y), (f"{name}.b", rng.integers(-3000, 3000, oc).astype(np.int32))]
    node = helper.make_node("QLinearConv", [x] + [n for n, _ in inits], [y], name=name, group=group,
                            **attrs)
    return node, inits


def graph_model(nodes_inits, x_shape, outputs):
    nodes = [n for n, _ in nodes_inits]
    inits = [i for _, ii in nodes_inits for i in ii]
    g = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.UINT8, x_shape)],
                          [helper.make_tensor_value_info(o, TensorProto.UINT8, None) for o in outputs],
                          [numpy_helper.from_array(a, n) for n, a in inits])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)], ir_version=10)


def run_converted(model, feeds, **kw):
    net = loadrun.load(model, layout="nchw44-dot", **kw)
    return net.run(feeds), net.steps()


def types(steps):
    return [s[0][s[0].index("{") + 1:-1] for s in steps]


def test_pass_chain_bit_identical():
    zp = np.array(128, U8)
    nodes = [
        qconv("c1", "x", "a", q8(S8, 6, 3, 3, 3), zp, zp, pads=[1, 1, 1, 1]),
        qconv("c2", "a", "b", q8(S8, 8, 6, 3, 3), zp, zp, pads=[1, 1, 1, 1], strides=[2, 2]),
        qconv("c3", "b", "c", q8(S8, 5, 8, 1, 1), zp, zp),        # reads b ...
        qconv("c4", "b", "d", q8(S8, 7, 8, 3, 3), zp, zp),        # ... and so does c4
        qconv("g", "a", "e", q8(S8, 6, 3, 3, 3), zp, zp, group=2, pads=[1, 1, 1, 1]),  # grouped: stays
        qconv("dw", "b", "f", q8(S8, 8, 1, 3, 3), zp, zp, group=8, pads=[1, 1, 1, 1]),  # depthwise
    ]
    model = graph_model(nodes, [2, 3, 13, 11], ["c", "d", "e", "a", "f"])
    x = q8(U8, 2, 3, 13, 11)
    ref = loadrun.load(model, algo="NAIVE").run({"x": x})
    assert all(len(np.unique(v)) > 10 for v in ref.values())
    for kw in (dict(), dict(algo="NAIVE"), dict(weight_preprocess=False), dict(threads=2)):
        got, steps = run_converted(model, {"x": x}, **kw)
        assert set(got) == {"c", "d", "e", "a", "f"}
        for name in ref:
            np.testing.assert_array_equal(got[name], ref[name], err_msg=f"{name} {kw}")
        t = types(steps)
        assert t.count("QLinearConvNCHW44") == 5 and t.count("QLinearConv") == 1
        # x blocked once; a unblocked (graph output, grouped conv); b stays blocked
        # (read by c3, c4 and dw only); c, d and f are outputs.
        assert t.count("ToNCHWc") == 1 and t.count("FromNCHWc") == 4
        algos = {s[0]: s[1] for s in steps}
        if kw.get("algo") != "NAIVE":
            assert algos["c2{QLinearConvNCHW44}"] == algos["dw{QLinearConvNCHW44}"] == "NCHW44_DOT"


def test_pass_leaves_other_graphs_alone():
    zp = np.array(0, U8)
    model = graph_model([qconv("g", "x", "y", q8(S8, 4, 2, 3, 3), zp, zp, group=2)], [1, 4, 5, 5], ["y"])
    steps = loadrun.load(model, layout="nchw44-dot").steps()
    assert types(steps) == ["QLinearConv"]
