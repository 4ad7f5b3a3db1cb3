"""Fast upsampling algorithms against NAIVE: DECONV_GEMM (ConvTranspose as a
GEMM plus col2im) and RESIZE_FAST (tabled nearest / separable bilinear
Resize). Each runs by name (loadrun.load(algo=...)), net.steps() proves it
ran, and its output is compared with the NAIVE algorithm's: relative max
error <= 1e-5 for the GEMM and linear paths, exact for nearest. The public
PP-OCRv4 detector (2 ConvTranspose, 6 Resize) runs on them against ORT.
"""
import sys
from pathlib import Path

import numpy as np
import pytest
from onnx import helper, numpy_helper

import loadrun
from isa_levels import other_isa_levels_test
from onnx_ref import assert_close, make_model

rng = np.random.default_rng(11)


def r(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def run(model, feeds, **kw):
    net = loadrun.load(model, **kw)
    return net.run(feeds)["y"], net.steps()


def algo_of(steps, op):
    got = [s[1] for s in steps if s[0].endswith("{" + op + "}")]
    assert len(got) == 1, steps
    return got[0]


# ---------------------------------------------------------------- ConvTranspose

def deconv_model(xs, w, b=None, **attrs):
    inits = [("w", w)] + ([("b", b)] if b is not None else [])
    node = helper.make_node("ConvTranspose", ["x", "w"] + (["b"] if b is not None else []), ["y"],
                            **attrs)
    return make_model([node], [("x", np.float32, list(xs))], [("y", np.float32, None)], inits, opset=19)


# (x shape, w shape (C_in, C_out/group, kh, kw), bias, attributes)
DECONV_CASES = [
    ((1, 24, 20, 20), (24, 24, 2, 2), True, dict(strides=[2, 2])),  # PP-OCR's shape, smaller
    ((2, 5, 7, 9), (5, 3, 3, 3), True, dict(strides=[2, 2], pads=[1, 1, 1, 1])),
    ((1, 4, 6, 5), (4, 2, 4, 3), False, dict(strides=[3, 3], pads=[2, 0, 1, 1])),
    ((1, 3, 5, 7), (3, 4, 3, 3), True, dict(strides=[2, 3], output_padding=[1, 2])),
    ((1, 6, 5, 6), (6, 2, 3, 3), True, dict(group=3, strides=[2, 2], pads=[1, 0, 0, 1])),
    ((1, 4, 6, 7), (4, 3, 3, 2), True, dict(dilations=[2, 3], strides=[2, 1])),
    ((1, 4, 9, 8), (4, 1, 3, 3), False, dict(group=4, strides=[1, 1], pads=[1, 1, 1, 1])),
    ((2, 3, 4, 5), (3, 2, 1, 1), True, {}),
    ((1, 2, 3, 3), (2, 3, 3, 3), True, dict(strides=[2, 2], output_shape=[8, 7])),
    ((1, 2, 5, 4), (2, 2, 3, 3), False, dict(strides=[2, 2], auto_pad="SAME_UPPER")),
    ((1, 2, 5, 4), (2, 2, 4, 3), True, dict(strides=[3, 2], auto_pad="SAME_LOWER")),
    ((1, 3, 1, 1), (3, 2, 5, 5), True, dict(strides=[2, 2], pads=[2, 2, 2, 2])),
    ((1, 2, 4, 4), (2, 2, 3, 3), True, dict(strides=[2, 2], pads=[4, 4, 4, 4])),  # pads > kernel
]


@pytest.mark.parametrize("xs,ws,bias,attrs", DECONV_CASES)
def test_deconv_gemm_vs_naive(xs, ws, bias, attrs):
    group = attrs.get("group", 1)
    b = r(ws[1] * group) if bias else None
    m = deconv_model(xs, r(*ws), b, **attrs)
    x = r(*xs)
    ref, steps = run(m, {"x": x}, algo="NAIVE")
    assert algo_of(steps, "ConvTranspose") == "NAIVE"
    got, steps = run(m, {"x": x}, algo="DECONV_GEMM")
    assert algo_of(steps, "ConvTranspose") == "DECONV_GEMM"
    assert got.shape == ref.shape
    assert_close(got, ref, 1e-5, f"{xs} {ws} {attrs}")


def test_deconv_gemm_not_usable_elsewhere():
    # 1-D and 3-D deconvolutions stay NAIVE; so does float64
    for xs, ws in (((1, 2, 7), (2, 3, 3)), ((1, 2, 3, 4, 3), (2, 2, 2, 2, 2))):
        m = deconv_model(xs, r(*ws), strides=[2] * (len(xs) - 2))
        _, steps = run(m, {"x": r(*xs)}, algo="DECONV_GEMM")
        assert algo_of(steps, "ConvTranspose") == "NAIVE"
    w = rng.standard_normal((2, 3, 3, 3))
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 2])
    m = make_model([node], [("x", np.float64, [1, 2, 4, 4])], [("y", np.float64, None)], [("w", w)])
    net = loadrun.load(m, algo="DECONV_GEMM")
    net.run({"x": rng.standard_normal((1, 2, 4, 4))})
    assert algo_of(net.steps(), "ConvTranspose") == "NAIVE"


