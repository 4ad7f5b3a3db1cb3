"""Binary PGM (P5) and PPM (P6) images -> uint8 tensors {1, H, W, C}.

The header is: magic, width, height, maxval, separated by whitespace, with
`#` comments to the end of a line anywhere before maxval; exactly one
whitespace byte follows maxval, then H*W*C pixel bytes (C = 1 for P5, 3 for
P6). The reference did not consume the maxval line, so "255\\n" became pixel
bytes (quirk, not copied). Only maxval <= 255 (one byte per sample).
"""
import numpy as np

from loadrun.errors import InputError
from loadrun.fileio import open_regular, read_exactly
from loadrun.inputs.shape import check_shape

WHITESPACE = b" \t\r\n\v\f"
MAX_HEADER = 1 << 16  # bytes of header (comments included) read before the pixels
MAX_FIELD_DIGITS = 9  # width, height, maxval: below 10**9


def parse_header(data, where="image"):
    """(width, height, maxval, channels, offset of the pixels) from the start of a file."""
    if data[:2] not in (b"P5", b"P6"):
        raise InputError(f"{where}: not a binary PGM/PPM file (expected magic P5 or P6, found {data[:2]!r})")
    channels = 1 if data[:2] == b"P5" else 3
    pos, fields = 2, []
    names = ("width", "height", "maxval")
    while len(fields) < 3:
        if pos >= len(data):
            raise InputError(f"{where}: header ends before the {names[len(fields)]}")
        c = data[pos:pos + 1]
        if c in WHITESPACE and c:
            pos += 1
            continue
        if c == b"#":
            end = data.find(b"\n", pos)
            pos = len(data) if end < 0 else end + 1
            continue
        if pos == 2:
            raise InputError(f"{where}: no whitespace after the magic number")
        start = pos
        while pos < len(data) and data[pos:pos + 1].isdigit():
            pos += 1
        if pos == start:
            raise InputError(f"{where}: bad header: expected the {names[len(fields)]}, found {data[start:start + 8]!r}")
        if pos >= len(data):
            if len(fields) < 2:
                raise InputError(f"{where}: header ends before the {names[len(fields) + 1]}")
            raise InputError(f"{where}: header ends right after the maxval: no pixel data")
        if pos - start > MAX_FIELD_DIGITS:
            raise InputError(f"{where}: bad header: {names[len(fields)]} of {pos - start} digits is too large")
        if data[pos:pos + 1] not in WHITESPACE:
            after = data[pos:pos + 1]
            if len(fields) < 2 and after == b"#":
                pass  # a comment may follow width or height directly
            else:
                raise InputError(f"{where}: bad header: {names[len(fields)]} "
                                 f"'{data[start:pos].decode()}' is not followed by whitespace")
        fields.append(int(data[start:pos]))
    width, height, maxval = fields
    pos += 1  # the single whitespace byte after maxval
    if width <= 0 or height <= 0:
        raise InputError(f"{where}: bad size {width}x{height}")
    if not 0 < maxval <= 255:
        raise InputError(f"{where}: maxval {maxval} is not supported (only 1..255, one byte per sample)")
    return width, height, maxval, channels, pos


def decode(data, where="image"):
    width, height, _maxval, channels, pos = parse_header(data, where)
    need = width * height * channels
    pixels = data[pos:pos + need]
    if len(pixels) < need:
        raise InputError(f"{where}: truncated: {width}x{height}x{channels} needs {need} pixel bytes, "
                         f"found {len(pixels)}")
    return np.frombuffer(pixels, dtype=np.uint8).reshape(1, height, width, channels).copy()


def load(name, path, spec=None):
    """The image in `path`; its size is checked against the model's input
    `spec` and against the file before the pixels are read."""
    where = f"input '{name}': {path}"
    with open_regular(path, InputError, f"input '{name}': ") as (f, size):
        head = f.read(min(size, MAX_HEADER))
        try:
            width, height, _maxval, channels, pos = parse_header(head, where)
        except InputError:
            if len(head) == MAX_HEADER:
                raise InputError(f"{where}: no complete header in the first {MAX_HEADER} bytes") from None
            raise
        check_shape(name, [1, height, width, channels], spec)
        need = width * height * channels
        if need > size - pos:
            raise InputError(f"{where}: truncated: {width}x{height}x{channels} needs {need} pixel bytes, "
                             f"found {size - pos}")
        f.seek(pos)
        pixels = read_exactly(f, need, InputError, where)
    return np.frombuffer(pixels, dtype=np.uint8).reshape(1, height, width, channels).copy()
