"""Helpers shared by the data-movement operator tests (test_ops_tensor_*.py):
random arrays of any dtype, one-node models with constant inputs, and the
check against ONNX Runtime."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import loadrun
from onnx_ref import check_model, make_model

rng = np.random.default_rng(0)

I64_MAX = np.iinfo(np.int64).max
I64_MIN = np.iinfo(np.int64).min

# What each ORT comparison runs on: float32, int64, bool and float16.
MAIN_DTYPES = [np.float32, np.int64, np.bool_, np.float16]
ALL_DTYPES = [np.float32, np.float16, np.float64, np.int8, np.int16, np.int32, np.int64,
              np.uint8, np.uint16, np.uint32, np.uint64, np.bool_]


def arr(shape, dtype=np.float32):
    dt = np.dtype(dtype)
    if dt == np.bool_:
        return np.asarray(rng.random(shape) < 0.5)
    if dt.kind == "f":
        return np.asarray(rng.standard_normal(shape), dtype=dt)
    lo = 0 if dt.kind == "u" else -100
    return np.asarray(rng.integers(lo, 100, size=shape), dtype=dt)


def i64(*v):
    return np.array(v, dtype=np.int64)


def node_model(op, feeds, consts=(), n_out=1, opset=17, inputs=None, out_types=None, **attrs):
    """One-node model: graph inputs `feeds` (name -> array), constant
    initializers `consts` [(name, array)]; the node reads `inputs` (names, ""
    for an absent optional input), by default feeds then consts in order."""
    if inputs is None:
        inputs = list(feeds) + [n for n, _ in consts]
    outs = [f"y{i}" for i in range(n_out)]
    node = helper.make_node(op, inputs, outs, **attrs)
    g_in = [(n, a.dtype, list(a.shape)) for n, a in feeds.items()]
    if out_types is None:
        probe = make_model([node], g_in, [], consts, opset)
        inferred = onnx.shape_inference.infer_shapes(probe)
        types = {v.name: v.type.tensor_type.elem_type for v in inferred.graph.value_info}
        out_types = [types.get(o, TensorProto.FLOAT) for o in outs]
    return make_model([node], g_in, [(o, t, None) for o, t in zip(outs, out_types)], consts, opset)


def check(op, feeds, consts=(), n_out=1, opset=17, inputs=None, **attrs):
    """Run the node in loadrun and ORT and compare; returns loadrun's outputs."""
    return check_model(node_model(op, feeds, consts, n_out, opset, inputs, **attrs), feeds)


def run(model, feeds):
    return loadrun.load(model).run(feeds)


dtypes = pytest.mark.parametrize("dt", MAIN_DTYPES, ids=lambda d: np.dtype(d).name)
