"""Data-movement operators that select, join or make elements (csrc/ops:
concat, split, slice, gather, pad, tile, constant_of_shape, range) against
ONNX Runtime, plus a sweep of the multi-input ones over every dtype against
NumPy, the older-opset forms, and error cases. Shared helpers:
ops_tensor_cases.py; the shape-changing ops are in test_ops_tensor_shape.py."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import loadrun
from onnx_ref import check_model, make_model
from ops_tensor_cases import ALL_DTYPES, I64_MAX, I64_MIN, arr, check, dtypes, i64, node_model, run


# -- Concat ------------------------------------------------------------------


@dtypes
@pytest.mark.parametrize("shapes,axis", [
    ([(2, 3), (2, 5)], 1),
    ([(2, 3), (4, 3), (1, 3)], 0),
    ([(2, 3, 4), (2, 1, 4), (2, 2, 4)], -2),
    ([(2, 3), (2, 0), (2, 1)], -1),  # a zero-size input
    ([(1, 1, 1)], 2),
])
def test_concat(dt, shapes, axis):
    feeds = {f"x{i}": arr(s, dt) for i, s in enumerate(shapes)}
    check("Concat", feeds, axis=axis)


def test_concat_constant_and_input():
    check("Concat", {"x": arr((2, 3))}, [("c", arr((1, 3)))], axis=0)


def test_concat_mismatched_shapes_is_model_error():
    m = node_model("Concat", {"a": arr((2, 3)), "b": arr((3, 3))}, axis=1, out_types=[TensorProto.FLOAT])
    with pytest.raises(loadrun.ModelError, match="differs"):
        loadrun.load(m)


# -- Split -------------------------------------------------------------------


@dtypes
@pytest.mark.parametrize("shape,axis,split", [
    ((6, 4), 0, [1, 2, 3]),
    ((2, 7), -1, [3, 0, 4]),
    ((2, 6, 3), 1, None),  # equal split into 3
    ((4, 1), 1, [1]),
])
def test_split(dt, shape, axis, split):
    n = 3 if split is None else len(split)
    consts = [] if split is None else [("s", np.array(split, dtype=np.int64))]
    check("Split", {"x": arr(shape, dt)}, consts, n_out=n, opset=13, axis=axis)


@pytest.mark.parametrize("dim,n", [(7, 3), (6, 3), (10, 4), (5, 1)])
def test_split_num_outputs_opset18(dim, n):
    got = check("Split", {"x": arr((2, dim))}, n_out=n, opset=18, axis=1, num_outputs=n)
    chunk = -(-dim // n)
    assert [got[f"y{i}"].shape[1] for i in range(n)] == [chunk] * (n - 1) + [dim - chunk * (n - 1)]


def test_split_num_outputs_empty_last_piece_is_model_error():
    # 9 into 4 pieces of ceil(9/4) = 3 leaves nothing for the last (ORT rejects it too)
    m = node_model("Split", {"x": arr((9,))}, n_out=4, opset=18, num_outputs=4,
                   out_types=[TensorProto.FLOAT] * 4)
    with pytest.raises(loadrun.ModelError, match="last piece"):
        loadrun.load(m)


@pytest.mark.parametrize("split", [[2, 4], None])
def test_split_opset11_attribute(split):
    kw = {} if split is None else {"split": split}
    check("Split", {"x": arr((3, 6))}, n_out=2, opset=11, axis=-1, **kw)


def test_split_bad_sum_is_model_error():
    m = node_model("Split", {"x": arr((6,))}, [("s", i64(2, 2))], n_out=2, opset=13,
                   out_types=[TensorProto.FLOAT] * 2)
    with pytest.raises(loadrun.ModelError, match="sums to"):
        loadrun.load(m)


# -- Slice -------------------------------------------------------------------


@dtypes
@pytest.mark.parametrize("starts,ends,axes,steps", [
    ([1], [3], [0], None),
    ([0, 1], [5, -1], [1, 2], [2, 1]),
    ([-1], [I64_MIN], [1], [-1]),            # reverse a whole axis
    ([I64_MAX], [0], [2], [-2]),             # start clamps to the last element
    ([2, 0], [I64_MAX, 100], [0, -1], None),  # ends past the end clamp
    ([-100], [100], [-2], [3]),
    ([3], [1], [1], None),                   # empty result
    ([0, 4, 1], [4, 0, 6], None, [1, -3, 2]),  # no axes: 0..k-1
])
def test_slice(dt, starts, ends, axes, steps):
    consts = [("st", np.array(starts, dtype=np.int64)), ("en", np.array(ends, dtype=np.int64))]
    names = ["x", "st", "en"]
    if axes is not None:
        consts.append(("ax", np.array(axes, dtype=np.int64)))
        names.append("ax")
    if steps is not None:
        consts.append(("sp", np.array(steps, dtype=np.int64)))
        if axes is None:
            names.append("")
        names.append("sp")
    check("Slice", {"x": arr((4, 5, 6), dt)}, consts, inputs=names)


def test_slice_int32_params_and_zero_size_input():
    consts = [("st", np.array([0], np.int32)), ("en", np.array([2], np.int32)), ("ax", np.array([0], np.int32))]
    check("Slice", {"x": arr((3, 0))}, consts)


@pytest.mark.parametrize("attrs", [
    {"starts": [1, 0], "ends": [3, -1]},
    {"starts": [-2], "ends": [1000], "axes": [1]},
    {"starts": [0, 1], "ends": [1, 2], "axes": [-1, 0]},
])
def test_slice_opset9_attributes(attrs):
    check("Slice", {"x": arr((4, 5))}, opset=9, **attrs)


def test_slice_zero_step_is_model_error():
    consts = [("st", i64(0)), ("en", i64(2)), ("ax", i64(0)), ("sp", i64(0))]
    m = node_model("Slice", {"x": arr((4,))}, consts, out_types=[TensorProto.FLOAT])
    with pytest.raises(loadrun.ModelError, match="0 step"):
        loadrun.load(m)


# -- Gather ------------------------------------------------------------------


@dtypes
@pytest.mark.parametrize("shape,axis,idx", [
    ((5, 3), 0, [[0, 4], [2, -1]]),
    ((2, 5, 3), 1, [-5, 0, 3]),
    ((2, 3, 4), -1, [3, 3, 0]),
    ((4, 3), 0, 2),          # scalar index: rank drops
    ((4, 3), -1, -1),
    ((4, 3), 1, np.zeros((0,), np.int64)),
    ((4, 1), 1, [[0, 0, 0]]),
])
def test_gather(dt, shape, axis, idx):
    check("Gather", {"x": arr(shape, dt), "i": np.asarray(idx, dtype=np.int64)}, axis=axis)


@pytest.mark.parametrize("idx_dt", [np.int32, np.int64])
def test_gather_index_dtypes_constant_and_input(idx_dt):
    idx = np.array([[1, -2], [0, 2]], dtype=idx_dt)
    check("Gather", {"x": arr((3, 4))}, [("i", idx)], axis=1)
    check("Gather", {"x": arr((3, 4)), "i": idx}, axis=0)


def test_gather_index_out_of_range_at_run_time():
    m = node_model("Gather", {"x": arr((3, 4)), "i": i64(0, 3)}, axis=0)
    net = loadrun.load(m)
    with pytest.raises(loadrun.LoadrunError, match="out of range"):
        net.run({"x": arr((3, 4)), "i": i64(0, 3)})
    with pytest.raises(loadrun.LoadrunError, match="out of range"):
        net.run({"x": arr((3, 4)), "i": i64(-4, 0)})
    # the network still works afterwards
    x = arr((3, 4))
    np.testing.assert_array_equal(net.run({"x": x, "i": i64(2, -3)})["y0"], x[[2, 0]])


def test_gather_constant_index_out_of_range_is_model_error():
    m = node_model("Gather", {"x": arr((3, 4))}, [("i", i64(4))], axis=1)
    with pytest.raises(loadrun.ModelError, match="out of range"):
        loadrun.load(m)


# -- Pad ---------------------------------------------------------------------


@pytest.mark.parametrize("dt", [np.float32, np.int64, np.bool_, np.float64, np.int32, np.uint8],
                         ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("pads", [[0, 1, 2, 1], [1, 0, 0, 3], [0, 0, 0, 0]])
def test_pad_constant(dt, pads):
    check("Pad", {"x": arr((3, 4), dt)}, [("p", np.array(pads, np.int64)), ("v", arr((), dt))])
    check("Pad", {"x": arr((3, 4), dt)}, [("p", np.array(pads, np.int64))])  # value defaults to 0


@pytest.mark.parametrize("mode", ["constant", "reflect", "edge"])
@pytest.mark.parametrize("shape,pads", [
    ((3, 4), [1, 2, 2, 3]),
    ((2, 3, 5), [0, 1, 2, 0, 2, 4]),
    ((1, 2, 3, 4), [0, 0, 1, 2, 0, 0, 2, 1]),
    ((4, 5), [-1, 2, 1, -2]),          # negative pads crop
    ((1, 4), [0, 1, 0, 3]),
])
def test_pad_modes(mode, shape, pads):
    check("Pad", {"x": arr(shape)}, [("p", np.array(pads, np.int64))], mode=mode)


def test_pad_int64_reflect_and_edge():
    for mode in ("reflect", "edge"):
        check("Pad", {"x": arr((3, 5), np.int64)}, [("p", i64(2, 1, 0, 4))], mode=mode)


def test_pad_wrap_opset19():
    check("Pad", {"x": arr((3, 4))}, [("p", i64(1, 2, 2, 3))], opset=19, mode="wrap")


def test_pad_opset18_axes():
    consts = [("p", i64(1, 2, 0, 3)), ("ax", i64(-1, 0))]
    check("Pad", {"x": arr((2, 3, 4))}, consts, opset=18, inputs=["x", "p", "", "ax"], mode="edge")
    consts = [("p", i64(2, 1)), ("v", np.array(9.0, np.float32)), ("ax", i64(1))]
    check("Pad", {"x": arr((2, 3, 4))}, consts, opset=18)


def test_pad_zero_size_dim_constant():
    check("Pad", {"x": arr((0, 3))}, [("p", i64(1, 0, 1, 2))])


@pytest.mark.parametrize("mode,value", [("constant", 1.5), ("constant", None), ("reflect", None), ("edge", None)])
def test_pad_opset10_attributes(mode, value):
    kw = {} if value is None else {"value": value}
    check("Pad", {"x": arr((2, 3, 4))}, opset=10, mode=mode, pads=[0, 1, 2, 0, 1, 1], **kw)


def test_pad_bad_mode_and_bad_pads():
    m = node_model("Pad", {"x": arr((2, 3))}, [("p", i64(0, 0, 0, 0))], mode="mirror",
                   out_types=[TensorProto.FLOAT])
    with pytest.raises(loadrun.ModelError, match="mode"):
        loadrun.load(m)
    m = node_model("Pad", {"x": arr((2, 3))}, [("p", i64(1, 1))], out_types=[TensorProto.FLOAT])
    with pytest.raises(loadrun.ModelError, match="pads"):
        loadrun.load(m)


# -- Tile --------------------------------------------------------------------


@dtypes
@pytest.mark.parametrize("shape,reps", [
    ((2, 3), (2, 2)),
    ((2, 3), (1, 3)),
    ((1, 4, 1), (3, 1, 2)),
    ((5,), (0,)),
    ((2, 0), (2, 3)),
])
def test_tile(dt, shape, reps):
    check("Tile", {"x": arr(shape, dt)}, [("r", np.array(reps, dtype=np.int64))])


def test_tile_wrong_length_is_model_error():
    m = node_model("Tile", {"x": arr((2, 3))}, [("r", i64(2))], out_types=[TensorProto.FLOAT])
    with pytest.raises(loadrun.ModelError, match="repeats"):
        loadrun.load(m)


# -- ConstantOfShape ---------------------------------------------------------


def shape_of_model(x_shape, value=None, opset=17):
    """x -> Shape -> ConstantOfShape: the shape folds at compile time."""
    kw = {} if value is None else {"value": onnx.numpy_helper.from_array(np.asarray(value))}
    et = TensorProto.FLOAT if value is None else helper.np_dtype_to_tensor_dtype(np.asarray(value).dtype)
    nodes = [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("ConstantOfShape", ["s"], ["y"], **kw)]
    return make_model(nodes, [("x", np.float32, list(x_shape))], [("y", et, None)], opset=opset)


@pytest.mark.parametrize("value", [None, np.array([2.5], np.float32), np.array([-7], np.int64),
                                   np.array([True]), np.array([1.5], np.float16),
                                   np.array([3], np.int32), np.array([200], np.uint8)])
@pytest.mark.parametrize("x_shape", [(2, 3), (4,), (2, 0, 1)])
def test_constant_of_shape(value, x_shape):
    got = check_model(shape_of_model(x_shape, value), {"x": arr(x_shape)})
    assert got["y"].shape == x_shape


def test_constant_of_shape_empty_shape_is_scalar():
    node = helper.make_node("ConstantOfShape", ["s"], ["y"],
                            value=onnx.numpy_helper.from_array(np.array([5], np.int64)))
    m = make_model([node], [], [("y", TensorProto.INT64, None)], [("s", np.zeros((0,), np.int64))])
    got = check_model(m, {})
    assert got["y"].shape == () and got["y"] == 5


def test_constant_of_shape_two_element_value_is_model_error():
    node = helper.make_node("ConstantOfShape", ["s"], ["y"],
                            value=onnx.numpy_helper.from_array(np.array([1, 2], np.int64)))
    m = make_model([node], [], [("y", TensorProto.INT64, None)], [("s", i64(2))])
    with pytest.raises(loadrun.ModelError, match="one element"):
        loadrun.load(m)


# -- Range -------------------------------------------------------------------


@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int16, np.int32, np.int64],
                         ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("start,limit,delta", [(0, 10, 3), (5, -3, -2), (1, 1, 1), (3, 1, 1),
                                               (-4, 7, 1), (10, 0, -3)])
def test_range(dt, start, limit, delta):
    consts = [(n, np.array(v, dtype=dt)) for n, v in (("s", start), ("l", limit), ("d", delta))]
    m = node_model("Range", {}, consts, opset=11)
    got = check_model(m, {})
    assert got["y0"].dtype == np.dtype(dt)


def test_range_fractional_float():
    consts = [("s", np.array(0.5, np.float32)), ("l", np.array(2.9, np.float32)), ("d", np.array(0.3, np.float32))]
    got = check_model(node_model("Range", {}, consts, opset=11), {})
    assert got["y0"].shape == (8,)


def test_range_from_shape_folds():
    """Range(0, x.shape[1], 1) as exporters make it: folds to a constant."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "one"], ["n"], axis=0),
        helper.make_node("Range", ["zero", "n", "one"], ["r"]),
        helper.make_node("Unsqueeze", ["r", "zero1"], ["y"]),
    ]
    m = make_model(nodes, [("x", np.float32, [2, 7])], [("y", TensorProto.INT64, None)],
                   [("zero", np.array(0, np.int64)), ("one", np.array(1, np.int64)), ("zero1", i64(0))], opset=13)
    got = check_model(m, {"x": arr((2, 7))})
    np.testing.assert_array_equal(got["y"], np.arange(7)[None])
    assert loadrun.load(m).steps() == []


