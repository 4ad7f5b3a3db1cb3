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


def isa_level():
    """The ISA level the kernels run at: "portable", "avx2", "avx512", "neon" or
    "neon_dotprod" (detected once; the environment variable LOADRUN_ISA may
    force a lower one, or the test level "avx512_emu", see isa_levels()). Raises UnsupportedError when LOADRUN_ISA names a level
    this CPU cannot run."""
    from loadrun import _core

    return _core.isa_level()


def isa_levels():
    """Every ISA level this CPU and build can run, lowest first.

    "avx512_emu" is a TEST level, listed wherever AVX2 runs but never detected
    (isa_level() is never it unless LOADRUN_ISA forces it): the AVX-512
    kernels run over an AVX2 emulation of their 16-lane vectors, so tests
    that rerun at every listed level check the AVX-512 code on AVX2 machines.
    Its speed means nothing."""
    from loadrun import _core

    return list(_core.isa_levels())


def supported_ops():
    """[(domain, op_type, [algorithm names])] from the core registry."""
    from loadrun import _core

    return [tuple(x) for x in _core.list_ops()]
