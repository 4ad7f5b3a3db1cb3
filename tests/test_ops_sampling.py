"""Pooling, sampling and detection ops of the conformance issue against ONNX
Runtime (or, where ONNX Runtime lacks the opset-28 semantics, against
NumPy): LpPool, MaxPool's Indices, MaxUnpool, GridSample, AffineGrid,
RoiAlign, NonMaxSuppression and Resize (cubic, antialias,
tf_crop_and_resize, keep_aspect_ratio_policy). The other ops of the issue are
in test_ops_misc.py."""
import numpy as np
import pytest
from onnx import helper

import loadrun
from onnx_ref import check_model, check_node, make_model, node_model

rng = np.random.default_rng(7)


def r(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def run(model, feeds):
    return loadrun.load(model).run(feeds)


def one_node(op, inputs, outputs, inits=(), opset=17, **attrs):
    """Model with explicit input/output (name, dtype, shape) lists; inits are (name, array)."""
    node = helper.make_node(op, [n for n, *_ in inputs] + [n for n, _ in inits], [n for n, *_ in outputs],
                            **attrs)
    return make_model([node], inputs, outputs, inits, opset)


# ------------------------------------------------------- LpPool, MaxPool Indices

@pytest.mark.parametrize("shape,attrs", [
    ((1, 2, 9), dict(kernel_shape=[3], p=3, strides=[2])),
    ((1, 2, 7, 8), dict(kernel_shape=[2, 3], p=2)),
    ((2, 1, 6, 6), dict(kernel_shape=[3, 3], p=1, pads=[1, 1, 2, 0], strides=[2, 1])),
    ((1, 1, 5, 7), dict(kernel_shape=[2, 2], p=4, auto_pad="SAME_UPPER")),
    ((1, 1, 5, 7), dict(kernel_shape=[3, 2], p=2, auto_pad="SAME_LOWER", strides=[2, 2])),
    ((1, 1, 7, 7), dict(kernel_shape=[2, 2], p=2, dilations=[2, 2])),
    ((1, 2, 4, 3, 5), dict(kernel_shape=[2, 2, 2], p=3)),
])
def test_lp_pool(shape, attrs):
    check_node("LpPool", {"x": r(*shape)}, opset=18, **attrs)


def maxpool_indices_model(shape, **attrs):
    return one_node("MaxPool", [("x", np.float32, list(shape))], [("y", np.float32, None),
                                                                 ("i", np.int64, None)], opset=12, **attrs)


@pytest.mark.parametrize("shape,attrs", [
    ((2, 3, 6, 7), dict(kernel_shape=[2, 2], strides=[2, 2])),
    ((1, 2, 5, 5), dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1])),
    ((1, 2, 5, 6), dict(kernel_shape=[2, 3], strides=[2, 1], storage_order=1)),
    ((2, 1, 7, 5), dict(kernel_shape=[3, 2], pads=[1, 0, 1, 1], storage_order=1, dilations=[2, 1])),
    ((2, 3, 11), dict(kernel_shape=[3], strides=[2])),
    ((1, 2, 4, 5, 3), dict(kernel_shape=[2, 2, 2])),
])
def test_maxpool_indices(shape, attrs):
    x = r(*shape)
    check_model(maxpool_indices_model(shape, **attrs), {"x": x})


def test_maxpool_indices_ties_take_the_first():
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 1, 1] = x[0, 0, 1, 0] = 5
    got = run(maxpool_indices_model(x.shape, kernel_shape=[2, 2], strides=[2, 2]), {"x": x})
    assert got["i"][0, 0, 0, 0] == 4


# -------------------------------------------------------------- GridSample

@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align", [0, 1])
def test_grid_sample_2d(mode, padding, align):
    x = r(2, 3, 5, 6)
    grid = rng.uniform(-1.4, 1.4, size=(2, 4, 7, 2)).astype(np.float32)
    check_node("GridSample", {"x": x, "g": grid}, opset=20, mode=mode, padding_mode=padding,
               align_corners=align)


@pytest.mark.parametrize("mode", ["nearest", "linear"])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
def test_grid_sample_3d(mode, padding):
    x = r(1, 2, 3, 4, 5)
    grid = rng.uniform(-1.3, 1.3, size=(1, 2, 3, 4, 3)).astype(np.float32)
    check_node("GridSample", {"x": x, "g": grid}, opset=20, mode=mode, padding_mode=padding)


