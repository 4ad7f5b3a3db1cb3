"""Spatial NN ops (ConvTranspose, BatchNormalization, pools, Resize) against ONNX Runtime."""
import numpy as np
import pytest
from onnx import helper

import onnx
from onnx import numpy_helper

import loadrun
from onnx_ref import assert_close, check_model, check_node, make_model, node_model, ort_run

rng = np.random.default_rng(0)


def r(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- ConvTranspose

@pytest.mark.parametrize("n,c,h,w,ocg,k,stride,pads,dil,group,opad", [
    (1, 1, 1, 1, 1, 1, [1, 1], [0, 0, 0, 0], [1, 1], 1, [0, 0]),      # all size 1
    (2, 3, 5, 7, 4, 3, [1, 1], [1, 1, 1, 1], [1, 1], 1, [0, 0]),      # odd sizes, batch 2
    (1, 4, 4, 3, 3, 3, [2, 3], [0, 1, 2, 0], [1, 1], 2, [1, 2]),      # groups, asym pads, output_padding
    (1, 6, 3, 5, 1, 3, [2, 2], [1, 1, 1, 1], [2, 3], 6, [1, 0]),      # depthwise, dilation
    (1, 2, 3, 4, 2, 2, [4, 3], [0, 0, 0, 0], [1, 1], 1, [3, 0]),      # stride > kernel
    (1, 3, 1, 6, 2, 3, [1, 2], [1, 0, 1, 2], [1, 2], 1, [0, 1]),      # size-1 spatial
])
def test_conv_transpose_2d(n, c, h, w, ocg, k, stride, pads, dil, group, opad):
    wt = r(c, ocg, k, k + 1)
    b = r(ocg * group)
    check_node("ConvTranspose", {"x": r(n, c, h, w)}, initializers=[("w", wt), ("b", b)],
               strides=stride, pads=pads, dilations=dil, group=group, output_padding=opad)


def test_conv_transpose_no_bias_kernel_shape_attr():
    check_node("ConvTranspose", {"x": r(1, 2, 4, 5)}, initializers=[("w", r(2, 3, 2, 3))],
               kernel_shape=[2, 3], strides=[2, 1])


def test_conv_transpose_1d():
    check_node("ConvTranspose", {"x": r(2, 4, 7)}, initializers=[("w", r(4, 3, 3)), ("b", r(6))],
               strides=[3], pads=[1, 2], dilations=[2], group=2, output_padding=[1])


@pytest.mark.parametrize("auto_pad", ["NOTSET", "SAME_UPPER", "SAME_LOWER"])
@pytest.mark.parametrize("output_shape", [[10, 9], [11, 12], [12, 14], [5, 4]])
def test_conv_transpose_output_shape(auto_pad, output_shape):
    # Natural size (5-1)*2+3 = 11 and (4-1)*3+3 = 12: odd total padding on H,
    # none, negative (output past the natural size), large.
    x, wb = r(1, 3, 5, 4), [("w", r(3, 2, 3, 3)), ("b", r(2))]
    ref = check_node("ConvTranspose", {"x": x}, initializers=wb, strides=[2, 3],
                     output_shape=output_shape, auto_pad=auto_pad)["y0"]
    # output_shape with N and C too (ONNX shape inference rejects it; ORT and loadrun accept it).
    full = node_model("ConvTranspose", {"x": x}, initializers=wb, strides=[2, 3], out_dtypes=[1],
                      output_shape=[1, 2] + output_shape, auto_pad=auto_pad)
    np.testing.assert_array_equal(loadrun.load(full).run({"x": x})["y0"], ref)


def test_conv_transpose_output_shape_with_output_padding():
    check_node("ConvTranspose", {"x": r(1, 2, 3, 3)}, initializers=[("w", r(2, 2, 3, 3))],
               strides=[2, 2], output_padding=[1, 1], output_shape=[6, 7])


@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER", "VALID"])
def test_conv_transpose_auto_pad(auto_pad):
    check_node("ConvTranspose", {"x": r(1, 2, 5, 6)}, initializers=[("w", r(2, 3, 4, 3))],
               strides=[2, 3], auto_pad=auto_pad)


def as_f64(model):
    """The same model with every float32 input, output and initializer as float64."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for vi in list(m.graph.input) + list(m.graph.output):
        if vi.type.tensor_type.elem_type == onnx.TensorProto.FLOAT:
            vi.type.tensor_type.elem_type = onnx.TensorProto.DOUBLE
    for i, t in enumerate(m.graph.initializer):
        a = numpy_helper.to_array(t)
        if a.dtype == np.float32:
            m.graph.initializer[i].CopyFrom(numpy_helper.from_array(a.astype(np.float64), t.name))
    return m


def check_f64(model, feeds):
    """float64 in loadrun against float32 in ONNX Runtime (whose CPU kernels lack float64 here)."""
    ref = ort_run(model, feeds)
    got = loadrun.load(as_f64(model)).run({k: v.astype(np.float64) for k, v in feeds.items()})
    for k in ref:
        assert got[k].dtype == np.float64
        assert_close(got[k].astype(np.float32), ref[k], 1e-5, k)


def test_conv_transpose_float64():
    x = r(1, 2, 3, 4)
    m = node_model("ConvTranspose", {"x": x}, initializers=[("w", r(2, 2, 3, 3)), ("b", r(2))],
                   strides=[2, 2], pads=[1, 0, 0, 1])
    check_f64(m, {"x": x})


def test_conv_transpose_errors():
    m = node_model("ConvTranspose", {"x": r(1, 3, 4, 4)}, initializers=[("w", r(2, 2, 3, 3))],
                   out_dtypes=[1])
    with pytest.raises(loadrun.ModelError, match="channels"):
        loadrun.load(m)
    m = node_model("ConvTranspose", {"x": r(1, 2)}, initializers=[("w", r(2, 2))], out_dtypes=[1])
    with pytest.raises(loadrun.ModelError, match="rank >= 3"):
        loadrun.load(m)


# ----------------------------------------------------------- BatchNormalization

def bn_params(c, dtype=np.float32):
    return [("scale", r(c, dtype=dtype)), ("bias", r(c, dtype=dtype)), ("mean", r(c, dtype=dtype)),
            ("var", (rng.random(c) + 0.1).astype(dtype))]


@pytest.mark.parametrize("shape", [(3, 5), (2, 4, 7), (2, 3, 5, 1), (1, 1, 1, 1), (2, 3, 2, 3, 4)])
def test_batch_norm(shape):
    check_node("BatchNormalization", {"x": r(*shape)}, initializers=bn_params(shape[1]), epsilon=1e-3)


def test_batch_norm_float64_default_epsilon():
    check_node("BatchNormalization", {"x": r(2, 3, 4, dtype=np.float64)},
               initializers=bn_params(3, np.float64))
    x = r(2, 3, 4)
    check_f64(node_model("BatchNormalization", {"x": x}, initializers=bn_params(3)), {"x": x})


@pytest.mark.parametrize("opset", [7, 9, 14])
def test_batch_norm_old_opsets(opset):
    attrs = {"spatial": 1} if opset < 9 else {}
    check_node("BatchNormalization", {"x": r(2, 3, 4, 5)}, initializers=bn_params(3), opset=opset,
               momentum=0.9, **attrs)


BN_PARAMS = bn_params(3)


def bn_model(outputs, graph_outputs, opset, **attrs):
    node = helper.make_node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], outputs, **attrs)
    return make_model([node], [("x", np.float32, [2, 3, 4])],
                      [(o, np.float32, None) for o in graph_outputs], BN_PARAMS, opset)


def test_batch_norm_omitted_old_outputs_are_dropped():
    # ("" outputs: not requested, so inference.) ONNX Runtime crashes on this
    # form, so compare with the same node without them.
    x = r(2, 3, 4)
    got = loadrun.load(bn_model(["y", "", "", "", ""], ["y"], 9)).run({"x": x})["y"]
    ref = check_model(bn_model(["y"], ["y"], 9), {"x": x})["y"]
    np.testing.assert_array_equal(got, ref)


def test_batch_norm_opset14_unused_running_outputs_dropped():
    x = r(2, 3, 4)
    got = loadrun.load(bn_model(["y", "rm", "rv"], ["y"], 15, training_mode=0)).run({"x": x})["y"]
    ref = check_model(bn_model(["y"], ["y"], 15), {"x": x})["y"]
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("outputs,graph_outputs,opset,attrs", [
    (["y", "m", "v", "sm", "sv"], ["y"], 9, {}),        # named statistics = training (even unread)
    (["y", "m", "v"], ["y", "m"], 12, {}),
    (["y"], ["y"], 7, {"spatial": 0}),
])
def test_batch_norm_training_unsupported(outputs, graph_outputs, opset, attrs):
    # (opset >= 14 training_mode=1 is supported: tests/test_ops_rest.py)
    with pytest.raises(loadrun.UnsupportedError, match="training|spatial"):
        loadrun.load(bn_model(outputs, graph_outputs, opset, **attrs))


def test_batch_norm_bad_param_shape():
    m = node_model("BatchNormalization", {"x": r(2, 3, 4)}, initializers=bn_params(4))
    with pytest.raises(loadrun.ModelError, match="per channel"):
        loadrun.load(m)


# ---------------------------------------------------------------------- pools

POOL_CASES = [
    # shape, kernel, strides, pads, ceil_mode, dilations
    ((1, 1, 1, 1), [1, 1], [1, 1], [0, 0, 0, 0], 0, None),
    ((2, 3, 7, 9), [3, 3], [2, 2], [1, 1, 1, 1], 0, None),
    ((1, 2, 5, 7), [3, 2], [2, 3], [1, 0, 1, 1], 1, None),          # last window starts in padding
    ((1, 2, 6, 6), [2, 2], [3, 3], [0, 0, 0, 0], 0, None),          # stride > kernel
    ((1, 2, 6, 5), [2, 2], [3, 3], [0, 0, 0, 0], 1, None),
    ((1, 3, 8, 1), [3, 1], [2, 1], [2, 0, 1, 0], 1, None),          # size-1 spatial, asym pads
    ((1, 2, 9, 8), [3, 2], [1, 2], [1, 1, 2, 0], 0, [2, 3]),        # dilation
    ((1, 1, 10, 7), [3, 3], [2, 2], [1, 1, 1, 1], 1, [2, 2]),
]


@pytest.mark.parametrize("shape,k,s,p,ceil,dil", POOL_CASES)
def test_max_pool(shape, k, s, p, ceil, dil):
    attrs = {"dilations": dil} if dil else {}
    check_node("MaxPool", {"x": r(*shape)}, kernel_shape=k, strides=s, pads=p, ceil_mode=ceil, **attrs)


@pytest.mark.parametrize("cip", [0, 1])
@pytest.mark.parametrize("shape,k,s,p,ceil,dil", POOL_CASES)
def test_average_pool(shape, k, s, p, ceil, dil, cip):
    attrs = {"dilations": dil} if dil else {}
    check_node("AveragePool", {"x": r(*shape)}, kernel_shape=k, strides=s, pads=p, ceil_mode=ceil,
               count_include_pad=cip, opset=19, **attrs)


@pytest.mark.parametrize("cip", [0, 1])
def test_average_pool_ceil_past_end_padding(cip):
    # Windows at -1, 1, 3, 5 over [-1, 7): the last one runs past the end pad.
    x = np.arange(1, 7, dtype=np.float32).reshape(1, 1, 6)
    got = check_node("AveragePool", {"x": x}, kernel_shape=[3], strides=[2], pads=[1, 1], ceil_mode=1,
                     count_include_pad=cip)["y0"]
    want = [1.0, 3.0, 5.0, 3.0] if cip else [1.5, 3.0, 5.0, 6.0]
    np.testing.assert_allclose(got.ravel(), want)


@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER", "VALID"])
def test_pool_auto_pad(op, auto_pad):
    check_node(op, {"x": r(1, 2, 7, 6)}, kernel_shape=[3, 2], strides=[2, 2], auto_pad=auto_pad)


@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
def test_pool_1d_and_3d(op):
    check_node(op, {"x": r(2, 3, 11)}, kernel_shape=[4], strides=[3], pads=[2, 1], ceil_mode=1)
    check_node(op, {"x": r(1, 2, 5, 4, 6)}, kernel_shape=[2, 3, 2], strides=[2, 1, 2], pads=[1, 0, 1, 0, 1, 1])


def test_max_pool_int8_and_old_opsets():
    x = rng.integers(-128, 127, (1, 2, 5, 5), dtype=np.int8)
    check_node("MaxPool", {"x": x}, kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 1, 1])
    check_node("MaxPool", {"x": r(1, 2, 5, 5)}, kernel_shape=[3, 3], strides=[2, 2], opset=7)
    check_node("AveragePool", {"x": r(1, 2, 5, 5)}, kernel_shape=[3, 3], pads=[1, 1, 1, 1], opset=7,
               count_include_pad=1)


def test_max_pool_all_negative_with_padding():
    # Padding must not win the max (it is not a zero).
    x = -np.abs(r(1, 1, 4, 4)) - 1
    check_node("MaxPool", {"x": x}, kernel_shape=[3, 3], pads=[1, 1, 1, 1])


@pytest.mark.parametrize("op", ["GlobalAveragePool", "GlobalMaxPool"])
@pytest.mark.parametrize("shape", [(2, 3, 5), (1, 4, 3, 7), (1, 2, 1, 1), (2, 2, 3, 2, 3)])
def test_global_pool(op, shape):
    check_node(op, {"x": r(*shape)})


def test_max_pool_indices():
    # The Indices output is covered in depth by tests/test_ops_sampling.py.
    node = helper.make_node("MaxPool", ["x"], ["y", "idx"], kernel_shape=[2, 2])
    m = make_model([node], [("x", np.float32, [1, 1, 4, 4])],
                   [("y", np.float32, None), ("idx", np.int64, None)])
    check_model(m, {"x": r(1, 1, 4, 4)})


def test_max_pool_unread_indices_dropped():
    node = helper.make_node("MaxPool", ["x"], ["y", "idx"], kernel_shape=[2, 2], storage_order=1)
    m = make_model([node], [("x", np.float32, [1, 2, 4, 5])], [("y", np.float32, None)])
    check_model(m, {"x": r(1, 2, 4, 5)})


def test_pool_errors():
    with pytest.raises(loadrun.ModelError, match="auto_pad"):
        loadrun.load(node_model("MaxPool", {"x": r(1, 1, 4, 4)}, kernel_shape=[2, 2], auto_pad="BOGUS",
                                out_dtypes=[1]))
    with pytest.raises(loadrun.ModelError, match="kernel"):
        loadrun.load(node_model("AveragePool", {"x": r(1, 1, 4, 4)}, kernel_shape=[2], out_dtypes=[1]))
    with pytest.raises(loadrun.ModelError, match="does not fit"):
        loadrun.load(node_model("MaxPool", {"x": r(1, 1, 2, 2)}, kernel_shape=[3, 3], out_dtypes=[1]))


# --------------------------------------------------------------------- Resize

def resize_model(x_shape, scales=None, sizes=None, opset=19, dtype=np.float32, roi="", **attrs):
    """Resize with roi / scales / sizes as constants, or "" when absent."""
    inits, names = [], ["x", roi, "", ""]
    if roi:
        inits.append((roi, np.zeros(0, np.float32)))
    if scales is not None:
        inits.append(("scales", np.asarray(scales, np.float32)))
        names[2] = "scales"
    if sizes is not None:
        inits.append(("sizes", np.asarray(sizes, np.int64)))
        names[3] = "sizes"
    while names[-1] == "":
        names.pop()
    node = helper.make_node("Resize", names, ["y"], **attrs)
    return make_model([node], [("x", dtype, list(x_shape))], [("y", dtype, None)], inits, opset)


COORD_MODES = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "half_pixel_symmetric"]
NEAREST_MODES = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]


@pytest.mark.parametrize("coord", COORD_MODES)
@pytest.mark.parametrize("nearest", NEAREST_MODES)
@pytest.mark.parametrize("scales", [[1, 1, 1.7, 2.5], [1, 1, 0.6, 0.45], [1, 1, 3, 0.5], [1, 1, 2, 4]])
def test_resize_nearest(coord, nearest, scales):
    x = r(1, 2, 5, 9)
    check_model(resize_model(x.shape, scales=scales, mode="nearest", coordinate_transformation_mode=coord,
                             nearest_mode=nearest), {"x": x})


@pytest.mark.parametrize("coord", COORD_MODES)
@pytest.mark.parametrize("sizes", [[1, 2, 8, 3], [1, 2, 1, 13], [1, 2, 5, 9]])
def test_resize_nearest_sizes(coord, sizes):
    x = r(1, 2, 5, 9)
    check_model(resize_model(x.shape, sizes=sizes, mode="nearest", coordinate_transformation_mode=coord,
                             nearest_mode="round_prefer_ceil"), {"x": x})


@pytest.mark.parametrize("coord", COORD_MODES)
@pytest.mark.parametrize("scales,sizes", [([1, 1, 2.3, 1.5], None), ([1, 1, 0.7, 0.4], None),
                                          (None, [2, 3, 1, 4]), (None, [2, 3, 9, 2])])
def test_resize_linear(coord, scales, sizes):
    x = r(2, 3, 5, 7)
    check_model(resize_model(x.shape, scales=scales, sizes=sizes, mode="linear",
                             coordinate_transformation_mode=coord), {"x": x})


def test_resize_linear_2d_input_and_float64():
    x = r(4, 6)
    check_model(resize_model(x.shape, scales=[1.5, 0.5], mode="linear"), {"x": x})
    x = r(1, 1, 3, 4)
    check_f64(resize_model(x.shape, sizes=[1, 1, 7, 5], mode="linear",
                           coordinate_transformation_mode="align_corners"), {"x": x})


def test_resize_axes_attribute():
    x = r(1, 2, 5, 6)
    check_model(resize_model(x.shape, scales=[2.0, 0.5], axes=[-1, 2], mode="linear"), {"x": x})
    check_model(resize_model(x.shape, sizes=[3, 11], axes=[2, 3], mode="nearest"), {"x": x})


def test_resize_opset11_empty_scales_and_roi():
    # Opset 11: roi and scales are required inputs; sizes go with an empty scales.
    x = r(1, 2, 3, 4)
    node = helper.make_node("Resize", ["x", "roi", "scales", "sizes"], ["y"], mode="nearest",
                            coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    m = make_model([node], [("x", np.float32, [1, 2, 3, 4])], [("y", np.float32, None)],
                   [("roi", np.zeros(0, np.float32)), ("scales", np.zeros(0, np.float32)),
                    ("sizes", np.array([1, 2, 7, 5], np.int64))], opset=11)
    check_model(m, {"x": x})
    check_model(resize_model(x.shape, scales=[1, 1, 2, 2], opset=11, roi="roi", mode="linear"), {"x": x})


def test_resize_nearest_integer_dtypes():
    x = rng.integers(-1000, 1000, (1, 1, 3, 5), dtype=np.int32)
    ref = check_model(resize_model(x.shape, scales=[1, 1, 2, 0.6], dtype=np.int32), {"x": x})["y"]
    # int64 (not in ORT's kernel): same indices as int32.
    got = loadrun.load(resize_model(x.shape, scales=[1, 1, 2, 0.6], dtype=np.int64)).run(
        {"x": x.astype(np.int64)})["y"]
    np.testing.assert_array_equal(got, ref.astype(np.int64))
    xu = rng.integers(0, 255, (1, 2, 4, 3), dtype=np.uint8)
    check_model(resize_model(xu.shape, sizes=[1, 2, 6, 6], dtype=np.uint8), {"x": xu})


def test_resize_opset10():
    x = r(1, 2, 4, 10)
    node = helper.make_node("Resize", ["x", "scales"], ["y"], mode="nearest")
    for scales in ([1, 1, 2, 3], [1, 1, 1.5, 0.6]):
        m = make_model([node], [("x", np.float32, list(x.shape))], [("y", np.float32, None)],
                       [("scales", np.array(scales, np.float32))], opset=10)
        check_model(m, {"x": x})
    node = helper.make_node("Resize", ["x", "scales"], ["y"], mode="linear")
    m = make_model([node], [("x", np.float32, list(x.shape))], [("y", np.float32, None)],
                   [("scales", np.array([1, 1, 2.5, 0.7], np.float32))], opset=10)
    check_model(m, {"x": x})


@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_upsample_opset9(mode):
    x = r(1, 2, 3, 4)
    node = helper.make_node("Upsample", ["x", "scales"], ["y"], mode=mode)
    m = make_model([node], [("x", np.float32, list(x.shape))], [("y", np.float32, None)],
                   [("scales", np.array([1, 1, 2, 3.5], np.float32))], opset=9)
    check_model(m, {"x": x})


@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_upsample_opset7(mode):
    x = r(1, 2, 3, 4)
    m = node_model("Upsample", {"x": x}, opset=7, mode=mode, scales=[1.0, 1.0, 2.5, 2.0])
    check_model(m, {"x": x})


@pytest.mark.parametrize("attrs,err,match", [
    # cubic, tf_crop_and_resize, antialias and keep_aspect_ratio_policy: tests/test_ops_sampling.py
    ({"keep_aspect_ratio_policy": "bogus"}, loadrun.ModelError, "keep_aspect_ratio_policy"),
    ({"antialias": 2, "mode": "linear"}, loadrun.ModelError, "antialias"),
    ({"mode": "bogus"}, loadrun.ModelError, "mode"),
    ({"nearest_mode": "bogus"}, loadrun.ModelError, "nearest_mode"),
])
def test_resize_bad_or_unsupported_attrs(attrs, err, match):
    with pytest.raises(err, match=match):
        loadrun.load(resize_model((1, 1, 4, 4), scales=[1, 1, 2, 2], **attrs))


def test_resize_errors():
    with pytest.raises(loadrun.ModelError, match="exactly one"):
        loadrun.load(resize_model((1, 1, 4, 4), scales=[1, 1, 2, 2], sizes=[1, 1, 8, 8]))
    with pytest.raises(loadrun.ModelError, match="exactly one"):
        loadrun.load(resize_model((1, 1, 4, 4)))
    with pytest.raises(loadrun.ModelError, match="scales has shape"):
        loadrun.load(resize_model((1, 1, 4, 4), scales=[2, 2]))
    # scales fed at run time: inferred then (tests/test_dynamic_shapes.py); bad ones still fail.
    node = helper.make_node("Resize", ["x", "", "s"], ["y"])
    m = make_model([node], [("x", np.float32, [1, 1, 4, 4]), ("s", np.float32, [4])], [("y", np.float32, None)])
    with pytest.raises(loadrun.ModelError, match="scales must be positive"):
        loadrun.load(m).run({"x": np.zeros((1, 1, 4, 4), np.float32), "s": np.array([1, 1, 2, -1], np.float32)})


def test_resize_scale_one_is_identity():
    # scale 1 everywhere: every mode is the identity.
    x = r(1, 3, 4, 5)
    for coord in COORD_MODES:
        got = loadrun.load(resize_model(x.shape, scales=[1, 1, 1, 1], mode="linear",
                                        coordinate_transformation_mode=coord)).run({"x": x})["y"]
        assert_close(got, x, name=coord)
