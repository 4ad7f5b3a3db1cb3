"""ONNX element types <-> loadrun dtype names <-> NumPy dtypes.

bfloat16, the float8 formats, float4e2m1 and the 4-bit / 2-bit integers are
NumPy dtypes of ml_dtypes (what onnx.numpy_helper returns for them); loadrun
names them as ml_dtypes does, so np.dtype(name) finds them once ml_dtypes is
imported. Sub-byte integers are one element per byte, as in ml_dtypes.
"""
import numpy as np
from onnx import TensorProto

try:  # registers bfloat16, float8_*, int4 ... with NumPy
    import ml_dtypes  # noqa: F401
except ImportError:  # pragma: no cover - onnx >= 1.18 depends on it
    ml_dtypes = None

ONNX_TO_NAME = {
    TensorProto.FLOAT: "float32",
    TensorProto.FLOAT16: "float16",
    TensorProto.DOUBLE: "float64",
    TensorProto.INT8: "int8",
    TensorProto.UINT8: "uint8",
    TensorProto.INT16: "int16",
    TensorProto.UINT16: "uint16",
    TensorProto.INT32: "int32",
    TensorProto.UINT32: "uint32",
    TensorProto.INT64: "int64",
    TensorProto.UINT64: "uint64",
    TensorProto.BOOL: "bool",
}
# Storage-only types (ml_dtypes names); present when ml_dtypes is.
_LOWP = {
    "BFLOAT16": "bfloat16",
    "FLOAT8E4M3FN": "float8_e4m3fn",
    "FLOAT8E4M3FNUZ": "float8_e4m3fnuz",
    "FLOAT8E5M2": "float8_e5m2",
    "FLOAT8E5M2FNUZ": "float8_e5m2fnuz",
    "FLOAT8E8M0": "float8_e8m0fnu",
    "INT4": "int4",
    "UINT4": "uint4",
    "INT2": "int2",
    "UINT2": "uint2",
    "FLOAT4E2M1": "float4_e2m1fn",
}
if ml_dtypes is not None:
    for _onnx_name, _name in _LOWP.items():
        if hasattr(TensorProto, _onnx_name) and hasattr(ml_dtypes, _name):
            ONNX_TO_NAME[getattr(TensorProto, _onnx_name)] = _name


def onnx_type_name(elem_type):
    try:
        return TensorProto.DataType.Name(elem_type).lower()
    except ValueError:
        return str(elem_type)


def numpy_dtype(name):
    return np.dtype("bool" if name == "bool" else name)
