// AVX-512F depthwise plane kernel for the avx512 table: dwconv_avx512_plane.h
// (method there) over the real 16-lane traits. The same source runs emulated
// on AVX2 as the test-only avx512_emu level (dwconv_avx512_emu_avx2.cpp).
// GCC 12 warns, wrongly, about the undefined pass-through operand of
// _mm512_max_ps / _mm512_min_ps.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "kernels/simd16_avx512.h"
#include "kernels/dwconv_avx512.h"
#include "kernels/dwconv_avx512_plane.h"

namespace loadrun {
namespace kernels {

void dwconv_plane_avx512(int k, int s, const float* p0, const float* p1, int64_t ld,
                         const float* w, float bias, const Epilogue& ep, float* y, int64_t oh,
                         int64_t ow) {
  dw_plane16_any<simd16::Avx512>(k, s, p0, p1, ld, w, bias, ep, y, oh, ow);
}

}  // namespace kernels
}  // namespace loadrun
