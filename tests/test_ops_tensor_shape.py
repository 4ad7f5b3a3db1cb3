"""Data-movement operators that keep or reorder the elements and change the
shape (csrc/ops: reshape, flatten, transpose, squeeze_unsqueeze, expand,
identity, dropout) against ONNX Runtime, plus a sweep of the single-input
data-movement ops over every dtype against NumPy, the older-opset forms,
the folding of torch's reshape chain, and error cases. Shared helpers:
ops_tensor_cases.py; the ops that select, join or make elements are in
test_ops_tensor_select.py."""
import numpy as np
import pytest
from onnx import TensorProto, helper

import loadrun
from onnx_ref import check_model, make_model
from ops_tensor_cases import ALL_DTYPES, I64_MIN, arr, check, dtypes, i64, node_model, run


# -- Reshape -----------------------------------------------------------------


@dtypes
@pytest.mark.parametrize("shape,target", [
    ((2, 3, 4), (4, -1)),
    ((2, 3, 4), (0, -1)),        # 0 copies the input dim
    ((2, 3, 4), (0, 0, 2, 2)),
    ((6,), (1, 6, 1)),
    ((1,), ()),                  # to a scalar
    ((2, 0, 3), (0, -1)),        # zero-size, -1 infers 0
    ((5, 7), (-1,)),
])
def test_reshape(dt, shape, target):
    got = check("Reshape", {"x": arr(shape, dt)}, [("s", np.array(target, dtype=np.int64))])
    assert got["y0"].dtype == np.dtype(dt)


def test_reshape_allowzero():
    check("Reshape", {"x": arr((0, 3))}, [("s", i64(3, 0))], opset=14, allowzero=1)
    # allowzero=0: the 0 copies dim 1 (3)
    got = check("Reshape", {"x": arr((2, 3))}, [("s", i64(-1, 0))], opset=14, allowzero=0)
    assert got["y0"].shape == (2, 3)


def test_reshape_two_minus_one_is_model_error():
    m = node_model("Reshape", {"x": arr((2, 3, 4))}, [("s", i64(-1, -1))], out_types=[TensorProto.FLOAT])
    with pytest.raises(loadrun.ModelError, match="more than one -1"):
        loadrun.load(m)


def test_reshape_count_mismatch_is_model_error():
    m = node_model("Reshape", {"x": arr((2, 3))}, [("s", i64(4, 2))], out_types=[TensorProto.FLOAT])
    with pytest.raises(loadrun.ModelError, match="cannot reshape"):
        loadrun.load(m)


def test_reshape_runtime_shape():
    # the shape as a graph input: the plan is keyed on its value (tests/test_dynamic_shapes.py)
    feeds = {"x": arr((2, 3)), "s": i64(3, 2)}
    check_model(node_model("Reshape", feeds, out_types=[TensorProto.FLOAT]), feeds)


# -- Flatten -----------------------------------------------------------------


@dtypes
@pytest.mark.parametrize("axis", [0, 1, 2, 3, -1, -3])
def test_flatten(dt, axis):
    check("Flatten", {"x": arr((2, 3, 4), dt)}, axis=axis)


def test_flatten_default_axis_and_zero_size():
    got = check("Flatten", {"x": arr((3, 0, 2))})
    assert got["y0"].shape == (3, 0)


def test_flatten_bad_axis():
    m = node_model("Flatten", {"x": arr((2, 3))}, axis=3, out_types=[TensorProto.FLOAT])
    with pytest.raises(loadrun.ModelError, match="out of range"):
        loadrun.load(m)


# -- Transpose ---------------------------------------------------------------


@dtypes
@pytest.mark.parametrize("shape,perm", [
    ((2, 3, 4), None),
    ((2, 3, 4), [1, 0, 2]),
    ((2, 3, 4, 5), [0, 2, 3, 1]),
    ((1, 5, 1, 3), [3, 1, 0, 2]),
    ((2, 0, 3), [2, 0, 1]),
    ((3, 2, 1, 2, 3), [4, 2, 0, 3, 1]),
    ((7,), None),
])
def test_transpose(dt, shape, perm):
    kw = {} if perm is None else {"perm": perm}
    check("Transpose", {"x": arr(shape, dt)}, **kw)


def test_transpose_bad_perm():
    m = node_model("Transpose", {"x": arr((2, 3))}, perm=[0, 0], out_types=[TensorProto.FLOAT])
    with pytest.raises(loadrun.ModelError, match="permutation"):
        loadrun.load(m)


