"""Shape-only payloads `{d0,d1,...}`: a tensor of that shape filled with 1.

The tensor has the model input's dtype. The reference filled it with bytes
0x01 (2.4e-38 as float32, 16843009 as int32; quirk, not copied). `{}` is a
scalar.
"""
import numpy as np

from loadrun.errors import InputError
from loadrun.onnx.dtypes import numpy_dtype


def parse_dims(name, text):
    t = text.strip()
    if not (t.startswith("{") and t.endswith("}")):
        raise InputError(f"input '{name}': shape '{text}' must be written {{d0,d1,...}}")
    body = t[1:-1].strip()
    if not body:
        return []
    dims = []
    for part in body.split(","):
        p = part.strip()
        if not p.isdigit():
            raise InputError(f"input '{name}': shape '{text}': '{p}' is not a non-negative integer")
        dims.append(int(p))
    return dims


def parse(name, text, dtype):
    return np.ones(parse_dims(name, text), dtype=numpy_dtype(dtype))
