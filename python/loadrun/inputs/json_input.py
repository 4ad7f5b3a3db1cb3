"""`.json` payloads: several inputs in one file.

    {"data": {"shape": [1, 3], "type": "float32", "raw": [1, 2, 3]}, ...}

Names come from the keys (a name before the path in --input is ignored).
"type" is float32/float, int32/int, int8, uint8 or int64 (default float32);
"raw" is a flat or nested list holding prod(shape) numbers; "shape" defaults
to the nesting of "raw". Integer types take integer values in range only:
1.5 for an int32 input is refused, not rounded.
"""
import json
import math

import numpy as np

from loadrun.errors import InputError, allocate
from loadrun.fileio import read_regular

MAX_FILE = 1 << 30  # bytes of JSON read at most

TYPES = {"float32": np.float32, "float": np.float32, "int32": np.int32, "int": np.int32,
         "int8": np.int8, "uint8": np.uint8, "int64": np.int64}


def _flat(obj, out):
    """The leaves of nested lists, without recursion (nesting is the file's to choose)."""
    stack = [iter([obj])]
    while stack:
        for x in stack[-1]:
            if isinstance(x, list):
                stack.append(iter(x))
                break
            out.append(x)
        else:
            stack.pop()


def _entry(path, key, entry):
    where = f"{path}: input '{key}'"
    if not isinstance(entry, dict):
        raise InputError(f"{where}: expected an object with shape, type and raw")
    unknown = set(entry) - {"shape", "type", "raw"}
    if unknown:
        raise InputError(f"{where}: unknown field(s) {', '.join(sorted(unknown))} (expected shape, type, raw)")
    tname = entry.get("type", "float32")
    if not isinstance(tname, str) or tname not in TYPES:
        raise InputError(f"{where}: type {str(tname)[:40]!r} is not one of {', '.join(TYPES)}")
    dtype = np.dtype(TYPES[tname])
    if "raw" not in entry:
        raise InputError(f"{where}: no 'raw' values")
    raw = entry["raw"]
    values = []
    _flat(raw, values)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InputError(f"{where}: raw holds {json.dumps(v)}, not a number")
    if "shape" in entry:
        shape = entry["shape"]
        if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                                  for d in shape):
            raise InputError(f"{where}: shape must be a list of non-negative integers, got {json.dumps(shape)}")
    else:
        shape = _nesting(raw, where)
    if len(shape) > 64:
        raise InputError(f"{where}: shape of {len(shape)} dims, more than 64")
    count = math.prod(shape)
    if count != len(values):
        raise InputError(f"{where}: shape {json.dumps(shape)} holds {count} values, raw has {len(values)}")
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        for v in values:
            if isinstance(v, float) and not (math.isfinite(v) and v == int(v)):
                raise InputError(f"{where}: value {v} is not an integer ({tname})")
            if not info.min <= int(v) <= info.max:
                raise InputError(f"{where}: value {_short(v)} is out of range for {tname}")
        values = [int(v) for v in values]
    else:
        fmax = float(np.finfo(dtype).max)
        for v in values:  # finite but past the dtype's range (1e300 for a float32); Infinity is kept
            if (isinstance(v, int) or math.isfinite(v)) and abs(v) > fmax:
                raise InputError(f"{where}: value {_short(v)} is out of range for {tname}")
    return allocate(lambda: np.array(values, dtype=dtype).reshape(shape), count * dtype.itemsize, where)


def _short(v):
    """A number for a message: huge integers by their magnitude."""
    if isinstance(v, int) and v.bit_length() > 200:
        return f"{'-' if v < 0 else ''}~2**{abs(v).bit_length() - 1}"
    return str(v)


def _float(text):
    v = float(text)
    if math.isinf(v):
        raise ValueError(f"number {text[:30]}{'...' if len(text) > 30 else ''} is out of range")
    return v


def _nesting(raw, where):
    """The shape of nested lists of equal lengths (no recursion)."""
    shape, level = [], [raw]
    while all(isinstance(x, list) for x in level):
        lengths = {len(x) for x in level}
        if len(lengths) != 1:
            raise InputError(f"{where}: raw has rows of different lengths; give a shape")
        shape.append(lengths.pop())
        level = [y for x in level for y in x]
        if not level:
            break
    else:
        if any(isinstance(x, list) for x in level):
            raise InputError(f"{where}: raw has rows of different lengths; give a shape")
    return shape


def load(path):
    """{name: array} from a .json input file."""
    data = read_regular(path, InputError, "", MAX_FILE, missing=f"input file not found: {path}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text file") from None
    try:
        obj = json.loads(text, parse_float=_float)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: bad JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise InputError(f"{path}: bad JSON: nested too deeply") from None
    except ValueError as e:  # an integer of more digits than Python converts
        raise InputError(f"{path}: bad JSON: {' '.join(str(e).split())}") from None
    if not isinstance(obj, dict) or not obj:
        raise InputError(f"{path}: expected an object {{\"<input name>\": {{\"shape\": [...], "
                         "\"type\": ..., \"raw\": [...]}, ...}")
    return {key: _entry(path, key, entry) for key, entry in obj.items()}
