"""Index and data-movement ops (gather/scatter family, TopK, Trilu, OneHot,
EyeLike, CumSum/CumProd, DepthToSpace/SpaceToDepth, ReverseSequence,
CenterCropPad, Col2Im) against ONNX Runtime; the onnx reference evaluator
where ORT lacks the opset (SpaceToDepth-28)."""
import numpy as np
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

import loadrun
from onnx_ref import assert_close, check_model, check_node, make_model, node_model

rng = np.random.default_rng(0)


def r(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def ints(lo, hi, shape, dtype=np.int64):
    return rng.integers(lo, hi, size=shape).astype(dtype)


def run(model, feeds):
    return loadrun.load(model).run(feeds)


def check_ref(op_type, feeds, n_outputs=1, initializers=(), opset=17, out_dtypes=None, **attrs):
    """Like check_node, against the onnx reference evaluator (for what ORT lacks)."""
    m = node_model(op_type, feeds, n_outputs, initializers, opset, out_dtypes, **attrs)
    ref = ReferenceEvaluator(m).run(None, feeds)
    got = run(m, feeds)
    for i, want in enumerate(ref):
        assert_close(got[f"y{i}"], np.asarray(want), name=f"y{i}")


I64 = np.int64


# ------------------------------------------------------------ GatherElements
@pytest.mark.parametrize("dshape,ishape,axis", [
    ((3, 4), (2, 4), 0),
    ((3, 4), (3, 6), 1),
    ((3, 4), (3, 2), -1),
    ((2, 3, 5), (2, 1, 5), 1),
    ((1, 5, 1), (1, 3, 1), 1),
    ((4,), (7,), 0),
    ((2, 3, 4), (1, 2, 4), 2),  # indices smaller than data in non-axis dims
])
@pytest.mark.parametrize("idt", [np.int64, np.int32])
def test_gather_elements(dshape, ishape, axis, idt):
    n = dshape[axis]
    ind = ints(-n, n, ishape, idt)  # negative indices too
    check_node("GatherElements", {"x": r(*dshape)}, initializers=[("i", ind)], axis=axis)


@pytest.mark.parametrize("dt", [np.int64, np.uint8, np.float16, np.bool_, np.float64])
def test_gather_elements_dtypes(dt):
    x = (rng.standard_normal((4, 5)) * 10).astype(dt)
    ind = ints(-5, 5, (4, 3))
    check_node("GatherElements", {"x": x, "i": ind}, axis=1)


def test_gather_elements_out_of_range():
    # constant indices: rejected when the model compiles
    with pytest.raises(loadrun.ModelError, match="out of range"):
        run(node_model("GatherElements", {"x": r(3, 4)}, initializers=[("i", np.array([[3, 0, 0, 0]], I64))]),
            {"x": r(3, 4)})
    # run-time indices: rejected before anything is read
    m = node_model("GatherElements", {"x": r(3, 4), "i": np.zeros((1, 4), I64)}, axis=1)
    net = loadrun.load(m)
    with pytest.raises(loadrun.ModelError, match="out of range"):
        net.run({"x": r(3, 4), "i": np.array([[0, 1, -5, 2]], I64)})
    with pytest.raises(loadrun.ModelError, match="rank"):
        run(node_model("GatherElements", {"x": r(3, 4), "i": np.zeros((4,), I64)}, out_dtypes=[TensorProto.FLOAT]),
            {"x": r(3, 4), "i": np.zeros((4,), I64)})


# ------------------------------------------------------------------ GatherND
@pytest.mark.parametrize("dshape,ishape,b", [
    ((2, 2), (2, 2), 0),
    ((2, 2), (2, 1), 0),
    ((2, 2, 2), (2, 1, 2), 0),
    ((3, 4, 5), (6, 1), 0),
    ((3, 4, 5), (2, 3), 0),
    ((2, 2, 2), (2, 1), 1),
    ((2, 3, 4, 5), (2, 3, 2, 1), 2),
    ((2, 3, 4), (2, 5, 2), 1),
    ((1, 1, 3), (1, 1, 1), 1),
])
def test_gather_nd(dshape, ishape, b):
    k = ishape[-1]
    dims = dshape[b:b + k]
    ind = np.stack([rng.integers(-d, d, size=ishape[:-1]) for d in dims], axis=-1).astype(I64)
    check_node("GatherND", {"x": r(*dshape)}, initializers=[("i", ind)], batch_dims=b)


@pytest.mark.parametrize("dt", [np.int32, np.float16, np.bool_])
def test_gather_nd_dtypes_and_opset11(dt):
    x = (rng.standard_normal((3, 4, 2)) * 10).astype(dt)
    ind = np.array([[0, 1], [2, -1], [-3, 3]], I64)
    check_node("GatherND", {"x": x, "i": ind}, opset=11)


def test_gather_nd_int32_indices():
    # ORT takes int64 only; compare with int64 indices
    x = r(3, 4)
    i32 = np.array([[2, -1], [0, 0]], np.int32)
    ref = run(node_model("GatherND", {"x": x, "i": i32.astype(I64)}), {"x": x, "i": i32.astype(I64)})
    got = run(node_model("GatherND", {"x": x, "i": i32}), {"x": x, "i": i32})
    assert_close(got["y0"], ref["y0"])
    np.testing.assert_array_equal(got["y0"], [x[2, 3], x[0, 0]])


def test_gather_nd_errors():
    x = r(2, 3)
    with pytest.raises(loadrun.ModelError, match="out of range"):
        run(node_model("GatherND", {"x": x, "i": np.zeros((1, 2), I64)}), {"x": x, "i": np.array([[0, 3]], I64)})
    with pytest.raises(loadrun.ModelError, match="last dim"):
        run(node_model("GatherND", {"x": x, "i": np.zeros((1, 3), I64)}, out_dtypes=[TensorProto.FLOAT]),
            {"x": x, "i": np.zeros((1, 3), I64)})
    with pytest.raises(loadrun.ModelError, match="batch"):
        run(node_model("GatherND", {"x": x, "i": np.zeros((3, 1), I64)}, out_dtypes=[TensorProto.FLOAT],
                       batch_dims=1), {"x": x, "i": np.zeros((3, 1), I64)})


# ----------------------------------------------------------- ScatterElements
REDUCTIONS = ["none", "add", "mul", "max", "min"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dshape,ishape,axis", [
    ((3, 3), (2, 3), 0),
    ((1, 5), (1, 2), 1),
    ((2, 4, 3), (2, 3, 2), -2),
    ((5,), (3,), 0),
])
def test_scatter_elements(reduction, dshape, ishape, axis):
    n = dshape[axis]
    if reduction == "none":  # unique targets along the axis
        ind = np.stack([rng.permutation(n)[:ishape[axis]] for _ in range(int(np.prod(ishape)) // ishape[axis])])
        ind = np.moveaxis(ind.reshape(tuple(s for i, s in enumerate(ishape) if i != (axis % len(ishape)))
                                      + (ishape[axis],)), -1, axis % len(ishape))
        ind = np.where(rng.random(ind.shape) < 0.5, ind - n, ind).astype(I64)
    else:  # duplicates combine
        ind = ints(-n, n, ishape)
    check_node("ScatterElements", {"x": r(*dshape), "i": ind, "u": r(*ishape)}, opset=18, axis=axis,
               reduction=reduction)


@pytest.mark.parametrize("dt,reduction", [(np.int64, "add"), (np.int32, "mul"), (np.float64, "max"),
                                           (np.uint8, "none"), (np.bool_, "none"), (np.float16, "none"),
                                           (np.int32, "min")])
def test_scatter_elements_dtypes(dt, reduction):
    x = (rng.standard_normal((4, 3)) * 5).astype(dt)
    u = (rng.standard_normal((2, 3)) * 5).astype(dt)
    ind = np.array([[1, 0, 3], [2, -1, 0]], I64)
    check_node("ScatterElements", {"x": x, "i": ind, "u": u}, opset=18, reduction=reduction)


def test_scatter_elements_int32_indices_and_old_opsets():
    x, u = r(3, 4), r(3, 2)
    ind = np.array([[0, 3], [1, -1], [2, 2]], np.int32)
    check_node("ScatterElements", {"x": x, "i": ind, "u": u}, opset=11, axis=1)
    check_node("ScatterElements", {"x": x, "i": ind, "u": u}, opset=16, axis=1, reduction="add")
    # constant indices (checked at compile time)
    nodes = [helper.make_node("ScatterElements", ["x", "i", "u"], ["y"], axis=1)]
    m = make_model(nodes, [("x", np.float32, [3, 4]), ("u", np.float32, [3, 2])], [("y", np.float32, None)],
                   [("i", ind)], opset=13)
    check_model(m, {"x": x, "u": u})
    # opset 9/10 Scatter is rewritten into ScatterElements
    check_node("Scatter", {"x": x, "i": np.abs(ind), "u": u}, opset=10, axis=1)
    check_node("Scatter", {"x": x, "i": np.abs(ind).astype(I64) % 3, "u": u}, opset=9)


def test_scatter_elements_errors():
    x, u = r(3, 4), r(1, 2)
    with pytest.raises(loadrun.ModelError, match="out of range"):
        m = node_model("ScatterElements", {"x": x, "i": np.zeros((1, 2), I64), "u": u})
        run(m, {"x": x, "i": np.array([[0, 3]], I64), "u": u})
    with pytest.raises(loadrun.ModelError, match="reduction"):
        i = np.zeros((1, 2), I64)
        run(node_model("ScatterElements", {"x": x, "i": i, "u": u}, opset=18, out_dtypes=[TensorProto.FLOAT],
                       reduction="sum"), {"x": x, "i": i, "u": u})
    with pytest.raises(loadrun.ModelError, match="same shape"):
        i = np.zeros((1, 2), I64)
        run(node_model("ScatterElements", {"x": x, "i": i, "u": r(1, 3)}, out_dtypes=[TensorProto.FLOAT]),
            {"x": x, "i": i, "u": r(1, 3)})


# ---------------------------------------------------------------- ScatterND
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dshape,ishape", [
    ((8,), (4, 1)),
    ((4, 4, 4), (2, 1)),
    ((4, 4, 4), (2, 2)),
    ((3, 5), (2, 2, 2)),
    ((3, 5), (1, 2)),
])
def test_scatter_nd(reduction, dshape, ishape):
    k = ishape[-1]
    n_tup = int(np.prod(ishape[:-1]))
    flat = int(np.prod(dshape[:k]))
    pick = rng.permutation(flat)[:n_tup] if reduction == "none" else rng.integers(0, flat, n_tup)
    ind = np.stack(np.unravel_index(pick, dshape[:k]), axis=-1).reshape(ishape)
    ind = np.where(rng.random(ind.shape) < 0.5, ind - np.array(dshape[:k]), ind).astype(I64)
    ushape = ishape[:-1] + dshape[k:]
    check_node("ScatterND", {"x": r(*dshape), "i": ind, "u": r(*ushape)}, opset=18, reduction=reduction)


@pytest.mark.parametrize("dt", [np.int64, np.float16, np.bool_])
def test_scatter_nd_dtypes_opset11(dt):
    x = (rng.standard_normal((3, 4)) * 5).astype(dt)
    u = (rng.standard_normal((2, 4)) * 5).astype(dt)
    check_node("ScatterND", {"x": x, "i": np.array([[2], [0]], I64), "u": u}, opset=11)


def test_scatter_nd_errors():
    x = r(3, 4)
    with pytest.raises(loadrun.ModelError, match="out of range"):
        m = node_model("ScatterND", {"x": x, "i": np.zeros((1, 2), I64), "u": r(1)})
        run(m, {"x": x, "i": np.array([[-4, 0]], I64), "u": r(1)})
    with pytest.raises(loadrun.ModelError, match="updates must have shape"):
        i = np.zeros((2, 1), I64)
        run(node_model("ScatterND", {"x": x, "i": i, "u": r(2, 3)}, out_dtypes=[TensorProto.FLOAT]),
            {"x": x, "i": i, "u": r(2, 3)})


# ------------------------------------------------------------ TensorScatter
@pytest.mark.parametrize("mode", ["linear", "circular"])
@pytest.mark.parametrize("shape,ulen,axis", [((2, 3, 6, 4), 2, -2), ((3, 7, 2), 3, 1), ((2, 5), 1, -1)])
def test_tensor_scatter(mode, shape, ulen, axis):
    ushape = list(shape)
    ushape[axis] = ulen
    cache_len = shape[axis]
    hi = cache_len if mode == "circular" else cache_len - ulen + 1
    wi = ints(0, hi, (shape[0],))
    check_node("TensorScatter", {"x": r(*shape), "u": r(*ushape), "w": wi}, opset=24, axis=axis, mode=mode)
    check_node("TensorScatter", {"x": r(*shape), "u": r(*ushape)}, opset=24, axis=axis, mode=mode)


def test_tensor_scatter_errors():
    x, u = r(2, 4, 3), r(2, 2, 3)
    m = node_model("TensorScatter", {"x": x, "u": u, "w": np.zeros(2, I64)}, opset=24, axis=1)
    with pytest.raises(loadrun.ModelError, match="does not fit"):
        run(m, {"x": x, "u": u, "w": np.array([0, 3], I64)})
    with pytest.raises(loadrun.ModelError, match="batch axis"):
        run(node_model("TensorScatter", {"x": x, "u": x}, opset=24, out_dtypes=[TensorProto.FLOAT], axis=0),
            {"x": x, "u": x})


# --------------------------------------------------------------------- TopK
@pytest.mark.parametrize("shape,axis,k", [((3, 7), -1, 3), ((3, 7), 0, 2), ((2, 5, 4), 1, 5), ((6,), 0, 0),
                                          ((1, 9, 1), 1, 4)])
@pytest.mark.parametrize("largest", [1, 0])
def test_topk(shape, axis, k, largest):
    x = np.round(r(*shape) * 2)  # many ties: the lower index comes first
    check_node("TopK", {"x": x}, n_outputs=2, initializers=[("k", np.array([k], I64))], opset=11, axis=axis,
               largest=largest)


@pytest.mark.parametrize("dt", [np.int32, np.int64, np.float64, np.uint64, np.float16])
def test_topk_dtypes(dt):
    x = ints(0, 5, (4, 6), dt)
    check = check_node if dt in (np.int32, np.int64, np.float64) else check_ref  # ORT lacks the others
    check("TopK", {"x": x}, n_outputs=2, initializers=[("k", np.array([3], I64))], opset=24)


def test_topk_unsorted_and_old_opsets():
    x = r(3, 8)
    # sorted = 0 leaves the order free: compare as sets
    m = node_model("TopK", {"x": x}, n_outputs=2, initializers=[("k", np.array([4], I64))], opset=11, sorted=0)
    got = run(m, {"x": x})
    ref = np.sort(x, axis=1)[:, ::-1][:, :4]
    assert_close(np.sort(got["y0"], axis=1)[:, ::-1], ref)
    np.testing.assert_array_equal(np.take_along_axis(x, got["y1"], 1), got["y0"])
    check_node("TopK", {"x": x}, n_outputs=2, initializers=[("k", np.array([2], I64))], opset=10, axis=0)
    # opset < 10: k is an attribute
    check_node("TopK", {"x": x}, n_outputs=2, opset=9, k=3)
    check_node("TopK", {"x": x}, n_outputs=2, opset=7, axis=0, k=1)


def test_topk_nan_and_errors():
    x = np.array([[1.0, np.nan, 3.0, -1.0]], np.float32)
    m = node_model("TopK", {"x": x}, n_outputs=2, initializers=[("k", np.array([2], I64))])
    got = run(m, {"x": x})
    assert np.isnan(got["y0"][0, 0]) and got["y0"][0, 1] == 3.0 and got["y1"].tolist() == [[1, 2]]
    with pytest.raises(loadrun.ModelError, match="K = 5"):
        run(node_model("TopK", {"x": x}, n_outputs=2, initializers=[("k", np.array([5], I64))],
                       out_dtypes=[TensorProto.FLOAT, TensorProto.INT64]), {"x": x})
    with pytest.raises(loadrun.ModelError, match="no k attribute"):
        loadrun.load(node_model("TopK", {"x": x}, n_outputs=2, opset=9,
                                out_dtypes=[TensorProto.FLOAT, TensorProto.INT64]))


# -------------------------------------------------------------------- Trilu
@pytest.mark.parametrize("shape", [(4, 5), (5, 3), (2, 3, 4), (1, 1), (3, 1, 6)])
@pytest.mark.parametrize("k", [None, 0, 2, -1, -7, 9])
@pytest.mark.parametrize("upper", [0, 1])
def test_trilu(shape, k, upper):
    inits = [] if k is None else [("k", np.array(k, I64))]
    check_node("Trilu", {"x": r(*shape)}, initializers=inits, opset=14, upper=upper)


@pytest.mark.parametrize("dt", [np.int64, np.bool_, np.float16, np.uint8])
def test_trilu_dtypes_and_runtime_k(dt):
    x = (rng.standard_normal((3, 4, 4)) * 5).astype(dt)
    m = node_model("Trilu", {"x": x, "k": np.array(1, I64)}, opset=14, upper=0)
    net = loadrun.load(m)
    for k in (1, -2, 0):  # k is a run-time value: no recompile needed
        want = ReferenceEvaluator(m).run(None, {"x": x, "k": np.array(k, I64)})[0]
        assert_close(net.run({"x": x, "k": np.array(k, I64)})["y0"], want)
    check_node("Trilu", {"x": x.astype(np.int64)}, initializers=[("k", np.array(-1, I64))], opset=14)


def test_trilu_rank1_error():
    with pytest.raises(loadrun.ModelError, match="rank >= 2"):
        run(node_model("Trilu", {"x": r(4)}, opset=14, out_dtypes=[TensorProto.FLOAT]), {"x": r(4)})


# ------------------------------------------------------------------- OneHot
@pytest.mark.parametrize("ishape,axis", [((3,), -1), ((2, 3), 0), ((2, 3), 1), ((2, 3), -2), ((1, 4, 1), 3)])
def test_one_hot(ishape, axis):
    depth = 5
    ind = ints(-7, 7, ishape)  # negatives wrap; out of range gives only off values
    check_node("OneHot", {"i": ind}, initializers=[("d", np.array(depth, I64)),
                                                  ("v", np.array([-1.5, 2.0], np.float32))], opset=11, axis=axis)


def test_one_hot_dtypes():
    ind = np.array([[0.0, 2.0, -1.0], [4.0, 9.0, -3.0]], np.float32)
    check_node("OneHot", {"i": ind}, initializers=[("d", np.array(4.0, np.float32)),
                                                  ("v", np.array([0.5, 7], np.float32))], opset=11)
    ind = np.array([1, 0, -2], I64)
    check_node("OneHot", {"i": ind}, initializers=[("d", np.array([3], I64)),
                                                  ("v", np.array([0, 7], I64))], opset=9)
    # dtypes ORT lacks; a scalar index (ORT wants rank >= 1)
    ind = np.array([1, 0, 5, -1], np.int32)
    m = node_model("OneHot", {"i": ind}, initializers=[("d", np.array([3], np.int32)),
                                                      ("v", np.array([False, True]))], opset=9)
    got = run(m, {"i": ind})["y0"]
    assert got.dtype == np.bool_ and got.astype(int).tolist() == [[0, 1, 0], [1, 0, 0], [0, 0, 0], [0, 0, 1]]
    check_ref("OneHot", {"i": np.array(2, I64)}, initializers=[("d", np.array(3, I64)),
                                                              ("v", np.array([9, 3], np.int32))], axis=0)


def test_one_hot_errors():
    ind = np.array([1, 2], I64)
    with pytest.raises(loadrun.ModelError, match="two elements"):
        run(node_model("OneHot", {"i": ind}, initializers=[("d", np.array(3, I64)), ("v", np.zeros(3, np.float32))],
                       out_dtypes=[TensorProto.FLOAT]), {"i": ind})
    with pytest.raises(loadrun.ModelError, match="axis"):
        run(node_model("OneHot", {"i": ind}, initializers=[("d", np.array(3, I64)), ("v", np.zeros(2, np.float32))],
                       out_dtypes=[TensorProto.FLOAT], axis=2), {"i": ind})


# ------------------------------------------------------------------ EyeLike
@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 2), (1, 1)])
@pytest.mark.parametrize("k", [0, 1, -2, 6])
def test_eye_like(shape, k):
    check_node("EyeLike", {"x": r(*shape)}, k=k)


