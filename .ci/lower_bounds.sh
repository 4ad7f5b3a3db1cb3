#!/usr/bin/env bash
# CI step: the test suite with the OLDEST versions pyproject.toml allows
# (.ci/lower-bounds.txt pins them), in a fresh virtual environment, so that a
# bound that is too low shows here instead of on a user's machine.
#
# What it reuses: `pip install .` builds in scikit-build's persistent build
# dir (build/{wheel_tag}, the one .ci/run's install filled), through ccache
# when ccache is on PATH, so the core is not compiled again from nothing.
#
# What it runs: every test file that calls into a lower-bounded dependency
# in a way the others do not, i.e. all of tests/ but four groups whose
# dependency calls are the same as those of the files that stay, and which
# .ci/run (newest versions) and the sanitizer steps already run:
#   test_cpp_core.py    builds the core again (Debug, no ccache) and runs its
#                       CTest programs: cmake, ninja and the compiler only,
#                       the newest versions in both environments (the costly
#                       "rebuild of the core" of this step before).
#   test_fuzz.py        random bytes into the core's parsers for a fixed time
#                       (120 s under CI); onnx/numpy only build the seeds. The
#                       ASan step fuzzes again.
#   test_kernels_*.py   fast kernels against NAIVE at every ISA level (a child
#                       pytest per level); the models are the one-node onnx
#                       helpers and NumPy references the op tests use. The
#                       ASan step runs them again.
#   test_threads_*.py   the same ops and models split over threads.
# What stays exercises each bound: numpy 2.0 (dtype promotion: every op test,
# test_onnx_conformance's float8 data), onnx 1.23 (the importer on opset 24/25
# models, onnx.reference in test_ops_index/quant/rest, the conformance case
# set and its expected-failure list), onnxruntime 1.32 (the reference of every
# test_ops_*, test_zoo, test_real_models, DeformConv/RotaryEmbedding/
# TreeEnsemble-5), ml_dtypes 0.5.4 (float8, int4/int2, float4, bfloat16 in
# test_ops_quant, test_ops_rest, the conformance run) and pytest 8.0 (every
# fixture and parametrisation style of the suite, conftest's hooks).
# LOADRUN_CI_LOW_ALL=1 runs the whole suite instead.
# Measured 2026-12-03 on the 2 shared cores at load 7-8: this selection
# (4334 tests) ran in 385 s at the lower bounds; the whole step took 754 s
# before, with the suite in full and the install building the core.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${LOADRUN_CI_LOW_VENV:-.venv-ci-low}"
rm -rf "$VENV"
python3 -m venv "$VENV"
# shellcheck disable=SC1091
. "$VENV/bin/activate"
python -m pip install --upgrade pip >/dev/null
start=$(date +%s)
pip install -r .ci/lower-bounds.txt
ccache_args=()
if command -v ccache >/dev/null; then
  ccache_args=(--config-settings=cmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
t0=$(date +%s)
pip install --no-deps "${ccache_args[@]}" .
echo "== lower bounds: install took $(( $(date +%s) - t0 ))s"
pip check
echo "== lower bounds: $(pip list 2>/dev/null | grep -E '^(numpy|onnx|onnxruntime|ml_dtypes|pytest) ' | tr -s ' ' | paste -sd, -)"
skip=()
if [ "${LOADRUN_CI_LOW_ALL:-0}" = 0 ]; then
  for f in tests/test_cpp_core.py tests/test_fuzz.py tests/test_kernels_*.py tests/test_threads_*.py; do
    skip+=(--ignore="$f")
  done
fi
python -m pytest -q -rs "${skip[@]}" tests
echo "== lower bounds finished in $(( $(date +%s) - start ))s"