def test_grid_sample_opset16_names():
    x, grid = r(1, 1, 4, 4), rng.uniform(-1, 1, size=(1, 3, 3, 2)).astype(np.float32)
    check_node("GridSample", {"x": x, "g": grid}, opset=16, mode="bicubic", padding_mode="border")
    check_node("GridSample", {"x": x, "g": grid}, opset=16, mode="bilinear")


def test_grid_sample_errors():
    with pytest.raises(loadrun.ModelError, match="mode"):
        loadrun.load(node_model("GridSample", {"x": r(1, 1, 2, 2), "g": r(1, 2, 2, 2)}, opset=20,
                                mode="area", out_dtypes=[1]))
    with pytest.raises(loadrun.ModelError, match="grid must be"):
        loadrun.load(node_model("GridSample", {"x": r(1, 1, 2, 2), "g": r(1, 2, 2, 3)}, opset=20,
                                out_dtypes=[1]))


# -------------------------------------------------------------- AffineGrid

@pytest.mark.parametrize("size", [[2, 3, 4, 5], [2, 1, 1, 3], [2, 2, 3, 4, 2]])
@pytest.mark.parametrize("align", [0, 1])
def test_affine_grid(size, align):
    r_ = len(size) - 2
    theta = r(2, r_, r_ + 1)
    check_node("AffineGrid", {"theta": theta}, initializers=[("size", np.array(size, np.int64))],
               opset=20, align_corners=align)


def test_affine_grid_size_input():
    # size fed at run time: the plan is keyed on its value (tests/test_dynamic_shapes.py)
    m = one_node("AffineGrid", [("t", np.float32, [1, 2, 3]), ("s", np.int64, [4])], [("g", np.float32, None)],
                 opset=20)
    theta = r(1, 2, 3)
    for size in ([1, 1, 3, 4], [1, 2, 5, 2]):
        check_model(m, {"t": theta, "s": np.array(size, np.int64)})


# --------------------------------------------------------------- MaxUnpool

@pytest.mark.parametrize("shape,attrs", [
    ((1, 2, 6, 6), dict(kernel_shape=[2, 2], strides=[2, 2])),
    ((2, 1, 7, 5), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])),
    ((1, 3, 9), dict(kernel_shape=[3], strides=[3])),
])
def test_max_unpool_roundtrip(shape, attrs):
    x = r(*shape)
    pool = helper.make_node("MaxPool", ["x"], ["p", "i"], **attrs)
    unpool = helper.make_node("MaxUnpool", ["p", "i"], ["y"], **attrs)
    m = make_model([pool, unpool], [("x", np.float32, list(shape))], [("y", np.float32, None)], opset=12)
    check_model(m, {"x": x})


def test_max_unpool_output_shape():
    # The reference's semantics: U (4x4 here) sits in the leading corner of the bigger output.
    x = np.array([[[[5, 6], [7, 8]]]], np.float32)
    i = np.array([[[[5, 7], [13, 15]]]], np.int64)
    m = one_node("MaxUnpool", [("x", np.float32, [1, 1, 2, 2]), ("i", np.int64, [1, 1, 2, 2])],
                 [("y", np.float32, None)], inits=[("s", np.array([1, 1, 5, 5], np.int64))],
                 kernel_shape=[2, 2], strides=[2, 2])
    want = np.zeros((1, 1, 5, 5), np.float32)
    want[0, 0, 1, 1], want[0, 0, 1, 3], want[0, 0, 3, 1], want[0, 0, 3, 3] = 5, 6, 7, 8
    np.testing.assert_array_equal(run(m, {"x": x, "i": i})["y"], want)


def test_max_unpool_bad_index():
    m = one_node("MaxUnpool", [("x", np.float32, [1, 1, 1, 1]), ("i", np.int64, [1, 1, 1, 1])],
                 [("y", np.float32, None)], kernel_shape=[2, 2], strides=[2, 2])
    with pytest.raises(loadrun.InputError, match="outside"):
        run(m, {"x": r(1, 1, 1, 1), "i": np.array([[[[4]]]], np.int64)})


# ---------------------------------------------------------------- RoiAlign

ROIS = np.array([[0, 0, 9, 9], [0, 5, 4, 9], [5.5, 5.2, 9.3, 9.1], [-2, 1, 3.4, 12], [2, 2, 2.3, 2.4]],
                np.float32)


