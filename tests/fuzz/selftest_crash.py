"""Not a target: a case that crashes its worker, to test the harness."""
import ctypes


def run_case(rng, workdir):
    ctypes.string_at(0)  # SIGSEGV
