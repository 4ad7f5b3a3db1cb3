#!/usr/bin/env bash
# CI step (called by .ci/run; runs alone too): the aarch64 cross build of the
# core (plain CMake library, no Python) with Debian's g++-aarch64-linux-gnu,
# and its whole CTest suite (tests/cpp/*.cpp and lr_run_smoke) run under
# qemu-aarch64 through the toolchain file's CMAKE_CROSSCOMPILING_EMULATOR.
# Installs what it lacks with apt (CI runs as root on Debian), compiles with
# ccache (CCACHE_DIR as the environment sets it), and fails loudly: any
# failed step, compile error or test stops it with a non-zero status.
#
# Measured on the 2-core dev box (shared, load ~10): cold ccache 995 s
# (build 916 s wall for 7.2 min of CPU, CTest 78 s), warm ccache 194 s (build
# 136 s, CTest 56 s). On 2 unshared cores the cold build is ~4 min, so the
# whole suite runs (no subset); test_kernels_sgemm is most of the emulated
# time. Emulated times are not speed figures.
# With the Winograd / small-IC / row kernel tests and the model-level check
# (test_kernels_{winograd,conv_small_ic,rows}, test_model_fast_vs_naive:
# together about 4 s under qemu), measured 2026-12-03 at load ~2: cold
# ccache build 318 s, warm ccache 74 s in all (build 9 s, CTest 63 s; the
# suite before them: CTest 47 s).
# LOADRUN_CI_ARM_BUILD overrides the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
echo "== arm: aarch64 cross build + CTest under qemu"

need=()
command -v aarch64-linux-gnu-g++ >/dev/null || need+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null || command -v qemu-aarch64-static >/dev/null || need+=(qemu-user)
command -v cmake >/dev/null || need+=(cmake)
command -v ninja >/dev/null || need+=(ninja-build)
command -v ccache >/dev/null || need+=(ccache)
if [ "${#need[@]}" -gt 0 ]; then
  echo "== arm: apt-get install ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: .ci/arm.sh needs ${need[*]} and is not root: apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

BUILD="${LOADRUN_CI_ARM_BUILD:-build-arm-ci}"
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
rm -rf "$BUILD"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
  -DLOADRUN_PYTHON=OFF -DLOADRUN_TESTS=ON -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
t0=$(date +%s)
cmake --build "$BUILD" -j "$(nproc)"
echo "== arm: build took $(( $(date +%s) - t0 ))s"
t0=$(date +%s)
# Each test's own limit catches a hang under emulation; any failure fails CI.
ctest --test-dir "$BUILD" --output-on-failure --timeout 900 -j "$(nproc)"
echo "== arm: ctest under qemu took $(( $(date +%s) - t0 ))s"
echo "== arm: finished in $(( $(date +%s) - start ))s"
