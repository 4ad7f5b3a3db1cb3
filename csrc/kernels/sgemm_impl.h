// The table of functions one SGEMM implementation provides; kernel_table.cpp
// puts one into the kernel table of each ISA level and the public functions
// of sgemm.h forward to kernel_table().sgemm.
#pragma once
#include "kernels/sgemm.h"

namespace loadrun {
namespace kernels {

struct SgemmImpl {
  const char* name;
  void (*gemm)(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
               int64_t, float, float*, int64_t, const Epilogue&);
  size_t (*packed_a_floats)(int64_t m, int64_t k);
  void (*pack_a)(bool, int64_t, int64_t, const float*, int64_t, float*);
  void (*packed_a)(bool, int64_t, int64_t, int64_t, const float*, const float*, int64_t, float,
                   float*, int64_t, const Epilogue&);
  size_t (*packed_b_floats)(int64_t k, int64_t n);
  void (*pack_b)(bool, int64_t, int64_t, const float*, int64_t, float*);
  void (*packed_b)(bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*, float,
                   float*, int64_t, const Epilogue&);
  // Panel heights of the packed formats, for the threaded split (sgemm.cpp):
  // rows [i0, ...) of a packed A start at packed + i0*k when i0 is a multiple
  // of mr, columns [j0, ...) of a packed B at packed + j0*k when j0 is a
  // multiple of nr; nr == 0: a packed B cannot be split by columns.
  int64_t mr;
  int64_t nr;
};

const SgemmImpl& sgemm_portable_impl();
#ifdef LOADRUN_X86_KERNELS
// AVX2+FMA (sgemm_avx2.cpp): only for the avx2 (and avx512) tables.
const SgemmImpl& sgemm_avx2_impl();
#endif
#ifdef LOADRUN_ARM64_KERNELS
// NEON (sgemm_neon.cpp): the neon and neon_dotprod tables.
const SgemmImpl& sgemm_neon_impl();
#endif

}  // namespace kernels
}  // namespace loadrun
