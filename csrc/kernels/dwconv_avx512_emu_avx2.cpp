// The AVX-512 depthwise plane kernel of dwconv_avx512_plane.h over the AVX2
// emulation of the 16-lane traits (simd16_emu.h): the avx512_emu table's, so
// the avx512 table's kernel source is tested on AVX2 machines. Compiled with
// the AVX2 flags (the file name ends in _avx2.cpp); its speed means nothing.
#include "kernels/simd16_emu.h"
#include "kernels/dwconv_avx512.h"
#include "kernels/dwconv_avx512_plane.h"

namespace loadrun {
namespace kernels {

void dwconv_plane_avx512_emu(int k, int s, const float* p0, const float* p1, int64_t ld,
                             const float* w, float bias, const Epilogue& ep, float* y,
                             int64_t oh, int64_t ow) {
  dw_plane16_any<simd16::Emu>(k, s, p0, p1, ld, w, bias, ep, y, oh, ow);
}

}  // namespace kernels
}  // namespace loadrun