# -- Squeeze / Unsqueeze -----------------------------------------------------


@dtypes
@pytest.mark.parametrize("shape,axes", [
    ((1, 3, 1, 4), [0, 2]),
    ((1, 3, 1, 4), [-2]),
    ((1, 3, 1, 4), None),  # every size-1 dim
    ((1, 1), None),        # to a scalar
    ((2, 1, 0), [1]),
])
def test_squeeze(dt, shape, axes):
    consts = [] if axes is None else [("a", np.array(axes, dtype=np.int64))]
    check("Squeeze", {"x": arr(shape, dt)}, consts, opset=13)


@pytest.mark.parametrize("axes", [[0, 2], [-1], None])
def test_squeeze_opset11_attribute(axes):
    kw = {} if axes is None else {"axes": axes}
    check("Squeeze", {"x": arr((1, 3, 1, 1))}, opset=11, **kw)


def test_squeeze_non_one_dim_is_model_error():
    m = node_model("Squeeze", {"x": arr((1, 3))}, [("a", i64(1))], opset=13, out_types=[TensorProto.FLOAT])
    with pytest.raises(loadrun.ModelError, match="cannot squeeze"):
        loadrun.load(m)


@dtypes
@pytest.mark.parametrize("shape,axes", [
    ((3, 4), [0]),
    ((3, 4), [0, -1]),
    ((3, 4), [1, 3]),
    ((), [0]),             # scalar to 1-D
    ((0, 2), [-3, 2]),
])
def test_unsqueeze(dt, shape, axes):
    check("Unsqueeze", {"x": arr(shape, dt)}, [("a", np.array(axes, dtype=np.int64))], opset=13)


@pytest.mark.parametrize("axes", [[0], [0, -1], [2, 1]])
def test_unsqueeze_opset11_attribute(axes):
    check("Unsqueeze", {"x": arr((3, 4))}, opset=11, axes=axes)


def test_unsqueeze_repeated_axis_is_model_error():
    m = node_model("Unsqueeze", {"x": arr((3,))}, [("a", i64(0, -3))], opset=13, out_types=[TensorProto.FLOAT])
    with pytest.raises(loadrun.ModelError, match="repeat"):
        loadrun.load(m)


# -- Expand ------------------------------------------------------------------


@dtypes
@pytest.mark.parametrize("shape,target", [
    ((3, 1), (2, 3, 4)),
    ((2, 3, 1), (4,)),       # target of lower rank
    ((3, 4), (1, 1)),        # 1s keep the input's dims
    ((1,), (5,)),
    ((), (2, 2)),
    ((2, 1), (2, 0)),        # zero-size output
])
def test_expand(dt, shape, target):
    check("Expand", {"x": arr(shape, dt)}, [("s", np.array(target, dtype=np.int64))])


def test_expand_incompatible_is_model_error():
    m = node_model("Expand", {"x": arr((3, 2))}, [("s", i64(3, 4))], out_types=[TensorProto.FLOAT])
    with pytest.raises(loadrun.ModelError, match="broadcast"):
        loadrun.load(m)


# -- Identity / Dropout ------------------------------------------------------


@dtypes
@pytest.mark.parametrize("shape", [(2, 3), (), (0, 4)])
def test_identity(dt, shape):
    check("Identity", {"x": arr(shape, dt)})


@pytest.mark.parametrize("dt", [np.float32, np.float16, np.float64])
def test_dropout_with_mask(dt):
    got = check("Dropout", {"x": arr((3, 4), dt)}, n_out=2, opset=13)
    assert got["y1"].dtype == np.bool_ and got["y1"].all()


def test_dropout_ratio_input_and_training_false():
    check("Dropout", {"x": arr((2, 5))}, [("r", np.array(0.3, np.float32)), ("t", np.array(False))],
          n_out=2, opset=13)


@pytest.mark.parametrize("opset", [7, 10, 11])
def test_dropout_older_opsets(opset):
    check("Dropout", {"x": arr((2, 3))}, opset=opset, ratio=0.4)


def test_dropout_opset7_mask_has_data_dtype():
    m = node_model("Dropout", {"x": arr((2, 3))}, n_out=2, opset=7,
                   out_types=[TensorProto.FLOAT, TensorProto.FLOAT])
    got = run(m, {"x": arr((2, 3))})
    assert got["y1"].dtype == np.float32 and (got["y1"] == 1).all()


