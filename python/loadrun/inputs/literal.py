"""Inline literal payloads: `[1,2,3]`, `[[1,2],[3,4]]`, `[1,2],[3,4]`, `1,2,3`.

The text is read as a JSON list after wrapping it in one pair of brackets; a
payload that is one bracketed list is not wrapped again, so the shape is the
bracket nesting as written (`[2,3,4]` -> {3}, `[[1,2],[3,4]]` -> {2,2},
`[1,2],[3,4]` -> {2,2}, `1,2,3` -> {3}); the reference added a leading 1
(quirk, not copied). Dtype: float32 if any value is written as a float
(`.`, exponent, NaN/Infinity), else int32 (int64 when a value does not fit
int32). Values are converted to the model input's dtype later, if lossless.
"""
import json

import numpy as np

from loadrun.errors import InputError

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def _numbers(obj, out):
    if isinstance(obj, list):
        for x in obj:
            _numbers(x, out)
    else:
        out.append(obj)


def parse(name, text):
    try:
        obj = json.loads("[" + text + "]")
    except json.JSONDecodeError as e:
        raise InputError(f"input '{name}': '{text}' is not a list of numbers ({e.msg} at column {e.colno - 1}), "
                         "nor a {shape} or a .json/.npy/.ppm/.pgm file") from None
    if len(obj) == 1 and isinstance(obj[0], list):
        obj = obj[0]
    values = []
    _numbers(obj, values)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InputError(f"input '{name}': literal '{text}' holds {json.dumps(v)}, not a number")
    is_float = any(isinstance(v, float) for v in values)
    if is_float:
        dtype = np.float32
    elif all(INT32_MIN <= v <= INT32_MAX for v in values):
        dtype = np.int32
    else:
        dtype = np.int64
    try:
        arr = np.array(obj, dtype=dtype)
    except (ValueError, OverflowError) as e:
        if "inhomogeneous" in str(e) or "sequence" in str(e):
            raise InputError(f"input '{name}': literal '{text}' has rows of different lengths") from None
        raise InputError(f"input '{name}': bad literal '{text}': {e}") from None
    return arr
