"""`.npy` payloads (no pickles). Any real or integer dtype and memory order
NumPy reads is accepted; the array is converted to the model input's dtype
later, if that loses nothing. Complex and object arrays are refused.

The file is read in two steps, so that memory follows from what it holds:
the header (at most MAX_HEADER bytes, as NumPy's own limit) gives dtype and
shape, which are checked against the model's input and against the file's
size before the data is read.
"""
import math
import struct
import warnings

import tokenize

import numpy as np
from numpy.lib import format as npformat

from loadrun.errors import InputError, allocate
from loadrun.fileio import open_regular, read_exactly
from loadrun.inputs.shape import check_shape, shape_text

MAX_HEADER = 10000  # NumPy's default max_header_size


def _header(f, where):
    """(shape, fortran_order, dtype) of an open .npy file; InputError when invalid."""
    head = f.read(8)
    if len(head) < 8 or head[:6] != npformat.MAGIC_PREFIX:
        raise InputError(f"{where} is not a valid .npy file (no .npy magic)")
    version = (head[6], head[7])
    if version not in ((1, 0), (2, 0), (3, 0)):
        raise InputError(f"{where} is not a valid .npy file (format version {version[0]}.{version[1]})")
    size_fmt = "<H" if version == (1, 0) else "<I"
    raw = f.read(struct.calcsize(size_fmt))
    if len(raw) < struct.calcsize(size_fmt):
        raise InputError(f"{where} is not a valid .npy file (truncated header)")
    hlen = struct.unpack(size_fmt, raw)[0]
    if hlen > MAX_HEADER:
        raise InputError(f"{where} is not a valid .npy file (header of {hlen} bytes, more than {MAX_HEADER})")
    f.seek(0)
    npformat.read_magic(f)
    try:
        with warnings.catch_warnings():  # NumPy's note on Python 2 headers is not ours to print
            warnings.simplefilter("ignore")
            if version == (1, 0):
                return npformat.read_array_header_1_0(f, max_header_size=MAX_HEADER)
            return npformat.read_array_header_2_0(f, max_header_size=MAX_HEADER)
    except (ValueError, EOFError, SyntaxError, TypeError, UnicodeDecodeError, RecursionError,
            MemoryError, tokenize.TokenError) as e:
        msg = " ".join(str(e).split()) if str(e) else type(e).__name__
        raise InputError(f"{where} is not a valid .npy file ({msg})") from None


def load(name, path, spec=None):
    where = f"input '{name}': {path}"
    with open_regular(path, InputError, f"input '{name}': ") as (f, size):
        if size >= 4 and f.read(4) == b"PK\x03\x04":
            raise InputError(f"{where} is an .npz archive, not a single .npy array")
        f.seek(0)
        shape, fortran, dtype = _header(f, where)
        if dtype.hasobject:
            raise InputError(f"{where} is not a valid .npy file (it holds Python objects; pickles are not read)")
        if dtype.kind == "c":
            raise InputError(f"{where}: complex arrays ({dtype}) are not supported; give the real part")
        if dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
            raise InputError(f"{where}: dtype {dtype} is not supported (give numbers or booleans)")
        shape = tuple(int(d) for d in shape)
        check_shape(name, list(shape), spec)
        nbytes = math.prod(shape) * dtype.itemsize
        left = size - f.tell()
        if nbytes > left:
            raise InputError(f"{where} is truncated: shape {shape_text(shape)} of {dtype} needs {nbytes} data "
                             f"bytes, the file holds {left}")
        data = allocate(lambda: read_exactly(f, nbytes, InputError, where), nbytes, f"input '{name}'")
    arr = np.frombuffer(data, dtype=dtype, count=math.prod(shape))
    arr = arr.reshape(shape[::-1]).transpose() if fortran else arr.reshape(shape)
    return np.array(arr, dtype=dtype.newbyteorder("=") if dtype.byteorder not in "=|" else dtype, order="C")
