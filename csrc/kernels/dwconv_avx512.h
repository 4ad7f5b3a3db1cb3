// The AVX-512 depthwise plane kernels (dwconv_avx512_plane.h), for
// kernel_table.cpp: real AVX-512F (the avx512 table) and the same source over
// the AVX2 emulation of its 16-lane vectors (the test-only avx512_emu table).
#pragma once
#include "kernels/dwconv.h"

namespace loadrun {
namespace kernels {

#ifdef LOADRUN_X86_KERNELS
void dwconv_plane_avx512(int k, int s, const float* p0, const float* p1, int64_t ld,
                         const float* w, float bias, const Epilogue& ep, float* y, int64_t oh,
                         int64_t ow);
void dwconv_plane_avx512_emu(int k, int s, const float* p0, const float* p1, int64_t ld,
                             const float* w, float bias, const Epilogue& ep, float* y,
                             int64_t oh, int64_t ow);
#endif

}  // namespace kernels
}  // namespace loadrun
