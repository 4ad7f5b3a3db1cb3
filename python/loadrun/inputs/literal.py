"""Inline literal payloads: `[1,2,3]`, `[[1,2],[3,4]]`, `[1,2],[3,4]`, `1,2,3`.

The text is read as a JSON list after wrapping it in one pair of brackets; a
payload that is one bracketed list is not wrapped again, so the shape is the
bracket nesting as written (`[2,3,4]` -> {3}, `[[1,2],[3,4]]` -> {2,2},
`[1,2],[3,4]` -> {2,2}, `1,2,3` -> {3}); the reference added a leading 1
(quirk, not copied). Dtype: float32 if any value is written as a float
(`.`, exponent, NaN/Infinity; float64 when a value is past float32's range),
else int32 (int64 when a value does not fit
int32). Values are converted to the model input's dtype later, if lossless.
"""
import json
import math

import numpy as np

from loadrun.errors import InputError

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def _numbers(obj, out):
    """The leaves of nested lists, without recursion."""
    stack = [iter([obj])]
    while stack:
        for x in stack[-1]:
            if isinstance(x, list):
                stack.append(iter(x))
                break
            out.append(x)
        else:
            stack.pop()


def _float(text):
    v = float(text)
    if math.isinf(v):
        raise ValueError(f"number {text[:30]}{'...' if len(text) > 30 else ''} is out of range")
    return v


def _clip(text, n=60):
    return text if len(text) <= n else text[:n] + "..."


def parse(name, text):
    try:
        obj = json.loads("[" + text + "]", parse_float=_float)
    except json.JSONDecodeError as e:
        raise InputError(f"input '{name}': '{_clip(text)}' is not a list of numbers ({e.msg} at column "
                         f"{e.colno - 1}), nor a {{shape}} or a .json/.npy/.ppm/.pgm file") from None
    except RecursionError:
        raise InputError(f"input '{name}': literal '{_clip(text)}' is nested too deeply") from None
    except ValueError as e:  # an integer of more digits than Python converts; 1e400
        raise InputError(f"input '{name}': bad literal '{_clip(text)}': {' '.join(str(e).split())}") from None
    if len(obj) == 1 and isinstance(obj[0], list):
        obj = obj[0]
    values = []
    _numbers(obj, values)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InputError(f"input '{name}': literal '{_clip(text)}' holds {json.dumps(v)}, not a number")
    is_float = any(isinstance(v, float) for v in values)
    if is_float:
        # float64 when a value is past float32's range (1e300 would become inf); Infinity stays
        fmax = float(np.finfo(np.float32).max)
        wide = any((isinstance(v, int) or math.isfinite(v)) and abs(v) > fmax for v in values)
        dtype = np.float64 if wide else np.float32
    elif all(INT32_MIN <= v <= INT32_MAX for v in values):
        dtype = np.int32
    else:
        dtype = np.int64
    try:
        arr = np.array(obj, dtype=dtype)
    except RecursionError:
        raise InputError(f"input '{name}': literal '{_clip(text)}' is nested too deeply") from None
    except (ValueError, OverflowError) as e:
        if "inhomogeneous" in str(e) or "sequence" in str(e):
            raise InputError(f"input '{name}': literal '{_clip(text)}' has rows of different lengths") from None
        raise InputError(f"input '{name}': bad literal '{_clip(text)}': {e}") from None
    return arr
