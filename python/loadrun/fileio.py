"""Reading user-named files with bounded memory.

Only regular files are read (after following links): /dev/zero, a FIFO or a
terminal would be read until memory runs out, or block forever. The file is
opened without blocking, checked with fstat, and read up to what its size
says and the caller's limit allows (the format's own bound: a .npy's data
size follows from its header, a model's from protobuf's 2 GiB limit).
"""
import contextlib
import errno
import os
import stat


def _kind(mode):
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


@contextlib.contextmanager
def open_regular(path, error, where, limit=None, missing=None):
    """Yields (binary file object, size) for a regular file.

    error: the exception type to raise; where: the message prefix; limit: the
    largest size accepted, in bytes; missing: the message when the file does
    not exist (default "file not found: PATH").
    """
    path = os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error(missing or f"{where}file not found: {path}") from None
    except OSError as e:
        if e.errno == errno.EISDIR:
            raise error(f"{where}{path} is a directory, not a file") from None
        raise error(f"{where}cannot read {path}: {e.strerror or e}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{where}{path} is {_kind(st.st_mode)}, not a regular file")
        if limit is not None and st.st_size > limit:
            raise error(f"{where}{path} is {st.st_size} bytes, more than the {limit} bytes this format allows")
        os.set_blocking(fd, True)
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with f:
        yield f, st.st_size


def read_regular(path, error, where, limit=None, missing=None):
    """The bytes of a regular file (see open_regular)."""
    with open_regular(path, error, where, limit, missing) as (f, size):
        try:
            return f.read(size)
        except OSError as e:
            raise error(f"{where}cannot read {path}: {e.strerror or e}") from None


def read_exactly(f, n, error, what):
    """n bytes from f; `error` when the file ends first."""
    data = f.read(n)
    if len(data) < n:
        raise error(f"{what}: truncated: {n} bytes needed, {len(data)} found")
    return data
