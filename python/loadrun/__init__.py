"""loadrun: load a neural network (ONNX) and run it, from Python or the
`load_and_run` command line. The core is C++ (loadrun._core)."""
from loadrun.errors import (  # noqa: F401
    InputError,
    InternalError,
    LoadrunError,
    ModelError,
    UnsupportedError,
)
from loadrun.network import Network, TensorInfo, Timings, load  # noqa: F401

__version__ = "0.1.0"


def isa_level():
    """The ISA level the kernels run at: "portable", "avx2", "avx512", "neon" or
    "neon_dotprod" (detected once; the environment variable LOADRUN_ISA may
    force a lower one). Raises UnsupportedError when LOADRUN_ISA names a level
    this CPU cannot run."""
    from loadrun import _core

    return _core.isa_level()


def isa_levels():
    """Every ISA level this CPU and build can run, lowest first."""
    from loadrun import _core

    return list(_core.isa_levels())


def supported_ops():
    """[(domain, op_type, [algorithm names])] from the core registry."""
    from loadrun import _core

    return [tuple(x) for x in _core.list_ops()]
