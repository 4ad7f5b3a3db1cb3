"""Error kinds, shared by the C++ core and the Python layer.

ModelError: the model is wrong or unreadable. InputError: the caller's data
is wrong. UnsupportedError: valid, but not something loadrun can do.
InternalError: a bug in loadrun. ResourceError: the machine lacks what the
request needs (memory); it is also a MemoryError. All derive from
LoadrunError; the CLI turns them into one line on stderr and a non-zero exit
code.
"""
from loadrun._core import (  # noqa: F401
    InputError,
    InternalError,
    LoadrunError,
    ModelError,
    UnsupportedError,
)


class ResourceError(LoadrunError, MemoryError):
    """Not enough memory (or another resource) for what was asked."""


def physical_memory():
    """Bytes of RAM on this machine (None when unknown)."""
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_allocation(nbytes, what):
    """ResourceError when `what` needs more bytes than the machine has."""
    ram = physical_memory()
    if ram is not None and nbytes > ram:
        raise ResourceError(f"{what} needs {nbytes} bytes, more than this machine's memory ({ram} bytes)")


def allocate(make, nbytes, what):
    """make() (a NumPy allocation of about `nbytes`), checked first against the
    machine's memory; an allocation failure is a ResourceError."""
    check_allocation(nbytes, what)
    try:
        return make()
    except MemoryError:
        raise ResourceError(f"{what}: out of memory ({nbytes} bytes)") from None
    except ValueError as e:
        if "too big" in str(e):  # NumPy: more bytes than an address space holds
            raise ResourceError(f"{what}: {nbytes} bytes is too large to allocate") from None
        raise