def test_dropout_training_mode_bad_ratio():
    # (training mode itself: tests/test_ops_rest.py)
    m = node_model("Dropout", {"x": arr((2, 3))}, [("r", np.array(1.0, np.float32)), ("t", np.array(True))],
                   opset=13, out_types=[TensorProto.FLOAT])
    with pytest.raises(loadrun.LoadrunError, match="ratio"):
        loadrun.load(m).run({"x": arr((2, 3))})


# -- folding: the torch export of x.reshape(x.shape[0], -1) ------------------


def torch_flatten_model():
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"], name="/Shape"),
        helper.make_node("Gather", ["shape", "c0"], ["batch"], name="/Gather", axis=0),
        helper.make_node("Unsqueeze", ["batch", "axes0"], ["batch1"], name="/Unsqueeze"),
        helper.make_node("Concat", ["batch1", "minus1"], ["target"], name="/Concat", axis=0),
        helper.make_node("Reshape", ["x", "target"], ["y"], name="/Reshape"),
    ]
    consts = [("c0", np.array(0, np.int64)), ("axes0", i64(0)), ("minus1", i64(-1))]
    return make_model(nodes, [("x", np.float32, [2, 3, 4, 5])], [("y", TensorProto.FLOAT, None)],
                      consts, opset=13)


def test_torch_reshape_chain_matches_ort():
    m = torch_flatten_model()
    got = check_model(m, {"x": arr((2, 3, 4, 5))})
    assert got["y"].shape == (2, 60)


def test_torch_reshape_chain_folds_to_one_step():
    steps = loadrun.load(torch_flatten_model()).steps()
    # one Reshape from the graph input to the graph output: a view of it
    assert [(s[0], s[1]) for s in steps] == [("/Reshape{Reshape}", "(view)")]


# -- every dtype, against NumPy ----------------------------------------------


def np_cases(x):
    """(name, node builder args, numpy reference) for one input array x of shape (3, 4, 2)."""
    return [
        ("Reshape", dict(consts=[("s", i64(4, -1))]), x.reshape(4, -1)),
        ("Flatten", dict(axis=2), x.reshape(12, 2)),
        ("Transpose", dict(perm=[2, 0, 1]), x.transpose(2, 0, 1)),
        ("Squeeze", dict(consts=[("a", i64(1))], shape=(3, 1, 2)), None),
        ("Unsqueeze", dict(consts=[("a", i64(-1))]), x[..., None]),
        ("Identity", {}, x),
        ("Slice", dict(consts=[("st", i64(2, 0)), ("en", i64(I64_MIN, 4)), ("ax", i64(0, 1)), ("sp", i64(-1, 3))]),
         x[2::-1, 0:4:3]),
        ("Gather", dict(consts=[("i", np.array([1, -1, 0], np.int32))], axis=1), x[:, [1, -1, 0]]),
        ("Expand", dict(consts=[("s", i64(2, 1, 1, 1))]), np.broadcast_to(x, (2, 3, 4, 2))),
        ("Tile", dict(consts=[("r", i64(1, 2, 3))]), np.tile(x, (1, 2, 3))),
        ("Pad", dict(consts=[("p", i64(1, 0, 2, 0, 1, 1))], mode="reflect"),
         np.pad(x, [(1, 0), (0, 1), (2, 1)], mode="reflect")),
        ("Pad", dict(consts=[("p", i64(0, 1, 0, 2, 0, 1))], mode="edge"),
         np.pad(x, [(0, 2), (1, 0), (0, 1)], mode="edge")),
    ]


@pytest.mark.parametrize("dt", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_dtype_against_numpy(dt):
    x = arr((3, 4, 2), dt)
    for op, kw, ref in np_cases(x):
        kw = dict(kw)
        consts = kw.pop("consts", [])
        feed = x
        if "shape" in kw:
            feed = arr(kw.pop("shape"), dt)
            ref = feed.reshape(3, 2)
        et = helper.np_dtype_to_tensor_dtype(np.dtype(dt))
        m = node_model(op, {"x": feed}, consts, opset=18, out_types=[et], **kw)
        got = run(m, {"x": feed})["y0"]
        assert got.dtype == np.dtype(dt), op
        np.testing.assert_array_equal(got, ref, err_msg=op)
