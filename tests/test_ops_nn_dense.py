"""Gemm, MatMul, Softmax/LogSoftmax/Hardmax, LayerNormalization, the Reduce
family and ArgMax/ArgMin against ONNX Runtime."""
import itertools

import numpy as np
import pytest

import loadrun
from onnx_ref import check_model, check_node, node_model

rng = np.random.default_rng(0)


def r(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def ties(*shape, dtype=np.float32):
    """Small integer values, so that equal maxima/minima are common."""
    return rng.integers(-2, 3, size=shape).astype(dtype)


def load_and_run(model, feeds):
    return loadrun.load(model).run(feeds)


# -- Gemm ------------------------------------------------------------------

C_SHAPES = [None, (), "N", "1N", "M1", "MN"]


def c_array(kind, m, n):
    if kind is None:
        return None
    shape = {(): (), "N": (n,), "1N": (1, n), "M1": (m, 1), "MN": (m, n)}[kind]
    return r(*shape)


@pytest.mark.parametrize("mkn", [(1, 7, 33), (7, 33, 1), (33, 1, 7)])
@pytest.mark.parametrize("c_kind", C_SHAPES)
@pytest.mark.parametrize("trans_a,trans_b", list(itertools.product([0, 1], [0, 1])))
def test_gemm(mkn, c_kind, trans_a, trans_b):
    m, k, n = mkn
    a = r(*((k, m) if trans_a else (m, k)))
    b = r(*((n, k) if trans_b else (k, n)))
    feeds = {"a": a, "b": b}
    c = c_array(c_kind, m, n)
    if c is not None:
        feeds["c"] = c
    check_node("Gemm", feeds, transA=trans_a, transB=trans_b, alpha=0.7, beta=1.3)


def test_gemm_defaults_float64_and_constant_weights():
    a = r(5, 6, dtype=np.float64)
    check_node("Gemm", {"a": a}, initializers=[("b", r(6, 3, dtype=np.float64)),
                                               ("c", r(3, dtype=np.float64))])
    # opset 11 form with beta = 0 (C ignored) and transB weights, as in Linear layers
    check_node("Gemm", {"a": r(4, 9)}, initializers=[("w", r(2, 9)), ("c", r(4, 2))],
               opset=11, transB=1, beta=0.0)


def test_gemm_opset7_c_required():
    check_node("Gemm", {"a": r(3, 4), "b": r(4, 5), "c": r(1, 5)}, opset=7)


@pytest.mark.parametrize("a_shape,b_shape,c_shape", [
    ((3, 4), (5, 6), None),        # inner dims differ
    ((3, 4), (4, 5), (3, 4)),      # C does not broadcast to (3, 5)
    ((3, 4), (4, 5), (2, 3, 5)),   # C of rank 3
])
def test_gemm_bad_shapes(a_shape, b_shape, c_shape):
    feeds = {"a": r(*a_shape), "b": r(*b_shape)}
    if c_shape:
        feeds["c"] = r(*c_shape)
    model = node_model("Gemm", feeds, out_dtypes=[1])
    with pytest.raises(loadrun.ModelError):
        load_and_run(model, feeds)


def test_gemm_rank3_is_model_error():
    feeds = {"a": r(2, 3, 4), "b": r(4, 5)}
    with pytest.raises(loadrun.ModelError):
        load_and_run(node_model("Gemm", feeds, out_dtypes=[1]), feeds)


# -- MatMul ----------------------------------------------------------------

MATMUL_SHAPES = [
    ((4,), (4,)),                 # 1-D x 1-D -> scalar
    ((4,), (4, 5)),               # 1-D x 2-D
    ((4,), (3, 4, 5)),            # 1-D x N-D
    ((3, 4), (4,)),               # 2-D x 1-D
    ((2, 3, 4), (4,)),            # N-D x 1-D
    ((3, 4), (4, 5)),
    ((1, 1), (1, 1)),
    ((7, 33), (33, 1)),
    ((2, 1, 3, 4), (5, 4, 6)),    # broadcast batch
    ((2, 3, 1, 4), (1, 4, 2)),
    ((5, 3, 4), (1, 4, 2)),
    ((1, 3, 4), (6, 4, 2)),
]


@pytest.mark.parametrize("a_shape,b_shape", MATMUL_SHAPES)
def test_matmul_float(a_shape, b_shape):
    got = check_node("MatMul", {"a": r(*a_shape), "b": r(*b_shape)})
    assert got["y0"].shape == np.matmul(np.zeros(a_shape), np.zeros(b_shape)).shape


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.int64])
@pytest.mark.parametrize("a_shape,b_shape", [((4,), (3, 4, 5)), ((2, 1, 3, 4), (5, 4, 6)),
                                             ((2, 3, 4), (4,))])
