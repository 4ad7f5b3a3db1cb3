"""Layout conversion (--enable-nchw44 / --enable-nchw88, load(layout=...)):
passes/convert_layout.cpp and the ops it makes (ConvNCHWc, PoolNCHWc,
ToNCHWc, FromNCHWc; ops/conv_nchwc.h).

- Models converted to NCHW44 and NCHW88 give ONNX Runtime's outputs within
  rtol 1e-4 (of the largest output; float32 sums in another order), for
  awkward channel counts (3, 5, 13: not multiples of the block), depthwise,
  residual Add, every pool, Concat (aligned and not), per-channel constants,
  an SE block, intermediates that are also graph outputs, and consumers the
  pass does not convert (Flatten, Gemm, Transpose).
- The trunk stays blocked: mobilenetv2 and resnet18 plans hold exactly one
  ToNCHWc and one FromNCHWc (the perf-notes' "0 layout reorders inside the
  trunk").
- Each fast algorithm of the new ops against its NAIVE one.
- The CLI flags, and the layout names the API refuses.
"""
import numpy as np
import pytest
from onnx import helper

import loadrun
from onnx_ref import assert_close, make_model, ort_run

LAYOUTS = ["nchw44", "nchw88"]
RNG = np.random.default_rng(7)


def w(*shape, scale=0.3):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def conv(name, x, y, wname, bname=None, **attrs):
    ins = [x, wname] + ([bname] if bname else [])
    return helper.make_node("Conv", ins, [y], name=name, **attrs)


def trunk_model(shape=(2, 3, 23, 19)):
    """3 -> 13 -> 13 (dw) -> 5 channels, with residuals, pools, concat, SE."""
    inits = [("w1", w(13, 3, 3, 3)), ("b1", w(13)), ("w2", w(13, 1, 3, 3)), ("w3", w(13, 13, 1, 1)),
             ("w4", w(5, 13, 3, 3)), ("b4", w(5)), ("w5", w(8, 5, 1, 1)), ("wse1", w(4, 13, 1, 1)),
             ("wse2", w(13, 4, 1, 1)), ("scale", w(1, 13, 1, 1)), ("six", np.float32(6)),
             ("zero", np.float32(0)), ("wfc", w(10, 8)), ("half", np.array([0.5], np.float32))]
    nodes = [
        conv("c1", "x", "a1", "w1", "b1", pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["a1"], ["r1"], name="relu1"),
        conv("c2", "r1", "a2", "w2", pads=[1, 1, 1, 1], group=13),
        helper.make_node("Clip", ["a2", "zero", "six"], ["r2"], name="clip2"),
        conv("c3", "r2", "a3", "w3"),
        helper.make_node("Add", ["a3", "r1"], ["s3"], name="res3"),  # residual (fused into c3)
        # SE block: global pool -> 1x1 -> relu -> 1x1 -> sigmoid -> Mul
        helper.make_node("GlobalAveragePool", ["s3"], ["g"], name="gap"),
        conv("se1", "g", "g1", "wse1"),
        helper.make_node("Relu", ["g1"], ["g1r"], name="se_relu"),
        conv("se2", "g1r", "g2", "wse2"),
        helper.make_node("Sigmoid", ["g2"], ["g2s"], name="se_sig"),
        helper.make_node("Mul", ["s3", "g2s"], ["se"], name="se_mul"),
        helper.make_node("Mul", ["se", "scale"], ["sc"], name="per_channel"),
        helper.make_node("MaxPool", ["sc"], ["p1"], name="maxpool", kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1]),
        conv("c4", "p1", "a4", "w4", "b4", pads=[0, 1, 0, 1], dilations=[1, 2]),
        helper.make_node("AveragePool", ["a4"], ["p2"], name="avgpool", kernel_shape=[2, 3], strides=[1, 2],
                         pads=[0, 1, 1, 1], count_include_pad=1, ceil_mode=1),
        conv("c5", "p2", "a5", "w5", strides=[1, 1]),
        helper.make_node("Concat", ["a5", "p2"], ["cat"], name="cat_aligned", axis=1),   # 8 + 5
        helper.make_node("Concat", ["p2", "a5"], ["cat2"], name="cat_unaligned", axis=1),  # 5 + 8: NCHW
        helper.make_node("Mul", ["cat", "half"], ["cath"], name="scalar_mul"),
        helper.make_node("GlobalMaxPool", ["a5"], ["gm"], name="gmp"),
        helper.make_node("Flatten", ["gm"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "wfc"], ["logits"], name="fc", transB=1),
        helper.make_node("Transpose", ["cat2"], ["t"], name="tr", perm=[0, 2, 3, 1]),
    ]
    outs = [("logits", np.float32, None), ("cath", np.float32, None), ("t", np.float32, None),
            ("r1", np.float32, None)]
    return make_model(nodes, [("x", np.float32, list(shape))], outs, initializers=inits)


def _compare(model, feeds, layout, rtol=1e-4, **kw):
    ref = ort_run(model, feeds)
    got = loadrun.load(model, layout=layout, **kw).run(feeds)
    assert set(got) == set(ref)
    for k in ref:
        assert_close(got[k], ref[k], rtol, k)


def _ops(net):
    return [s[0].split("{")[1].rstrip("}") for s in net.steps()]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_trunk_matches_ort(layout):
    _compare(trunk_model(), {"x": RNG.standard_normal((2, 3, 23, 19)).astype(np.float32)}, layout)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_trunk_matches_ort_naive(layout):
    """The same through every op's NAIVE algorithm (the references)."""
    _compare(trunk_model((1, 3, 15, 14)), {"x": RNG.standard_normal((1, 3, 15, 14)).astype(np.float32)}, layout, algo="NAIVE")


