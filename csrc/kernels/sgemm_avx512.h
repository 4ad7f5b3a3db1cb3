// The AVX-512 SGEMM implementations (sgemm_avx512_driver.h), for
// kernel_table.cpp and the kernel tests.
#pragma once
#include "kernels/sgemm_impl.h"

namespace loadrun {
namespace kernels {

#ifdef LOADRUN_X86_KERNELS
// AVX-512F (sgemm_avx512.cpp, 12x32 tiles): the avx512 table only (CPUs with
// AVX-512F).
const SgemmImpl& sgemm_avx512_impl();
// The same code over an AVX2 emulation of its 16-lane vectors
// (sgemm_avx512_emu_avx2.cpp): the test-only avx512_emu table (AVX2 CPUs).
const SgemmImpl& sgemm_avx512_emu_impl();
#endif

}  // namespace kernels
}  // namespace loadrun