def test_matmul_dtypes(dtype, a_shape, b_shape):
    a = rng.integers(-5, 6, size=a_shape).astype(dtype)
    b = rng.integers(-5, 6, size=b_shape).astype(dtype)
    check_node("MatMul", {"a": a}, initializers=[("b", b)])


def test_matmul_int32_wraps_like_ort():
    a = np.full((2, 3), 2**20, np.int32)
    b = np.full((3, 2), 2**12, np.int32)
    check_node("MatMul", {"a": a, "b": b})


@pytest.mark.parametrize("a_shape,b_shape", [((3, 4), (5, 6)), ((4,), (5,)),
                                             ((2, 3, 4), (3, 4, 5))])
def test_matmul_bad_shapes(a_shape, b_shape):
    feeds = {"a": r(*a_shape), "b": r(*b_shape)}
    with pytest.raises(loadrun.ModelError):
        load_and_run(node_model("MatMul", feeds, out_dtypes=[1]), feeds)


# -- Softmax / LogSoftmax / Hardmax ----------------------------------------

SOFTMAX_OPS = ["Softmax", "LogSoftmax", "Hardmax"]


@pytest.mark.parametrize("op", SOFTMAX_OPS)
@pytest.mark.parametrize("axis", [None, -1, 0, 1, 2, -3])
def test_softmax_opset13(op, axis):
    x = ties(2, 3, 4, 5) if op == "Hardmax" else r(2, 3, 4, 5) * 10
    attrs = {} if axis is None else {"axis": axis}
    check_node(op, {"x": x}, opset=13, **attrs)


@pytest.mark.parametrize("op", SOFTMAX_OPS)
@pytest.mark.parametrize("axis", [None, 1, 0, 3, -1, -2])
@pytest.mark.parametrize("opset", [11, 7])
def test_softmax_legacy_2d(op, axis, opset):
    x = ties(2, 3, 4, 5) if op == "Hardmax" else r(2, 3, 4, 5) * 10
    attrs = {} if axis is None else {"axis": axis}
    got = check_node(op, {"x": x}, opset=opset, **attrs)
    if op == "Hardmax":  # one 1 per flattened row, not per line along the axis
        a = 1 if axis is None else axis % 4
        rows = got["y0"].reshape(int(np.prod(x.shape[:a])), -1)
        assert (rows.sum(axis=1) == 1).all()


def test_softmax_legacy_differs_from_new():
    """Guards the rewriter: axis 1 on a 4-D input means different things."""
    x = r(2, 3, 4, 5)
    old = load_and_run(node_model("Softmax", {"x": x}, opset=11, axis=1), {"x": x})["y0"]
    new = load_and_run(node_model("Softmax", {"x": x}, opset=13, axis=1), {"x": x})["y0"]
    np.testing.assert_allclose(old.reshape(2, -1).sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(new.sum(axis=1), 1, rtol=1e-5)
    assert not np.allclose(old, new)


def test_softmax_large_values_stable_and_float64():
    x = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1000.5, -999.0]], np.float32)
    got = check_node("Softmax", {"x": x})
    assert np.isfinite(got["y0"]).all()
    check_node("LogSoftmax", {"x": x})
    check_node("Softmax", {"x": r(3, 1, 7, dtype=np.float64)}, axis=1)
    check_node("LogSoftmax", {"x": r(3, 7, dtype=np.float64)}, opset=11)


@pytest.mark.parametrize("op", SOFTMAX_OPS)
@pytest.mark.parametrize("opset,axis", [(13, 4), (13, -5), (11, 4)])
def test_softmax_bad_axis(op, opset, axis):
    x = r(2, 3, 4, 5)
    with pytest.raises(loadrun.ModelError):
        load_and_run(node_model(op, {"x": x}, opset=opset, out_dtypes=[1], axis=axis), {"x": x})


# -- LayerNormalization ----------------------------------------------------

@pytest.mark.parametrize("axis", [-1, 1, 0, -2])
@pytest.mark.parametrize("bias", [False, True])
def test_layer_norm(axis, bias):
    x = r(2, 3, 4, 5) * 3 + 1
    norm = x.shape[axis % 4:]
    inits = [("s", r(*norm))] + ([("b", r(*norm))] if bias else [])
    check_node("LayerNormalization", {"x": x}, initializers=inits, axis=axis, epsilon=1e-3)