def test_deconv_gemm_is_the_default():
    m = deconv_model((1, 8, 6, 6), r(8, 4, 2, 2), r(4), strides=[2, 2])
    _, steps = run(m, {"x": r(1, 8, 6, 6)})
    assert algo_of(steps, "ConvTranspose") == "DECONV_GEMM"


# ----------------------------------------------------------------------- Resize

def resize_model(xs, scales=None, sizes=None, **attrs):
    ins = ["x", "", "scales" if scales is not None else "", "sizes" if sizes is not None else ""]
    while ins and ins[-1] == "":
        ins.pop()
    inits = []
    if scales is not None:
        inits.append(("scales", np.array(scales, np.float32)))
    if sizes is not None:
        inits.append(("sizes", np.array(sizes, np.int64)))
    node = helper.make_node("Resize", ins, ["y"], **attrs)
    return make_model([node], [("x", np.float32, list(xs))], [("y", np.float32, None)], inits, opset=19)


COORDS = ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
          "asymmetric"]
NEAREST = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
# (x shape, scales, sizes)
GEOMS = [
    ((1, 3, 5, 7), [1, 1, 2, 2], None),
    ((2, 2, 7, 5), [1, 1, 1.7, 2.3], None),
    ((1, 2, 9, 11), [1, 1, 0.6, 0.45], None),
    ((1, 1, 6, 5), None, [1, 1, 13, 4]),
    ((1, 2, 4, 6), None, [1, 2, 1, 9]),
    ((1, 3, 1, 1), [1, 1, 3, 2], None),
]


def check_resize(m, x, exact):
    ref, steps = run(m, {"x": x}, algo="NAIVE")
    assert algo_of(steps, "Resize") == "NAIVE"
    got, steps = run(m, {"x": x}, algo="RESIZE_FAST")
    assert algo_of(steps, "Resize") == "RESIZE_FAST"
    assert got.shape == ref.shape
    if exact:
        np.testing.assert_array_equal(got, ref)
    else:
        assert_close(got, ref, 1e-5, "linear")


@pytest.mark.parametrize("geom", range(len(GEOMS)))
@pytest.mark.parametrize("coord", COORDS + ["tf_half_pixel_for_nn"])
@pytest.mark.parametrize("nearest", NEAREST)
def test_resize_nearest_vs_naive(geom, coord, nearest):
    xs, scales, sizes = GEOMS[geom]
    m = resize_model(xs, scales, sizes, mode="nearest", coordinate_transformation_mode=coord,
                     nearest_mode=nearest)
    check_resize(m, r(*xs), exact=True)


@pytest.mark.parametrize("geom", range(len(GEOMS)))
@pytest.mark.parametrize("coord", COORDS)
def test_resize_linear_vs_naive(geom, coord):
    xs, scales, sizes = GEOMS[geom]
    m = resize_model(xs, scales, sizes, mode="linear", coordinate_transformation_mode=coord)
    check_resize(m, r(*xs), exact=False)


