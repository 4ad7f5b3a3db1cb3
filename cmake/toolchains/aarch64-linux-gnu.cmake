# Cross build for 64-bit ARM Linux with Debian's cross compiler
# (apt-get install g++-aarch64-linux-gnu qemu-user), tests run under qemu:
#   cmake -S . -B build-arm -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
#         -DLOADRUN_PYTHON=OFF -DLOADRUN_TESTS=ON
#   cmake --build build-arm && ctest --test-dir build-arm
# CTest (and CMake's try_run) run every target program through
# CMAKE_CROSSCOMPILING_EMULATOR, so the suite needs no other step.
# Override the compiler prefix with -DLOADRUN_CROSS_PREFIX=... and the
# sysroot the emulator loads libraries from with -DLOADRUN_CROSS_SYSROOT=....
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(LOADRUN_CROSS_PREFIX "aarch64-linux-gnu-" CACHE STRING "cross compiler prefix")
set(LOADRUN_CROSS_SYSROOT "/usr/aarch64-linux-gnu" CACHE PATH
    "target root: libraries for the emulator, headers and libraries for find_*")

set(CMAKE_C_COMPILER "${LOADRUN_CROSS_PREFIX}gcc")
set(CMAKE_CXX_COMPILER "${LOADRUN_CROSS_PREFIX}g++")

# Debian ships qemu-aarch64 in qemu-user and qemu-aarch64-static in
# qemu-user-static; either works (-L: where the target's ld.so and libc are).
find_program(LOADRUN_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static)
if(NOT LOADRUN_QEMU_AARCH64)
  message(WARNING "qemu-aarch64 not found (apt-get install qemu-user): "
                  "the build works, but ctest cannot run the aarch64 programs here")
  set(LOADRUN_QEMU_AARCH64 qemu-aarch64)
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR "${LOADRUN_QEMU_AARCH64};-L;${LOADRUN_CROSS_SYSROOT}")

# Headers and libraries from the target root; programs (build tools) from the host.
set(CMAKE_FIND_ROOT_PATH "${LOADRUN_CROSS_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
