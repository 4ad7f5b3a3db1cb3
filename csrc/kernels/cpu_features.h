// Raw CPU features, read once. Which kernels run is decided from these in
// one place, isa.h (the level) and kernel_table.h (the functions).
#pragma once
#include <string>

namespace loadrun {

struct CpuFeatures {
  // x86-64 (libgcc checks that the OS saves the wide registers, XCR0).
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  // aarch64 (Linux HWCAP): the ARMv8.2 dot-product instructions.
  bool asimd_dotprod = false;
  std::string brand;  // "Intel(R) Xeon(R) ..." where the CPU reports one
};

const CpuFeatures& cpu_features();

}  // namespace loadrun
