#include "kernels/cpu_features.h"

#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define LOADRUN_X86 1
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

namespace loadrun {

namespace {

CpuFeatures detect() {
  CpuFeatures f;
#ifdef LOADRUN_X86
  __builtin_cpu_init();
  // libgcc checks the OS saves the wide registers (XCR0) before reporting these.
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.avx512f = __builtin_cpu_supports("avx512f");
  {  // F16C: CPUID.1:ECX bit 29 (libgcc's __builtin_cpu_supports lacks it)
    unsigned a = 0, b = 0, c = 0, d = 0;
    f.f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29)) != 0;
  }
  unsigned regs[12] = {};
  unsigned max_ext = __get_cpuid_max(0x80000000u, nullptr);
  if (max_ext >= 0x80000004u) {
    for (unsigned i = 0; i < 3; ++i)
      __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2],
                  &regs[4 * i + 3]);
    char buf[49] = {};
    std::memcpy(buf, regs, 48);
    f.brand = buf;
    size_t b = f.brand.find_first_not_of(' ');
    f.brand = b == std::string::npos ? "" : f.brand.substr(b);
    while (!f.brand.empty() && f.brand.back() == ' ') f.brand.pop_back();
  }
#endif
#if defined(__aarch64__) && defined(__linux__)
  f.asimd_dotprod = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#endif
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

}  // namespace loadrun