@pytest.mark.parametrize("mode", ["avg", "max"])
@pytest.mark.parametrize("coord", ["half_pixel", "output_half_pixel"])
@pytest.mark.parametrize("sampling,scale,oh,ow", [(2, 1.0, 5, 5), (0, 0.5, 3, 4), (1, 2.0, 2, 3)])
def test_roi_align(mode, coord, sampling, scale, oh, ow):
    x = r(2, 3, 10, 10)
    bi = np.array([0, 1, 1, 0, 1], np.int64)
    check_node("RoiAlign", {"x": x, "rois": ROIS, "bi": bi}, opset=16, mode=mode,
               coordinate_transformation_mode=coord, sampling_ratio=sampling, spatial_scale=scale,
               output_height=oh, output_width=ow)


def test_roi_align_opset10():
    x = r(1, 2, 8, 8)
    check_node("RoiAlign", {"x": x, "rois": ROIS[:3] * 0.8, "bi": np.zeros(3, np.int64)}, opset=10,
               output_height=3, output_width=2, sampling_ratio=0)


# ------------------------------------------------------- NonMaxSuppression

def nms_model(boxes, scores, max_out=None, iou=None, score=None, opset=11, **attrs):
    inits = [("boxes", boxes), ("scores", scores)]
    names = ["boxes", "scores"]
    for name, v, dt in [("max_out", max_out, np.int64), ("iou", iou, np.float32), ("score", score, np.float32)]:
        if v is None:
            names.append("")
        else:
            inits.append((name, np.array([v], dt)))
            names.append(name)
    while names[-1] == "":
        names.pop()
    node = helper.make_node("NonMaxSuppression", names, ["sel"], **attrs)
    # an Identity on a graph input keeps the graph from being input-free
    ident = helper.make_node("Identity", ["x"], ["x_out"])
    return make_model([node, ident], [("x", np.float32, [1])],
                      [("sel", np.int64, None), ("x_out", np.float32, None)], inits, opset)


def random_boxes(b, n, center=False):
    xy = rng.uniform(0, 10, size=(b, n, 2))
    wh = rng.uniform(0.5, 4, size=(b, n, 2))
    if center:
        return np.concatenate([xy, wh], -1).astype(np.float32)
    return np.concatenate([xy, xy + wh], -1).astype(np.float32)


@pytest.mark.parametrize("max_out,iou,score", [(3, 0.5, None), (10, 0.2, 0.3), (2, 0.0, 0.0), (0, 0.5, None),
                                               (5, 0.7, -1.0)])
@pytest.mark.parametrize("center", [0, 1])
def test_nms(max_out, iou, score, center):
    boxes = random_boxes(2, 12, center=bool(center))
    scores = rng.uniform(0, 1, size=(2, 3, 12)).astype(np.float32)
    scores[0, 0, 3] = scores[0, 0, 4]  # a tie
    m = nms_model(boxes, scores, max_out, iou, score, center_point_box=center)
    check_model(m, {"x": r(1)})


def test_nms_flipped_corners_and_defaults():
    boxes = random_boxes(1, 8)
    boxes[0, ::2] = boxes[0, ::2][:, [2, 3, 0, 1]]
    scores = rng.uniform(0, 1, size=(1, 2, 8)).astype(np.float32)
    check_model(nms_model(boxes, scores, 4, 0.3), {"x": r(1)})
    check_model(nms_model(boxes, scores), {"x": r(1)})  # no max_out: nothing selected


def test_nms_run_time_inputs():
    # boxes and scores fed at run time: the selection count is inferred at every run
    m = one_node("NonMaxSuppression", [("b", np.float32, [1, 6, 4]), ("s", np.float32, [1, 2, 6])],
                 [("sel", np.int64, None)], inits=[("m", np.array([3], np.int64)), ("iou", np.array([0.4], np.float32))])
    net = loadrun.load(m)
    for _ in range(3):
        feeds = {"b": random_boxes(1, 6), "s": rng.uniform(0, 1, size=(1, 2, 6)).astype(np.float32)}
        got, ref = net.run(feeds)["sel"], check_model(m, feeds)["sel"]
        np.testing.assert_array_equal(got, ref)


# ------------------------------------------------------------------ Resize

