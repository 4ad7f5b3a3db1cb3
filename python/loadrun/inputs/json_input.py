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

from loadrun.errors import InputError

TYPES = {"float32": np.float32, "float": np.float32, "int32": np.int32, "int": np.int32,
         "int8": np.int8, "uint8": np.uint8, "int64": np.int64}


def _flat(obj, out):
    if isinstance(obj, list):
        for x in obj:
            _flat(x, out)
    else:
        out.append(obj)


def _entry(path, key, entry):
    where = f"{path}: input '{key}'"
    if not isinstance(entry, dict):
        raise InputError(f"{where}: expected an object with shape, type and raw")
    unknown = set(entry) - {"shape", "type", "raw"}
    if unknown:
        raise InputError(f"{where}: unknown field(s) {', '.join(sorted(unknown))} (expected shape, type, raw)")
    tname = entry.get("type", "float32")
    if tname not in TYPES:
        raise InputError(f"{where}: type '{tname}' is not one of {', '.join(TYPES)}")
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
        try:
            shape = list(np.array(raw, dtype=np.float64).shape)
        except ValueError:
            raise InputError(f"{where}: raw has rows of different lengths; give a shape") from None
    count = math.prod(shape)
    if count != len(values):
        raise InputError(f"{where}: shape {json.dumps(shape)} holds {count} values, raw has {len(values)}")
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        for v in values:
            if isinstance(v, float) and not (math.isfinite(v) and v == int(v)):
                raise InputError(f"{where}: value {v} is not an integer ({tname})")
            if not info.min <= int(v) <= info.max:
                raise InputError(f"{where}: value {v} is out of range for {tname}")
        values = [int(v) for v in values]
    return np.array(values, dtype=dtype).reshape(shape)


def load(path):
    """{name: array} from a .json input file."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except FileNotFoundError:
        raise InputError(f"input file not found: {path}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text file") from None
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: bad JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    if not isinstance(obj, dict) or not obj:
        raise InputError(f"{path}: expected an object {{\"<input name>\": {{\"shape\": [...], "
                         "\"type\": ..., \"raw\": [...]}, ...}")
    return {key: _entry(path, key, entry) for key, entry in obj.items()}
