"""Shape-only payloads `{d0,d1,...}`: a tensor of that shape filled with 1.

The tensor has the model input's dtype. The reference filled it with bytes
0x01 (2.4e-38 as float32, 16843009 as int32; quirk, not copied). `{}` is a
scalar.

check_shape() compares a shape with the model's input (rank, fixed dims)
before anything of that shape is allocated.
"""
import math

import numpy as np

from loadrun.errors import InputError, allocate
from loadrun.onnx.dtypes import numpy_dtype

MAX_DIM_DIGITS = 19  # int64
MAX_RANK = 64  # NumPy's


def shape_text(dims):
    return "{" + ",".join(str(d) for d in dims) + "}"


def check_shape(name, dims, spec):
    """InputError when `dims` cannot be the shape of the model's input `spec`
    (wrong rank, or a fixed dim differs), worded as the core words it. Unknown
    ranks and dims accept anything."""
    if spec is None or getattr(spec, "kind", "tensor") != "tensor" or not getattr(spec, "rank_known", True):
        return
    model = [int(d) for d in spec.shape]
    if not model and not hasattr(spec, "rank_known"):
        return  # a TensorInfo of () may be a rank not known yet
    if len(dims) != len(model):
        raise InputError(f"input '{name}': model expects {len(model)} dims {shape_text(model)}, got {len(dims)} "
                         f"dims {shape_text(dims)}")
    for d, (given, want) in enumerate(zip(dims, model)):
        if want >= 0 and given != want:
            raise InputError(f"input '{name}': dim {d} must be {want}, got {given} (model shape "
                             f"{shape_text(model)}, given {shape_text(dims)})")


def filled(name, dims, dtype, value):
    """np.full(dims, value, dtype), checked against the machine's memory first."""
    dt = np.dtype(dtype)
    nbytes = math.prod(dims) * dt.itemsize
    make = (lambda: np.zeros(dims, dtype=dt)) if value == 0 else (lambda: np.full(dims, value, dtype=dt))
    return allocate(make, nbytes,
                    f"input '{name}' of shape {shape_text(dims)} ({dt.name})")


def shape_hint(spec):
    """`--input 'x:{1,3,H,W}'`: the flag for giving `spec`'s shape, quoted so
    that a shell does not expand the braces."""
    names = getattr(spec, "dim_names", None) or [""] * len(spec.shape)
    dims = [str(d) if d >= 0 else (n if n and n != "?" else "?") for d, n in zip(spec.shape, names)]
    return f"--input '{spec.name}:{{{','.join(dims)}}}'"


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
        if not (p.isascii() and p.isdigit()):
            raise InputError(f"input '{name}': shape '{text}': '{p}' is not a non-negative integer")
        if len(p.lstrip("0")) > MAX_DIM_DIGITS or int(p) >= 2**63:
            raise InputError(f"input '{name}': shape dim {p[:20]}{'...' if len(p) > 20 else ''} is too large")
        dims.append(int(p))
    if len(dims) > MAX_RANK:
        raise InputError(f"input '{name}': shape of {len(dims)} dims, more than {MAX_RANK}")
    return dims


def parse(name, text, dtype, spec=None):
    dims = parse_dims(name, text)
    check_shape(name, dims, spec)
    return filled(name, dims, numpy_dtype(dtype), 1)