def resize_model(x_shape, scales=None, sizes=None, roi=None, opset=19, **attrs):
    inits, names = [], ["x", "", "", ""]
    if roi is not None:
        inits.append(("roi", np.asarray(roi, np.float32)))
        names[1] = "roi"
    if scales is not None:
        inits.append(("scales", np.asarray(scales, np.float32)))
        names[2] = "scales"
    if sizes is not None:
        inits.append(("sizes", np.asarray(sizes, np.int64)))
        names[3] = "sizes"
    while names[-1] == "":
        names.pop()
    node = helper.make_node("Resize", names, ["y"], **attrs)
    return make_model([node], [("x", np.float32, list(x_shape))], [("y", np.float32, None)], inits, opset)


@pytest.mark.parametrize("coord", ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                   "half_pixel_symmetric"])
@pytest.mark.parametrize("scales", [[1, 1, 2, 3], [1, 1, 0.6, 0.5], [1, 1, 1.7, 0.8]])
@pytest.mark.parametrize("a,exclude", [(-0.75, 0), (-0.5, 1)])
def test_resize_cubic(coord, scales, a, exclude):
    x = r(1, 2, 5, 6)
    check_model(resize_model(x.shape, scales=scales, mode="cubic", coordinate_transformation_mode=coord,
                             cubic_coeff_a=a, exclude_outside=exclude), {"x": x})


def test_resize_cubic_sizes_and_axes():
    x = r(2, 3, 4, 7)
    check_model(resize_model(x.shape, sizes=[9, 3], axes=[2, 3], mode="cubic"), {"x": x})


@pytest.mark.parametrize("mode", ["linear", "cubic"])
@pytest.mark.parametrize("scales", [[1, 1, 0.5, 0.5], [1, 1, 0.6, 0.3], [1, 1, 0.25, 1.5]])
def test_resize_antialias(mode, scales):
    x = r(1, 2, 12, 10)
    check_model(resize_model(x.shape, scales=scales, mode=mode, antialias=1), {"x": x})


def test_resize_antialias_sizes_exclude_outside():
    x = r(1, 1, 9, 11)
    check_model(resize_model(x.shape, sizes=[1, 1, 4, 3], mode="cubic", antialias=1, exclude_outside=1),
                {"x": x})


@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
@pytest.mark.parametrize("extrap", [0.0, 10.0])
def test_resize_tf_crop_and_resize(mode, extrap):
    x = r(1, 2, 6, 7)
    roi = [0, 0, 0.2, -0.3, 1, 1, 0.9, 1.2]
    check_model(resize_model(x.shape, sizes=[1, 2, 5, 8], roi=roi, mode=mode,
                             coordinate_transformation_mode="tf_crop_and_resize",
                             extrapolation_value=extrap), {"x": x})


def test_resize_tf_crop_and_resize_axes_and_scales():
    x = r(1, 1, 6, 6)
    check_model(resize_model(x.shape, sizes=[3, 4], roi=[0.6, 0.1, 0.2, 0.8], axes=[3, 2], mode="linear",
                             coordinate_transformation_mode="tf_crop_and_resize"), {"x": x})
    check_model(resize_model(x.shape, scales=[1, 1, 0.8, 1.5], roi=[0, 0, 0.1, 0.1, 1, 1, 0.7, 0.9],
                             mode="linear", coordinate_transformation_mode="tf_crop_and_resize"), {"x": x})


@pytest.mark.parametrize("policy", ["not_larger", "not_smaller"])
@pytest.mark.parametrize("sizes", [[7, 8], [3, 9], [2, 2]])
@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_resize_keep_aspect_ratio(policy, sizes, mode):
    x = r(1, 2, 4, 6)
    check_model(resize_model(x.shape, sizes=sizes, axes=[2, 3], mode=mode, keep_aspect_ratio_policy=policy),
                {"x": x})


def test_resize_cubic_float16():
    x = r(1, 1, 4, 5)
    node = helper.make_node("Resize", ["x", "", "s"], ["y"], mode="cubic")
    m = make_model([node], [("x", np.float16, [1, 1, 4, 5])], [("y", np.float16, None)],
                   [("s", np.array([1, 1, 1.5, 2], np.float32))], 19)
    got = run(m, {"x": x.astype(np.float16)})["y"]
    ref = run(resize_model(x.shape, scales=[1, 1, 1.5, 2], mode="cubic"),
              {"x": x.astype(np.float16).astype(np.float32)})["y"]
    assert got.dtype == np.float16
    np.testing.assert_allclose(got.astype(np.float32), ref, rtol=2e-3, atol=2e-3)
