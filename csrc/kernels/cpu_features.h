// CPU features, detected once at start-up, that choose which kernel set runs.
// Kernels for an ISA live in their own translation units (name_avx2.cpp is
// compiled with -mavx2 -mfma and nothing else is); code outside them only
// calls into them after checking these flags. LOADRUN_ISA=portable in the
// environment forces the portable kernels (tests use it to cover them).
#pragma once
#include <string>

namespace loadrun {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  std::string brand;  // "Intel(R) Xeon(R) ..." where the CPU reports one
  // The kernel level in use: "avx2_fma" or "portable" (part of the fast-run
  // cache category: algorithms timed at one level are not valid at another).
  std::string isa_level() const { return use_avx2() ? "avx2_fma" : "portable"; }
  bool use_avx2() const { return avx2 && fma && !force_portable; }
  bool force_portable = false;
};

const CpuFeatures& cpu_features();

}  // namespace loadrun
