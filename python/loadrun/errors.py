"""Error kinds, shared by the C++ core and the Python layer.

ModelError: the model is wrong or unreadable. InputError: the caller's data
is wrong. UnsupportedError: valid, but not something loadrun can do.
InternalError: a bug in loadrun. All derive from LoadrunError; the CLI turns
them into one line on stderr and a non-zero exit code.
"""
from loadrun._core import (  # noqa: F401
    InputError,
    InternalError,
    LoadrunError,
    ModelError,
    UnsupportedError,
)
