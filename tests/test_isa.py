"""The ISA dispatch (csrc/kernels/isa.h, kernel_table.h): the level detected
from the CPU, LOADRUN_ISA forcing a level (an unknown or unsupported one is a
clear error), the level in the fast-run category and in the CLI's --version,
--verbose and --json, and one fast algorithm per operator whatever the ISA."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from onnx import helper

import loadrun
from onnx_ref import make_model

ALL = ["portable", "avx2", "avx512_emu", "avx512", "neon", "neon_dotprod"]
TEST_LEVELS = {"avx512_emu"}


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip().lower() in ("flags", "features"):
                    return set(value.split())
    except OSError:
        pass
    return set()


def child(code, level, timeout=120):
    """Runs python -c code with LOADRUN_ISA=level (None: unset)."""
    env = dict(os.environ)
    env.pop("LOADRUN_ISA", None)
    if level is not None:
        env["LOADRUN_ISA"] = level
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(loadrun.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([pkg_parent] + [p for p in [env.get("PYTHONPATH")] if p])
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_levels_supported_match_the_cpu():
    levels = loadrun.isa_levels()
    assert levels[0] == "portable" and levels == [lv for lv in ALL if lv in levels]
    assert loadrun.isa_level() in levels
    flags = cpu_flags()
    import platform
    if platform.machine() in ("x86_64", "AMD64"):
        assert ("avx2" in levels) == ({"avx2", "fma", "f16c"} <= flags)
        assert ("avx512_emu" in levels) == ({"avx2", "fma", "f16c"} <= flags)
        assert ("avx512" in levels) == ({"avx2", "fma", "f16c", "avx512f"} <= flags)
        assert not {"neon", "neon_dotprod"} & set(levels)
    if not os.environ.get("LOADRUN_ISA"):
        # The best one by default, never a test level.
        assert loadrun.isa_level() == [lv for lv in levels if lv not in TEST_LEVELS][-1]


@pytest.mark.parametrize("level", ["portable"] + [lv for lv in ALL[1:] if lv in loadrun.isa_levels()])
def test_forced_level(level):
    r = child("import loadrun; print(loadrun.isa_level(), loadrun._core.fastrun_category())", level)
    assert r.returncode == 0, r.stderr
    got, cat = r.stdout.strip().split(" ", 1)
    assert got == level
    assert f";isa={level};fastrun=2" in cat


@pytest.mark.parametrize("level", ["avx3", "AVX2", "sse"] + [lv for lv in ALL if lv not in loadrun.isa_levels()])
def test_unknown_or_unsupported_level_is_a_clear_error(level):
    r = child("import loadrun\ntry:\n    loadrun.isa_level()\nexcept loadrun.UnsupportedError as e:\n"
              "    print('error:', e)\n", level)
    assert r.returncode == 0, r.stderr
    msg = r.stdout.strip()
    assert msg.startswith("error:") and level in msg, msg
    if level in ALL:
        assert "cannot run" in msg and "portable" in msg, msg  # says what is available
    else:
        assert "unknown ISA level" in msg, msg
        assert "portable, avx2, avx512_emu, avx512, neon or neon_dotprod" in msg, msg


def test_cli_bad_level_is_one_line_error(tmp_path):
    model = make_model([helper.make_node("Relu", ["x"], ["y"])], [("x", np.float32, [2, 3])],
                       [("y", np.float32, None)])
    path = tmp_path / "relu.onnx"
    path.write_bytes(model.SerializeToString())
    r = child(f"import sys; from loadrun.cli.main import main; sys.exit(main([{str(path)!r}]))", "avx3")
    assert r.returncode != 0
    assert "Traceback" not in r.stderr, r.stderr
    assert "LOADRUN_ISA=avx3" in r.stderr or "unknown ISA level 'avx3'" in r.stderr, r.stderr


def test_cli_reports_the_level(tmp_path):
    r = child("import sys; from loadrun.cli.main import main; sys.exit(main(['--version']))", "portable")
    assert r.returncode == 0 and r.stdout.strip().endswith("(isa portable)"), r.stdout + r.stderr
    model = make_model([helper.make_node("Relu", ["x"], ["y"])], [("x", np.float32, [2, 3])],
                       [("y", np.float32, None)])
    path = tmp_path / "relu.onnx"
    path.write_bytes(model.SerializeToString())
    out = tmp_path / "r.json"
    r = child("import sys; from loadrun.cli.main import main; "
              f"sys.exit(main([{str(path)!r}, '--iter', '1', '--verbose', '--json', {str(out)!r}]))", "portable")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "kernels: isa portable (this CPU runs: portable" in r.stdout
    assert "ELEMWISE_FAST" in r.stdout  # the Relu step, at the portable level
    assert json.loads(out.read_text())["machine"]["isa_level"] == "portable"


SGEMM_OF_LEVEL = {"avx2": "avx2_fma", "avx512_emu": "avx512f_emu", "avx512": "avx512f"}


@pytest.mark.parametrize("level", [lv for lv in SGEMM_OF_LEVEL if lv in loadrun.isa_levels()])
def test_x86_levels_run_their_sgemm(level):
    """avx512 and avx512_emu fill the SGEMM slot of the table with the AVX-512
    kernels (real / emulated), with 12x32 packed panels; avx2 keeps its own."""
    r = child("from loadrun import _core; print(_core.isa_level(), _core.sgemm_impl_name())", level)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [level, SGEMM_OF_LEVEL[level]]


def test_avx512_emu_is_a_test_level_never_detected():
    if "avx512_emu" not in loadrun.isa_levels():
        pytest.skip("no AVX2 on this CPU")
    r = child("import loadrun; from loadrun.cli.main import version_line; "
              "print(loadrun.isa_level()); print(version_line())", None)
    assert r.returncode == 0, r.stderr
    level, version = r.stdout.strip().splitlines()
    assert level in ("avx2", "avx512") and "emu" not in version, r.stdout
    assert version.endswith(f"(isa {level})")
    # Forced, the CLI names it as what runs.
    r = child("import sys; from loadrun.cli.main import main; sys.exit(main(['--version']))",
              "avx512_emu")
    assert r.returncode == 0 and r.stdout.strip().endswith("(isa avx512_emu)"), r.stdout + r.stderr


def test_one_fast_algorithm_per_operator():
    for domain, op, algos in loadrun.supported_ops():
        assert len(algos) == len(set(algos)), (op, algos)
        for a in algos:
            assert not a.endswith(("_AVX2", "_PORTABLE")), (op, a)