def test_range_runtime_inputs_and_zero_delta():
    feeds = {"s": np.array(0, np.int64), "l": np.array(5, np.int64), "d": np.array(1, np.int64)}
    check_model(node_model("Range", feeds, opset=11), feeds)
    consts = [(n, np.array(v, np.int64)) for n, v in (("s", 0), ("l", 5), ("d", 0))]
    with pytest.raises(loadrun.ModelError, match="delta"):
        loadrun.load(node_model("Range", {}, consts, opset=11))


@pytest.mark.parametrize("dt", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_dtype_multi_input_ops(dt):
    et = helper.np_dtype_to_tensor_dtype(np.dtype(dt))
    a, b = arr((2, 3), dt), arr((2, 1), dt)
    m = node_model("Concat", {"a": a, "b": b}, axis=-1, out_types=[et])
    np.testing.assert_array_equal(run(m, {"a": a, "b": b})["y0"], np.concatenate([a, b], -1))
    x = arr((7, 2), dt)
    m = node_model("Split", {"x": x}, n_out=3, opset=18, axis=0, num_outputs=3, out_types=[et] * 3)
    got = run(m, {"x": x})
    for i, ref in enumerate([x[0:3], x[3:6], x[6:7]]):
        np.testing.assert_array_equal(got[f"y{i}"], ref)
    v = arr((1,), dt)
    node = helper.make_node("ConstantOfShape", ["s"], ["y"], value=onnx.numpy_helper.from_array(v))
    m = make_model([node], [], [("y", et, None)], [("s", i64(2, 3))])
    got = run(m, {})["y"]
    assert got.dtype == np.dtype(dt)
    np.testing.assert_array_equal(got, np.full((2, 3), v[0], dtype=dt))
    cv = arr((), dt)
    m = node_model("Pad", {"x": a}, [("p", i64(1, 0, 0, 2)), ("v", cv)], out_types=[et])
    np.testing.assert_array_equal(run(m, {"x": a})["y0"], np.pad(a, [(1, 0), (0, 2)], constant_values=cv))
    m = node_model("Dropout", {"x": a}, n_out=2, opset=13, out_types=[et, TensorProto.BOOL])
    got = run(m, {"x": a})
    np.testing.assert_array_equal(got["y0"], a)
    assert got["y1"].all()