def test_trunk_is_converted():
    net = loadrun.load(trunk_model(), layout="nchw88")
    ops = _ops(net)
    assert ops.count("ConvNCHWc") == 7 and ops.count("PoolNCHWc") == 4
    assert ops.count("ToNCHWc") == 1
    # back to NCHW: r1 (output), cath (output), p2 and a5 (the unaligned Concat), gm (Flatten)
    assert ops.count("FromNCHWc") == 5
    assert "Conv" not in ops and "MaxPool" not in ops


@pytest.mark.parametrize("name", ["mobilenetv2", "resnet18"])
def test_zoo_trunk_has_no_reorders(name):
    net = loadrun.load(f"zoo:{name}", layout="nchw44")
    ops = _ops(net)
    assert ops.count("ToNCHWc") == 1 and ops.count("FromNCHWc") == 1
    assert "Conv" not in ops


@pytest.mark.parametrize("layout", LAYOUTS)
def test_mobilenetv2_matches_plain(layout):
    x = RNG.standard_normal((1, 3, 224, 224)).astype(np.float32)
    ref = loadrun.load("zoo:mobilenetv2").run({"input": x})
    got = loadrun.load("zoo:mobilenetv2", layout=layout).run({"input": x})
    for k in ref:
        assert_close(got[k], ref[k], 1e-4, k)


def test_no_conv_no_change():
    m = make_model([helper.make_node("Relu", ["x"], ["y"])], [("x", np.float32, [1, 4, 3, 3])],
                   [("y", np.float32, None)])
    assert _ops(loadrun.load(m, layout="nchw44")) == ["Relu"]


def test_bad_layout_name():
    with pytest.raises(loadrun.InputError, match="layout must be one of nchw44, nchw88"):
        loadrun.load("zoo:mlp", layout="nhwc")


# -- the ops' fast algorithms against NAIVE ------------------------------------

def _blocked_model(op, x_shape, **attrs):
    node = helper.make_node(op, ["x"], ["y"], domain="loadrun", **attrs)
    g = helper.make_graph([node], "t", [helper.make_tensor_value_info("x", 1, list(x_shape))],
                          [helper.make_tensor_value_info("y", 1, None)])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("loadrun", 1)],
                             ir_version=8)


@pytest.mark.parametrize("b", [4, 8])
@pytest.mark.parametrize("pool,attrs", [
    ("MaxPool", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])),
    ("MaxPool", dict(kernel_shape=[2, 3], strides=[1, 2], dilations=[2, 1], ceil_mode=1)),
    ("AveragePool", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1)),
    ("AveragePool", dict(kernel_shape=[3, 2], strides=[2, 1], pads=[1, 0, 1, 1], ceil_mode=1)),
    ("GlobalAveragePool", {}), ("GlobalMaxPool", {})])
def test_pool_fast_vs_naive(b, pool, attrs):
    x = RNG.standard_normal((2, 3, 11, 10, b)).astype(np.float32)
    m = _blocked_model("PoolNCHWc", x.shape, pool=pool, block=b, **attrs)
    fast = loadrun.load(m, algo="POOL_NCHWC_FAST")
    assert _ops(fast) == ["PoolNCHWc"] and fast.steps()[0][1] == "POOL_NCHWC_FAST"
    got = fast.run({"x": x})["y"]
    ref = loadrun.load(m, algo="NAIVE").run({"x": x})["y"]
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("b", [4, 8])
@pytest.mark.parametrize("c", [1, 3, 8, 13])
def test_relayout_round_trip(b, c):
    x = RNG.standard_normal((2, c, 5, 3)).astype(np.float32)
    to = _blocked_model("ToNCHWc", x.shape, block=b)
    for algo in ("NAIVE", "RELAYOUT_FAST"):
        y = loadrun.load(to, algo=algo).run({"x": x})["y"]
        cb = -(-c // b)
        ref = np.zeros((2, cb * b, 5, 3), np.float32)
        ref[:, :c] = x
        np.testing.assert_array_equal(y, ref.reshape(2, cb, b, 5, 3).transpose(0, 1, 3, 4, 2))
        back = _blocked_model("FromNCHWc", y.shape, block=b, channels=c)
        np.testing.assert_array_equal(loadrun.load(back, algo=algo).run({"x": y})["y"], x)


def test_from_nchwc_checks_channels():
    m = _blocked_model("FromNCHWc", (1, 2, 3, 3, 4), block=4, channels=9)
    with pytest.raises(loadrun.LoadrunError, match="2 channel blocks cannot hold 9 channels"):
        loadrun.load(m).run({"x": np.zeros((1, 2, 3, 3, 4), np.float32)})


# -- the CLI -------------------------------------------------------------------

def test_cli_layout_flags(capsys, tmp_path):
    from loadrun.cli.main import main

    path = tmp_path / "trunk.onnx"
    path.write_bytes(trunk_model().SerializeToString())
    assert main([str(path), "--enable-nchw44", "--iter", "1", "--verbose"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and "ConvNCHWc" in out and "ToNCHWc" in out
    assert main([str(path), "--enable-nchw44", "--enable_nchw88", "--iter", "1", "--verbose"]) == 0
    out, err = capsys.readouterr()
    assert err == ("warning: --enable-nchw44, --enable-nchw88: only one layout conversion applies; "
                   "using --enable-nchw88\n")
    assert ",8(1) Float32}" in out  # blocks of 8
    assert main([str(path), "--iter", "1", "--verbose"]) == 0
    out, _ = capsys.readouterr()
    assert "ConvNCHWc" not in out
