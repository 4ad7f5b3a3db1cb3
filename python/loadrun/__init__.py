"""loadrun: load a neural network (ONNX) and run it, from Python or the
`load_and_run` command line. The core is C++ (loadrun._core)."""
from loadrun.errors import (  # noqa: F401
    InputError,
    InternalError,
    LoadrunError,
    ModelError,
    ResourceError,
    UnsupportedError,
)
from loadrun.network import Network, TensorInfo, Timings, load  # noqa: F401

__version__ = "0.1.0"


def supported_ops():
    """[(domain, op_type, [algorithm names])] from the core registry."""
    from loadrun import _core

    return [tuple(x) for x in _core.list_ops()]
