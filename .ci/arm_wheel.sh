#!/usr/bin/env bash
# The aarch64 Python wheel, cross-built and run (issue #11): not part of
# .ci/run (a second full cross build of the core, with -fPIC and the
# bindings, would add ~8 min cold on 2 cores); run it by hand when the build
# or the bindings change. Debian only, as root (dpkg/apt).
#  1. A target CPython without installing it: Debian's arm64 packages of
#     python3.11 and the libraries it links, fetched with `apt-get download`
#     (after `dpkg --add-architecture arm64`) and unpacked with `dpkg -x` into
#     $ROOT, a sysroot of their own (an arm64 python3.11 cannot be installed
#     beside the amd64 one; unpacked, it runs under qemu-aarch64 -L $ROOT).
#  2. numpy and onnx aarch64 wheels from the package index (pip download
#     --platform manylinux..._aarch64), installed into $ROOT/site.
#  3. The loadrun wheel built by scikit-build-core with the toolchain file:
#     the arm64 headers (libpython3.11-dev:arm64, same $ROOT) for
#     Python_INCLUDE_DIR, Python_SOABI and pybind11's PYTHON_MODULE_EXTENSION
#     for the module's file name (pybind11 asks the host python otherwise),
#     _PYTHON_HOST_PLATFORM for the wheel's tag (linux_aarch64: a local tag;
#     a manylinux one needs auditwheel on aarch64 or cibuildwheel).
#  4. The wheel installed into $ROOT/site and run by the arm64 python under
#     qemu: `loadrun.isa_level()`, zoo:mlp and zoo:mobilenetv2 (plain and
#     NCHW44) against the x86 build's outputs (rtol 1e-4, atol 5e-5, as
#     .ci/arm.sh), and the load_and_run CLI on zoo:mlp.
# Measured 2026-12-03 (2 shared cores, load ~8): see the end of this file's
# output; the README's ARM section has the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="${LOADRUN_ARM_PY_ROOT:-/tmp/arm-py}"
PY="${LOADRUN_CI_PYTHON:-python3}"
QEMU="$(command -v qemu-aarch64 || command -v qemu-aarch64-static)"
mkdir -p "$ROOT/debs" "$ROOT/root" "$ROOT/wheels" "$ROOT/dist" "$ROOT/site"
if [ ! -x "$ROOT/root/usr/bin/python3.11" ]; then
  dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
  apt-get update -q >/dev/null
  (cd "$ROOT/debs" && apt-get download -q \
     python3.11-minimal:arm64 libpython3.11-minimal:arm64 libpython3.11-stdlib:arm64 \
     libpython3.11-dev:arm64 libpython3.11:arm64 zlib1g:arm64 libffi8:arm64 libexpat1:arm64 \
     libssl3:arm64 libbz2-1.0:arm64 liblzma5:arm64 libsqlite3-0:arm64 libncursesw6:arm64 \
     libtinfo6:arm64 libreadline8:arm64 libuuid1:arm64 libgcc-s1:arm64 libstdc++6:arm64 \
     libc6:arm64 libcrypt1:arm64 libnsl2:arm64 libtirpc3:arm64 libdb5.3:arm64 libgdbm6:arm64 \
     libgssapi-krb5-2:arm64 libkrb5-3:arm64 libk5crypto3:arm64 libcom-err2:arm64 \
     libkrb5support0:arm64 libkeyutils1:arm64 >/dev/null)
  for d in "$ROOT"/debs/*.deb; do dpkg -x "$d" "$ROOT/root"; done
fi
TPY=("$QEMU" -L "$ROOT/root" "$ROOT/root/usr/bin/python3.11")
"${TPY[@]}" -c "import platform, sys; print('== arm wheel: target python', sys.version.split()[0], platform.machine())"
"$PY" -m pip download -q --only-binary=:all: --platform manylinux_2_28_aarch64 \
  --platform manylinux2014_aarch64 --python-version 311 --implementation cp numpy onnx -d "$ROOT/wheels"
# pip refuses to install another platform's wheels: a wheel is a zip to unpack.
for w in "$ROOT"/wheels/*.whl; do "$PY" -m zipfile -e "$w" "$ROOT/site/"; done
t0=$(date +%s)
rm -f "$ROOT"/dist/loadrun-*.whl
CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true _PYTHON_HOST_PLATFORM=linux-aarch64 \
"$PY" -m pip wheel . --no-build-isolation --no-deps -w "$ROOT/dist" \
  -C cmake.args="--toolchain=$PWD/cmake/toolchains/aarch64-linux-gnu.cmake" \
  -C cmake.define.Python_SOABI=cpython-311-aarch64-linux-gnu \
  -C cmake.define.PYTHON_MODULE_EXTENSION=.cpython-311-aarch64-linux-gnu.so \
  -C cmake.define.Python_INCLUDE_DIR="$ROOT/root/usr/include/python3.11" \
  -C cmake.define.CMAKE_CXX_FLAGS="-isystem $ROOT/root/usr/include" \
  -C cmake.define.pybind11_DIR="$("$PY" -m pybind11 --cmakedir)" \
  -C cmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
echo "== arm wheel: built $(ls "$ROOT"/dist/loadrun-*.whl) in $(( $(date +%s) - t0 ))s"
rm -rf "$ROOT/site/loadrun"
"$PY" -m zipfile -e "$ROOT"/dist/loadrun-*.whl "$ROOT/site/"
# Reference outputs from the x86 build (this machine's loadrun).
"$PY" - "$ROOT" <<'PYEOF'
import sys, numpy as np, loadrun
root = sys.argv[1]
for name in ("mlp", "mobilenetv2"):
    net = loadrun.load(f"zoo:{name}")
    feeds = {i.name: np.random.default_rng(0).standard_normal(i.shape).astype(np.float32) for i in net.inputs}
    np.savez(f"{root}/{name}_ref.npz", **feeds, **{"out:" + k: v for k, v in net.run(feeds).items()})
PYEOF
PYTHONPATH="$ROOT/site" "${TPY[@]}" - "$ROOT" <<'PYEOF'
import sys, time, numpy as np, loadrun
root = sys.argv[1]
print("== arm wheel: loadrun", loadrun.__version__, "isa", loadrun.isa_level(), "levels", loadrun.isa_levels())
for name, layout in (("mlp", None), ("mobilenetv2", None), ("mobilenetv2", "nchw44")):
    ref = np.load(f"{root}/{name}_ref.npz")
    t = time.time()
    net = loadrun.load(f"zoo:{name}", layout=layout)
    feeds = {i.name: ref[i.name] for i in net.inputs}
    got = net.run(feeds)
    for k, v in got.items():
        r = ref["out:" + k]
        ok = np.allclose(v, r, rtol=1e-4, atol=5e-5)
        print(f"== arm wheel: {name} layout={layout} {k}: max |diff| {np.abs(v - r).max():.3g} "
              f"({'ok' if ok else 'FAIL'}; {time.time() - t:.1f}s emulated)")
        if not ok:
            sys.exit(1)
PYEOF
PYTHONPATH="$ROOT/site" "${TPY[@]}" -c "from loadrun.cli.main import main; raise SystemExit(main(['zoo:mlp', '--iter', '2']))" | tail -2
echo "== arm wheel: ok"