def test_resize_old_opsets():
    # Upsample (opset 9) and opset-10 Resize: the importer's "simple" nearest mode
    x = r(1, 2, 5, 6)
    for opset, mode, sc in ((9, "nearest", [1, 1, 2, 3]), (9, "linear", [1, 1, 2.5, 1.5]),
                            (10, "nearest", [1, 1, 0.5, 0.7]), (10, "linear", [1, 1, 3, 2])):
        op = "Upsample" if opset == 9 else "Resize"
        node = helper.make_node(op, ["x", "scales"], ["y"], mode=mode)
        m = make_model([node], [("x", np.float32, [1, 2, 5, 6])], [("y", np.float32, None)],
                       [("scales", np.array(sc, np.float32))], opset=opset)
        check_resize(m, x, exact=mode == "nearest")


def test_resize_keep_aspect_ratio_and_axes():
    x = r(1, 2, 5, 7)
    m = resize_model(x.shape, None, [1, 2, 11, 11], mode="linear",
                     keep_aspect_ratio_policy="not_larger")
    check_resize(m, x, exact=False)
    m = resize_model(x.shape, [2.0, 1.5], None, mode="nearest", axes=[2, 3])
    check_resize(m, x, exact=True)


def test_resize_fast_scales_moving_channels_fall_back():
    # scale 1.2 on C=3 keeps 3 channels but does not map them to themselves
    # (align_corners is the identity, half_pixel is not): the result still matches NAIVE
    x = r(1, 3, 4, 4)
    for coord in ("half_pixel", "asymmetric"):
        for mode in ("nearest", "linear"):
            m = resize_model(x.shape, [1, 1.2, 2, 2], mode=mode,
                             coordinate_transformation_mode=coord)
            check_resize(m, x, exact=mode == "nearest")


def test_resize_fast_not_usable_elsewhere():
    x = r(1, 2, 4, 4)
    cases = [
        resize_model(x.shape, [1, 1, 2, 2], mode="cubic"),
        resize_model(x.shape, [1, 1, 0.5, 0.5], mode="linear", antialias=1),
        resize_model(x.shape, [1, 1, 2, 2], mode="linear", exclude_outside=1),
        resize_model(x.shape, [1, 2, 2, 2], mode="nearest"),  # C changes
        resize_model(x.shape, [2, 1, 2, 2], mode="nearest"),  # N changes
    ]
    for m in cases:
        _, steps = run(m, {"x": x}, algo="RESIZE_FAST")
        assert algo_of(steps, "Resize") == "NAIVE"
    m3 = resize_model((1, 2, 5), [1, 1, 2], mode="nearest")
    _, steps = run(m3, {"x": r(1, 2, 5)}, algo="RESIZE_FAST")
    assert algo_of(steps, "Resize") == "NAIVE"


def test_resize_fast_is_the_default():
    m = resize_model((1, 2, 5, 5), [1, 1, 2, 2], mode="nearest")
    _, steps = run(m, {"x": r(1, 2, 5, 5)})
    assert algo_of(steps, "Resize") == "RESIZE_FAST"


# ------------------------------------------------------------------ PP-OCR det

def test_ppocr_det_fast_upsampling_vs_ort():
    import test_real_models as trm
    from onnx_ref import check_model  # noqa: F401  (same comparison as test_real_models)
    case = trm.CASES["ppocr_det"]
    model = trm.load_or_skip(case.file)
    x = trm.make_input(case)
    net = loadrun.load(model)
    got = net.run({case.input: x})
    algos = {s[1] for s in net.steps() if s[0].endswith("{Resize}") or s[0].endswith("{ConvTranspose}")}
    assert algos == {"RESIZE_FAST", "DECONV_GEMM"}, algos
    from onnx_ref import ort_run
    ref = ort_run(model, {case.input: x})
    for name, want in ref.items():
        assert_close(got[name], want, trm.RTOL, name)


# The whole file again at each other ISA level this CPU runs (isa_levels.py),
# less the whole-model comparisons with ONNX Runtime (the per-algorithm tests
# above cover every kernel).
test_other_isa_levels = other_isa_levels_test(__file__, ["-k", "not ppocr_det"])