@pytest.mark.parametrize("axis", [-1, 1])
@pytest.mark.parametrize("bias", [False, True])
def test_layer_norm_mean_invstd(axis, bias):
    x = r(2, 3, 4, 5) * 2 - 1
    norm = x.shape[axis % 4:]
    feeds = {"x": x, "s": r(*norm)}
    if bias:
        feeds["b"] = r(*norm)
    got = check_node("LayerNormalization", feeds, n_outputs=3, axis=axis)
    stat = list(x.shape)
    for d in range(axis % 4, 4):
        stat[d] = 1
    assert got["y1"].shape == tuple(stat) and got["y2"].shape == tuple(stat)
    assert got["y1"].dtype == np.float32


@pytest.mark.parametrize("s_shape", [(4,), (1, 4), (3, 1), (1, 3, 4)])
def test_layer_norm_broadcast_scale(s_shape):
    check_node("LayerNormalization", {"x": r(2, 3, 4)},
               initializers=[("s", r(*s_shape)), ("b", r(*s_shape[-1:]))], axis=1)


def test_layer_norm_float64_and_mean_only():
    x = r(3, 8, dtype=np.float64)
    check_node("LayerNormalization", {"x": x, "s": r(8, dtype=np.float64)}, n_outputs=2)


@pytest.mark.parametrize("axis,s_shape", [(3, (5,)), (-1, (3,)), (1, (2, 4))])
def test_layer_norm_bad(axis, s_shape):
    feeds = {"x": r(2, 3, 4), "s": r(*s_shape)}
    with pytest.raises(loadrun.ModelError):
        load_and_run(node_model("LayerNormalization", feeds, out_dtypes=[1], axis=axis), feeds)


def test_layer_norm_stash_type_unsupported():
    feeds = {"x": r(2, 3), "s": r(3)}
    with pytest.raises(loadrun.UnsupportedError):
        load_and_run(node_model("LayerNormalization", feeds, stash_type=0), feeds)


# -- Reduce family -----------------------------------------------------------

REDUCE_OPS = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
              "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"]
AXES_CASES = [[1], [-1], [0, 2], [-3, 1], [2, -3, 1], None]


def axes_input_since(op):
    return 13 if op == "ReduceSum" else 18


def reduce_input(op):
    x = r(2, 3, 4)
    if op == "ReduceLogSum":
        x = np.abs(x) + 0.1
    if op == "ReduceProd":
        x = x * 0.5 + np.sign(x)  # magnitudes around 1
    return x


def reduce_check(op, x, axes, opset, **attrs):
    """Builds the node in the form `opset` uses: axes attribute or input."""
    if axes is None:
        return check_node(op, {"x": x}, opset=opset, **attrs)
    if opset >= axes_input_since(op):
        return check_node(op, {"x": x}, initializers=[("axes", np.array(axes, np.int64))],
                          opset=opset, **attrs)
    return check_node(op, {"x": x}, opset=opset, axes=axes, **attrs)


@pytest.mark.parametrize("op", REDUCE_OPS)
@pytest.mark.parametrize("opset", [11, 13, 18])
@pytest.mark.parametrize("keepdims", [0, 1])
@pytest.mark.parametrize("axes", AXES_CASES)
def test_reduce(op, opset, keepdims, axes):
    x = reduce_input(op)
    got = reduce_check(op, x, axes, opset, keepdims=keepdims)
    n_red = 3 if axes is None else len(axes)
    assert got["y0"].ndim == (3 if keepdims else 3 - n_red)


@pytest.mark.parametrize("op", REDUCE_OPS)
@pytest.mark.parametrize("empty_input", [False, True])
def test_reduce_noop_with_empty_axes(op, empty_input):
    x = reduce_input(op)
    inits = [("axes", np.array([], np.int64))] if empty_input else []
    opset = axes_input_since(op)
    got = check_node(op, {"x": x}, initializers=inits, opset=opset, noop_with_empty_axes=1)
    assert got["y0"].shape == x.shape
    # and with noop off, empty axes reduce everything
    got = check_node(op, {"x": x}, initializers=inits, opset=opset, keepdims=0)
    assert got["y0"].shape == ()


@pytest.mark.parametrize("op", ["ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd",
                                "ReduceMean", "ReduceL1", "ReduceSumSquare"])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("axes", [[1], [0, -1], None])
def test_reduce_int(op, dtype, axes):
    x = rng.integers(-7, 8, size=(3, 4, 2)).astype(dtype)
    reduce_check(op, x, axes, 18)


@pytest.mark.parametrize("op", ["ReduceSum", "ReduceMean", "ReduceLogSumExp"])
def test_reduce_float64_and_size1_dims(op):
    reduce_check(op, r(1, 5, 1, dtype=np.float64), [0, 2], 18, keepdims=0)
    reduce_check(op, r(3, 1), [-1], 13)


def test_reduce_logsumexp_large_values():
    x = np.array([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -999.5]], np.float32)
    got = reduce_check("ReduceLogSumExp", x, [1], 18)
    assert np.isfinite(got["y0"]).all()


