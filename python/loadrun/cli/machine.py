"""A description of this machine for the --json report."""
import os
import platform
import sys

ISA_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "asimd", "asimddp", "neon")


def _cpuinfo():
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return None, set()
    model, flags = None, set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if model is None and key in ("model name", "hardware", "cpu model"):
            model = value.strip()
        elif not flags and key in ("flags", "features"):
            flags = set(value.split())
    return model, flags


def describe():
    import numpy
    import loadrun

    model, flags = _cpuinfo()
    return {
        "cpu": model or platform.processor() or platform.machine(),
        "arch": platform.machine(),
        "isa": [f for f in ISA_FLAGS if f in flags],
        "isa_level": loadrun.isa_level(),
        "logical_cores": os.cpu_count(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "loadrun": loadrun.__version__,
    }