@pytest.mark.parametrize("dtype", [TensorProto.INT32, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BOOL,
                                   TensorProto.UINT64])
def test_eye_like_dtype(dtype):
    check = check_ref if dtype in (TensorProto.FLOAT16, TensorProto.BOOL) else check_node  # ORT lacks these
    check("EyeLike", {"x": ints(0, 3, (3, 4))}, opset=22, dtype=dtype, k=1)


def test_eye_like_errors():
    with pytest.raises(loadrun.ModelError, match="2-D"):
        run(node_model("EyeLike", {"x": r(3)}, out_dtypes=[TensorProto.FLOAT]), {"x": r(3)})


# ------------------------------------------------------------ CumSum/CumProd
@pytest.mark.parametrize("op,opset", [("CumSum", 14), ("CumProd", 26)])
@pytest.mark.parametrize("shape,axis", [((7,), 0), ((3, 5), 1), ((3, 5), -2), ((2, 3, 4), 1), ((1, 1, 3), 2)])
@pytest.mark.parametrize("exclusive,reverse", [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_cumulative(op, opset, shape, axis, exclusive, reverse):
    x = (rng.random(shape) + 0.5).astype(np.float32)
    check_node(op, {"x": x}, initializers=[("a", np.array(axis, I64))], opset=opset, exclusive=exclusive,
               reverse=reverse)


@pytest.mark.parametrize("op,opset", [("CumSum", 11), ("CumSum", 14), ("CumProd", 26)])
@pytest.mark.parametrize("dt", [np.int32, np.int64, np.float64])
def test_cumulative_dtypes_runtime_axis(op, opset, dt):
    x = ints(-3, 4, (3, 4), dt)
    m = node_model(op, {"x": x, "a": np.array(0, np.int32)}, opset=opset, reverse=1)
    for axis in (0, 1, -1):  # the axis is a run-time value
        check_model(m, {"x": x, "a": np.array(axis, np.int32)})


def test_cumulative_errors():
    x = r(3, 4)
    with pytest.raises(loadrun.ModelError, match="out of range"):
        run(node_model("CumSum", {"x": x}, initializers=[("a", np.array(2, I64))], opset=14), {"x": x})


# ------------------------------------------------ DepthToSpace / SpaceToDepth
@pytest.mark.parametrize("mode", ["DCR", "CRD"])
@pytest.mark.parametrize("shape,bs", [((1, 8, 2, 3), 2), ((2, 18, 1, 2), 3), ((1, 4, 3, 3), 1), ((1, 4, 1, 1), 2)])
def test_depth_to_space(mode, shape, bs):
    check_node("DepthToSpace", {"x": r(*shape)}, opset=13, blocksize=bs, mode=mode)


def test_depth_to_space_dtypes_old_opset():
    check_node("DepthToSpace", {"x": r(2, 8, 3, 2)}, opset=7, blocksize=2)
    check_ref("DepthToSpace", {"x": ints(0, 100, (2, 8, 3, 2))}, opset=13, blocksize=2)  # ORT: floats only
    check_node("DepthToSpace", {"x": r(1, 4, 2, 2).astype(np.float16)}, opset=11, blocksize=2, mode="CRD")


@pytest.mark.parametrize("shape,bs", [((1, 2, 4, 6), 2), ((2, 3, 3, 9), 3), ((1, 1, 2, 2), 2)])
def test_space_to_depth(shape, bs):
    check_node("SpaceToDepth", {"x": r(*shape)}, opset=13, blocksize=bs)
    check_node("SpaceToDepth", {"x": r(*shape)}, opset=7, blocksize=bs)
    check_ref("SpaceToDepth", {"x": ints(-9, 9, shape)}, opset=13, blocksize=bs)  # ORT: floats only


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_space_to_depth_modes_opset28(mode):
    # ORT has no opset 28: compare with the onnx reference evaluator
    x = r(2, 3, 4, 6)
    m = node_model("SpaceToDepth", {"x": x}, opset=28, out_dtypes=[TensorProto.FLOAT], blocksize=2, mode=mode)
    ref = ReferenceEvaluator(m).run(None, {"x": x})[0]
    assert_close(run(m, {"x": x})["y0"], ref)
    # and DepthToSpace with the same mode undoes it
    back = node_model("DepthToSpace", {"x": ref}, opset=13, blocksize=2, mode=mode)
    np.testing.assert_array_equal(run(back, {"x": ref})["y0"], x)


def test_depth_space_errors():
    x = r(1, 6, 2, 2)
    with pytest.raises(loadrun.ModelError, match="multiple of blocksize"):
        run(node_model("DepthToSpace", {"x": x}, out_dtypes=[TensorProto.FLOAT], blocksize=2), {"x": x})
    with pytest.raises(loadrun.ModelError, match="mode"):
        run(node_model("DepthToSpace", {"x": x}, out_dtypes=[TensorProto.FLOAT], blocksize=1, mode="XYZ"), {"x": x})
    with pytest.raises(loadrun.ModelError, match="multiples of blocksize"):
        run(node_model("SpaceToDepth", {"x": x}, out_dtypes=[TensorProto.FLOAT], blocksize=3), {"x": x})


# ---------------------------------------------------------- ReverseSequence
@pytest.mark.parametrize("shape,batch_axis,time_axis", [((4, 3), 1, 0), ((3, 5), 0, 1), ((5, 2, 3, 2), 1, 0),
                                                        ((2, 6, 4), 0, 1), ((1, 1), 0, 1)])
def test_reverse_sequence(shape, batch_axis, time_axis):
    lens = ints(0, shape[time_axis] + 1, (shape[batch_axis],))
    check_node("ReverseSequence", {"x": r(*shape), "l": lens}, batch_axis=batch_axis, time_axis=time_axis)


@pytest.mark.parametrize("dt", [np.int64, np.bool_, np.float16])
def test_reverse_sequence_dtypes(dt):
    x = (rng.standard_normal((4, 3, 2)) * 5).astype(dt)
    check_node("ReverseSequence", {"x": x, "l": np.array([4, 1, 3], I64)})


def test_reverse_sequence_errors():
    x = r(4, 3)
    m = node_model("ReverseSequence", {"x": x, "l": np.zeros(3, I64)})
    with pytest.raises(loadrun.ModelError, match="out of range"):
        run(m, {"x": x, "l": np.array([1, 5, 2], I64)})
    with pytest.raises(loadrun.ModelError, match="batch_axis"):
        run(node_model("ReverseSequence", {"x": x, "l": np.zeros(3, I64)}, out_dtypes=[TensorProto.FLOAT],
                       batch_axis=1, time_axis=1), {"x": x, "l": np.zeros(3, I64)})


# ------------------------------------------------------------ CenterCropPad
@pytest.mark.parametrize("ishape,shape,axes", [
    ((20, 10, 3), (10, 7, 3), None),
    ((10, 7, 3), (20, 10, 3), None),
    ((20, 8, 3), (10, 10, 3), None),
    ((3, 20, 8), (10, 9), [1, 2]),
    ((20, 8, 3), (11, 9), [-3, -2]),
    ((5, 1, 4), (2,), [2]),
    ((4, 5), (1, 1), None),
])
def test_center_crop_pad(ishape, shape, axes):
    kw = {} if axes is None else {"axes": axes}
    check_node("CenterCropPad", {"x": r(*ishape)}, initializers=[("s", np.array(shape, I64))], opset=18, **kw)


@pytest.mark.parametrize("dt", [np.int32, np.uint8, np.float64])
def test_center_crop_pad_dtypes(dt):
    x = ints(0, 50, (5, 6), dt)
    check_node("CenterCropPad", {"x": x}, initializers=[("s", np.array([8, 3], I64))], opset=18)
    check_ref("CenterCropPad", {"x": x}, initializers=[("s", np.array([8, 3], np.int32))], opset=18)


def test_center_crop_pad_errors():
    x = r(4, 5)
    with pytest.raises(loadrun.ModelError, match="entries"):
        run(node_model("CenterCropPad", {"x": x}, initializers=[("s", np.array([3], I64))], opset=18,
                       out_dtypes=[TensorProto.FLOAT]), {"x": x})
    with pytest.raises(loadrun.ModelError, match="repeats"):
        run(node_model("CenterCropPad", {"x": x}, initializers=[("s", np.array([3, 3], I64))], opset=18,
                       out_dtypes=[TensorProto.FLOAT], axes=[0, -2]), {"x": x})
    # the shape fed at run time: the plan is keyed on its value (tests/test_dynamic_shapes.py)
    m = node_model("CenterCropPad", {"x": x, "s": np.array([3, 3], I64)}, opset=18, out_dtypes=[TensorProto.FLOAT])
    for s in ([3, 3], [6, 2]):
        check_model(m, {"x": x, "s": np.array(s, I64)})


# ------------------------------------------------------------------- Col2Im
def _col2im_input(n, c, image, block, strides, pads, dils):
    nd = len(image)
    nb = [(image[i] + pads[i] + pads[i + nd] - dils[i] * (block[i] - 1) - 1) // strides[i] + 1 for i in range(nd)]
    return r(n, c * int(np.prod(block)), int(np.prod(nb)))


@pytest.mark.parametrize("n,c,image,block,strides,pads,dils", [
    (1, 1, (5, 5), (1, 5), (1, 1), (0, 0, 0, 0), (1, 1)),
    (2, 3, (6, 7), (2, 3), (1, 1), (0, 0, 0, 0), (1, 1)),
    (1, 2, (5, 5), (2, 2), (2, 1), (1, 0, 1, 2), (1, 2)),
    (1, 1, (9, 8), (3, 3), (2, 3), (1, 1, 2, 0), (2, 1)),
])
def test_col2im(n, c, image, block, strides, pads, dils):
    x = _col2im_input(n, c, image, block, strides, pads, dils)
    check_node("Col2Im", {"x": x}, initializers=[("i", np.array(image, I64)), ("b", np.array(block, I64))],
               opset=18, strides=list(strides), pads=list(pads), dilations=list(dils))


@pytest.mark.parametrize("image,block", [((7,), (3,)), ((4, 3, 5), (2, 1, 3))])
def test_col2im_other_ranks(image, block):
    nd = len(image)
    x = _col2im_input(2, 2, image, block, [1] * nd, [0] * 2 * nd, [1] * nd)
    m = node_model("Col2Im", {"x": x}, initializers=[("i", np.array(image, I64)), ("b", np.array(block, I64))],
                   opset=18, out_dtypes=[TensorProto.FLOAT])
    ref = ReferenceEvaluator(m).run(None, {"x": x})[0]
    assert_close(run(m, {"x": x})["y0"], ref)


def test_col2im_float64_and_errors():
    x = _col2im_input(1, 2, (4, 4), (2, 2), (1, 1), (0,) * 4, (1, 1)).astype(np.float64)
    inits = [("i", np.array([4, 4], I64)), ("b", np.array([2, 2], I64))]
    m = node_model("Col2Im", {"x": x}, initializers=inits, opset=18, out_dtypes=[TensorProto.DOUBLE])
    ref = ReferenceEvaluator(m).run(None, {"x": x})[0]
    assert_close(run(m, {"x": x})["y0"], ref)
    bad = r(1, 8, 10)  # 10 is not the 9 block positions
    with pytest.raises(loadrun.ModelError, match="block positions"):
        run(node_model("Col2Im", {"x": bad}, initializers=inits, opset=18, out_dtypes=[TensorProto.FLOAT]),
            {"x": bad})
    with pytest.raises(loadrun.ModelError, match="pads"):
        run(node_model("Col2Im", {"x": bad}, initializers=inits, opset=18, out_dtypes=[TensorProto.FLOAT],
                       pads=[1, 1]), {"x": bad})


# ---------------------------------------------------- ops chained in a model
def test_chain_topk_gather_elements_scatter():
    # indices computed in the graph (TopK) feed GatherElements and ScatterElements
    x = r(3, 6)
    nodes = [
        helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=1),
        helper.make_node("GatherElements", ["x", "i"], ["g"], axis=1),
        helper.make_node("ScatterElements", ["x", "i", "g"], ["s"], axis=1, reduction="add"),
        helper.make_node("CumSum", ["s", "ax"], ["y"], reverse=1),
    ]
    m = make_model(nodes, [("x", np.float32, [3, 6])], [("y", np.float32, None), ("v", np.float32, None)],
                   [("k", np.array([2], I64)), ("ax", np.array(1, I64))], opset=18)
    check_model(m, {"x": x})