def test_reduce_scalar_input():
    x = np.array(2.5, np.float32)
    check_node("ReduceSum", {"x": x}, opset=13)


@pytest.mark.parametrize("op", ["ReduceSum", "ReduceMean", "ReduceMax"])
@pytest.mark.parametrize("opset,axes", [(11, [3]), (18, [-4]), (18, [1, 1]), (11, [0, -3])])
def test_reduce_bad_axes(op, opset, axes):
    x = r(2, 3, 4)
    if opset >= axes_input_since(op):
        model = node_model(op, {"x": x}, initializers=[("axes", np.array(axes, np.int64))],
                           opset=opset, out_dtypes=[1])
    else:
        model = node_model(op, {"x": x}, opset=opset, out_dtypes=[1], axes=axes)
    with pytest.raises(loadrun.ModelError):
        load_and_run(model, {"x": x})


def test_reduce_l2_int_unsupported():
    x = np.ones((2, 3), np.int32)
    model = node_model("ReduceL2", {"x": x}, opset=18)
    with pytest.raises(loadrun.UnsupportedError):
        load_and_run(model, {"x": x})


# -- ArgMax / ArgMin -------------------------------------------------------

@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
@pytest.mark.parametrize("axis", [0, 1, -1, 2])
@pytest.mark.parametrize("keepdims", [0, 1])
@pytest.mark.parametrize("last", [0, 1])
def test_arg(op, axis, keepdims, last):
    x = ties(3, 4, 5)
    got = check_node(op, {"x": x}, axis=axis, keepdims=keepdims, select_last_index=last)
    assert got["y0"].dtype == np.int64


def test_arg_select_last_index_matters():
    x = np.array([[1, 3, 3, 0], [2, 2, 2, 2]], np.float32)
    first = check_node("ArgMax", {"x": x}, axis=1)["y0"]
    last = check_node("ArgMax", {"x": x}, axis=1, select_last_index=1)["y0"]
    assert first.ravel().tolist() == [1, 0] and last.ravel().tolist() == [2, 3]
    lmin = check_node("ArgMin", {"x": x}, axis=1, keepdims=0, select_last_index=1)["y0"]
    assert lmin.tolist() == [3, 3]


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float64])
@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
def test_arg_dtypes_and_default_axis(dtype, op):
    check_node(op, {"x": ties(4, 1, 3, dtype=dtype)})
    check_node(op, {"x": ties(1, 6, dtype=dtype)}, opset=11, axis=-1, keepdims=0)


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
@pytest.mark.parametrize("axis", [3, -4])
def test_arg_bad_axis(op, axis):
    x = r(3, 4, 5)
    with pytest.raises(loadrun.ModelError):
        load_and_run(node_model(op, {"x": x}, out_dtypes=[7], axis=axis), {"x": x})


# -- a small graph of them together ----------------------------------------

def test_attention_like_graph():
    from onnx import TensorProto, helper

    from onnx_ref import make_model

    feeds = {"q": r(2, 5, 8), "kt": r(2, 8, 5)}
    nodes = [
        helper.make_node("MatMul", ["q", "w"], ["qw"]),
        helper.make_node("MatMul", ["qw", "kt"], ["s"]),
        helper.make_node("Softmax", ["s"], ["p"], axis=-1),
        helper.make_node("ReduceMean", ["p", "ax"], ["m"], keepdims=0),
        helper.make_node("ArgMax", ["m"], ["am"], axis=-1),
    ]
    model = make_model(nodes, [("q", np.float32, [2, 5, 8]), ("kt", np.float32, [2, 8, 5])],
                       [("m", np.float32, None), ("am", TensorProto.INT64, None)],
                       [("w", r(8, 8)), ("ax", np.array([1], np.int64))], opset=18)
    check_model(model, feeds)


def test_folded_at_compile_time():
    """Nodes reading only constants run once at compile (the NAIVE algo)."""
    from onnx import helper

    from onnx_ref import make_model

    nodes = [
        helper.make_node("ReduceSum", ["w", "ax"], ["ws"], keepdims=1),
        helper.make_node("Gemm", ["w", "w"], ["ww"], transB=1),
        helper.make_node("MatMul", ["x", "ws"], ["y"]),
        helper.make_node("LayerNormalization", ["ww", "s"], ["ln"]),
    ]
    w = r(4, 4)
    model = make_model(nodes, [("x", np.float32, [3, 1])],
                       [("y", np.float32, None), ("ln", np.float32, None)],
                       [("w", w), ("ax", np.array([0], np.int64)), ("s", r(4))], opset=18)
    check_model(model, {"x": r(3, 1)})
