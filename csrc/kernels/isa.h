// The ISA level the kernels run at: detected once, at first use, from the
// CPU (and the OS's support for its registers), unless the environment
// variable LOADRUN_ISA names a level (portable, avx2, avx512_emu, avx512,
// neon, neon_dotprod), which is then used as long as this CPU and this build
// can run it; an unknown or unsupported name is an UnsupportedError that says
// which levels are available. Tests use it to run every kernel at every
// level the machine supports.
//
// Levels, and the table of kernels each one runs (kernel_table.h):
//   portable      plain C++ (any CPU)
//   avx2          x86-64 with AVX2 + FMA + F16C (the *_avx2.cpp translation
//                 units; every AVX2 CPU has F16C)
//   avx512_emu    TEST LEVEL, never detected, only forced by LOADRUN_ISA:
//                 the avx2 table with the AVX-512 kernels (SGEMM, depthwise,
//                 Winograd transforms) run over an AVX2 emulation of their
//                 16-lane vectors (simd16_emu.h), so the AVX-512 code is
//                 tested on AVX2 machines (x86-64 with AVX2 + FMA + F16C).
//                 Listed by isa_levels_supported(), so tests/isa_levels.py
//                 reruns every kernel test at it; its speed means nothing.
//   avx512        x86-64 with AVX-512F: the avx2 table with the AVX-512F
//                 kernels (SGEMM with 12x32 tiles, depthwise, Winograd
//                 transforms) in place
//   neon          aarch64 (Advanced SIMD is part of the base architecture)
//   neon_dotprod  aarch64 with the dot-product instructions (ARMv8.2 DotProd)
// The level's name is part of the fast-run cache category: algorithms timed
// at one level are not reused at another.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace loadrun {

// kAvx512Emu is last so the values of the others stay what they were.
enum class IsaLevel : uint8_t { kPortable, kAvx2, kAvx512, kNeon, kNeonDotprod, kAvx512Emu };
constexpr int kIsaLevelCount = 6;

// "portable", "avx2", "avx512", "neon", "neon_dotprod", "avx512_emu".
const char* isa_level_name(IsaLevel level);
// The level named s; UnsupportedError for an unknown name.
IsaLevel isa_level_named(const std::string& s);

// The level in use (detected or forced by LOADRUN_ISA); fixed for the life of
// the process. Throws UnsupportedError when LOADRUN_ISA is unknown or names a
// level this CPU or build cannot run (every call throws it again).
IsaLevel isa_level();
inline const char* isa_level_name() { return isa_level_name(isa_level()); }

// The best level this CPU and build support, ignoring LOADRUN_ISA (never a
// test level).
IsaLevel isa_detected();
// Whether `level` is a test-only level (avx512_emu): runnable when forced,
// never detected.
bool isa_test_level(IsaLevel level);
// Whether `level` can run here (portable always can).
bool isa_supported(IsaLevel level);
// Every level that can run here, lowest first (avx512_emu between avx2 and
// avx512).
std::vector<IsaLevel> isa_levels_supported();

}  // namespace loadrun
