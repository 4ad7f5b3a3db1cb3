"""Helpers for checking loadrun against ONNX Runtime on the same inputs.

Tolerance against ONNX Runtime: relative max error |a-b|max / max(|b|max,
1e-6) <= rtol (1e-4 by default), plus exact equality for integer and bool
outputs (assert_close). A fast algorithm against NAIVE is checked per element
instead (assert_close_elementwise): |got - ref| <= atol + rtol * |ref| for
every element, so a small output next to a large one cannot hide its error.

Integer-arithmetic operators (EXACT_OPS) are checked against onnx.reference
instead: it computes them exactly in NumPy on every machine, while ONNX
Runtime's u8 x s8 kernels are inexact on CPUs without AVX-VNNI (their
intermediate sums saturate at int16), so an ORT reference would make the
result depend on the machine the tests run on.
"""
import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper

import loadrun

IR_VERSION = 8  # what every onnxruntime we test with accepts


def make_model(nodes, inputs, outputs, initializers=(), opset=17):
    """inputs/outputs: [(name, np dtype or TensorProto type, shape or None)]."""

    def vi(name, dt, shape):
        et = dt if isinstance(dt, int) else helper.np_dtype_to_tensor_dtype(np.dtype(dt))
        return helper.make_tensor_value_info(name, et, shape)

    g = helper.make_graph(
        nodes, "test", [vi(*i) for i in inputs], [vi(*o) for o in outputs],
        [numpy_helper.from_array(np.asarray(a), n) for n, a in initializers])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=IR_VERSION)


def node_model(op_type, feeds, n_outputs=1, initializers=(), opset=17, out_dtypes=None, **attrs):
    """A one-node model whose graph inputs are `feeds` (name -> array) in order.

    Output types come from ONNX shape inference unless `out_dtypes` gives them.
    """
    inputs = [(n, a.dtype, list(a.shape)) for n, a in feeds.items()]
    in_names = list(feeds) + [n for n, _ in initializers]
    outs = [f"y{i}" for i in range(n_outputs)]
    node = helper.make_node(op_type, in_names, outs, **attrs)
    if out_dtypes is None:
        probe = make_model([node], inputs, [], initializers, opset)
        inferred = onnx.shape_inference.infer_shapes(probe)
        types = {v.name: v.type.tensor_type.elem_type for v in inferred.graph.value_info}
        out_dtypes = [types.get(o, onnx.TensorProto.FLOAT) for o in outs]
    return make_model([node], inputs, [(o, t, None) for o, t in zip(outs, out_dtypes)],
                      initializers, opset)


def ort_run(model, feeds):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, feeds)))


def rel_err(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-6))


def assert_close(got, ref, rtol=1e-4, name=""):
    got, ref = np.asarray(got), np.asarray(ref)
    assert got.shape == ref.shape, f"{name}: shape {got.shape} != {ref.shape}"
    if ref.dtype.kind in "biu":
        assert got.dtype == ref.dtype, f"{name}: dtype {got.dtype} != {ref.dtype}"
        np.testing.assert_array_equal(got, ref, err_msg=name)
        return
    assert got.dtype == ref.dtype, f"{name}: dtype {got.dtype} != {ref.dtype}"
    nan_ref = np.isnan(ref)
    assert np.array_equal(np.isnan(got), nan_ref), f"{name}: NaN positions differ"
    e = rel_err(np.where(nan_ref, 0, got), np.where(nan_ref, 0, ref))
    assert e <= rtol, f"{name}: relative max error {e:.3g} > {rtol}"


def assert_close_elementwise(got, ref, rtol, atol, name=""):
    """Per element: |got - ref| <= atol + rtol * |ref|; NaN exactly where ref
    has NaN, the same infinities; same shape and dtype; integers and bools equal.

    atol covers results near zero whose inputs were not (sums that cancel):
    give it on the scale of the terms, e.g. rtol times the typical magnitude.
    """
    got, ref = np.asarray(got), np.asarray(ref)
    assert got.shape == ref.shape, f"{name}: shape {got.shape} != {ref.shape}"
    assert got.dtype == ref.dtype, f"{name}: dtype {got.dtype} != {ref.dtype}"
    if ref.dtype.kind not in "fc":
        np.testing.assert_array_equal(got, ref, err_msg=name)
        return
    g = got.astype(np.float64).reshape(-1)
    r = ref.astype(np.float64).reshape(-1)
    nan = np.isnan(r)
    assert np.array_equal(np.isnan(g), nan), \
        f"{name}: NaN at {np.flatnonzero(np.isnan(g) != nan)[:5]} in one and not the other"
    inf = np.isinf(r)
    assert np.array_equal(g[inf], r[inf]), f"{name}: infinities differ"
    fin = ~nan & ~inf
    err = np.abs(g[fin] - r[fin])
    bound = atol + rtol * np.abs(r[fin])
    bad = np.flatnonzero(~(err <= bound))
    if bad.size:
        i = bad[np.argmax(err[bad] / bound[bad])]
        at = np.flatnonzero(fin)[i]
        raise AssertionError(
            f"{name}: {bad.size}/{r.size} elements off by more than {atol:g} + {rtol:g}|ref|; worst at "
            f"{np.unravel_index(at, ref.shape)}: {g[at]!r} vs {r[at]!r} (error {err[i]:.3g}, bound {bound[i]:.3g})")


# Operators whose defined result is exact integer arithmetic.
EXACT_OPS = frozenset({"MatMulInteger", "ConvInteger", "QLinearMatMul", "QLinearConv"})


def onnx_reference_run(model, feeds):
    from onnx.reference import ReferenceEvaluator

    names = [o.name for o in model.graph.output]
    return dict(zip(names, ReferenceEvaluator(model).run(None, feeds)))


def check_model(model, feeds, rtol=1e-4, ref=None):
    """Run `model` in loadrun and a reference and compare every output.

    ref: "ort" (ONNX Runtime) or "onnx" (onnx.reference); by default
    onnx.reference when the model uses an integer-arithmetic op (EXACT_OPS),
    else ONNX Runtime.
    """
    if ref is None:
        ref = "onnx" if any(n.op_type in EXACT_OPS for n in model.graph.node) else "ort"
    ref = {"ort": ort_run, "onnx": onnx_reference_run}[ref](model, feeds)
    got = loadrun.load(model).run(feeds)
    assert set(got) == set(ref)
    for k in ref:
        assert_close(got[k], ref[k], rtol, k)
    return got


def check_node(op_type, feeds, n_outputs=1, initializers=(), opset=17, rtol=1e-4, ref=None, **attrs):
    return check_model(node_model(op_type, feeds, n_outputs, initializers, opset, **attrs), feeds, rtol, ref)
