"""Every kernel test at every ISA level the machine supports.

A kernel test file runs in-process at the level in use (detected, or forced by
LOADRUN_ISA), then `test_other_isa_levels` reruns the whole file in a child
pytest with LOADRUN_ISA set to each other level this CPU supports
(loadrun.isa_levels(): portable, avx2, avx512, neon, neon_dotprod). The
level is fixed for the life of a process (kernel tables and packed weights
belong to one level), so a child process is the only honest way to switch.
Each test compares a fast algorithm against NAIVE, so every level is checked
against the same reference.

Use in a test file:
    from isa_levels import other_isa_levels_test
    test_other_isa_levels = other_isa_levels_test(__file__)
"""
import os
import subprocess
import sys

import pytest

import loadrun

CHILD_ENV = "LOADRUN_TEST_ISA_CHILD"


def other_levels():
    if os.environ.get(CHILD_ENV):
        return []
    return [lv for lv in loadrun.isa_levels() if lv != loadrun.isa_level()]


def run_file_at_level(path, level, extra_args=(), timeout=900):
    """Runs the test file `path` in a child pytest at `level`; returns its output."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(path)))
    env = dict(os.environ, LOADRUN_ISA=level)
    env[CHILD_ENV] = "1"
    # The same loadrun as this process (a dev tree or an installed package).
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(loadrun.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([pkg_parent] + [p for p in [env.get("PYTHONPATH")] if p])
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", os.path.abspath(path),
           *extra_args]
    out = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    text = out.stdout + out.stderr
    assert out.returncode == 0, f"LOADRUN_ISA={level}: {os.path.basename(path)} failed\n{text[-6000:]}"
    return text


def other_isa_levels_test(path, extra_args=()):
    """A test that reruns the file `path` at each other supported level."""

    @pytest.mark.parametrize("level", other_levels() or [pytest.param(None, marks=pytest.mark.skip(
        reason="no other ISA level on this CPU (or already a child run)"))])
    def test_other_isa_levels(level):
        text = run_file_at_level(path, level, extra_args)
        assert " passed" in text, text[-2000:]

    return test_other_isa_levels
