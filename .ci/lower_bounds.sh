#!/usr/bin/env bash
# CI step: the whole test suite with the OLDEST versions pyproject.toml allows
# (.ci/lower-bounds.txt pins them), in a fresh virtual environment, so that a
# bound that is too low shows here instead of on a user's machine. Reuses the
# core that `pip install .` built (scikit-build's build dir) when it is there.
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
pip install --no-deps .
pip check
echo "== lower bounds: $(pip list 2>/dev/null | grep -E '^(numpy|onnx|onnxruntime|ml_dtypes|pytest) ' | tr -s ' ' | paste -sd, -)"
python -m pytest -q -rs tests
echo "== lower bounds finished in $(( $(date +%s) - start ))s"
