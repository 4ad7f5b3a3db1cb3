"""The core builds as a plain CMake library without Python, and its CTest
suite (tests/cpp) passes."""
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_core_builds_without_python_and_ctest_passes(tmp_path):
    cmake = shutil.which("cmake")
    if cmake is None:
        pytest.fail("cmake is not on PATH (install the test extras: pip install '.[test]')")
    build = tmp_path / "build"
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    cfg = subprocess.run([cmake, "-S", ROOT, "-B", str(build), *gen, "-DLOADRUN_TESTS=ON",
                          "-DLOADRUN_PYTHON=OFF", "-DCMAKE_BUILD_TYPE=Debug"],
                         capture_output=True, text=True)
    assert cfg.returncode == 0, cfg.stdout + cfg.stderr
    jobs = str(os.cpu_count() or 2)
    b = subprocess.run([cmake, "--build", str(build), "-j", jobs], capture_output=True, text=True)
    assert b.returncode == 0, b.stdout[-4000:] + b.stderr[-4000:]
    assert not (build / "_core.so").exists()
    t = subprocess.run(["ctest", "--output-on-failure"], cwd=build, capture_output=True, text=True)
    assert t.returncode == 0, t.stdout + t.stderr
    assert "100% tests passed" in t.stdout
