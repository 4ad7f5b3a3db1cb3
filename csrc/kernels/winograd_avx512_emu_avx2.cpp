// The Winograd transforms of winograd_avx512_tiles.h over the AVX2 emulation
// of the 16-lane traits (simd16_emu.h): the avx512_emu table's, so the avx512
// table's transforms are tested on AVX2 machines. Compiled with the AVX2 flags
// (the file name ends in _avx2.cpp); its speed means nothing.

#include "kernels/simd16_emu.h"
#include "kernels/winograd_avx512.h"
#include "kernels/winograd_avx512_tiles.h"

namespace loadrun {
namespace kernels {

void winograd_input_tiles_avx512_emu(int m, const float* p, int64_t ld, int64_t tw,
                                     int64_t ntiles, float* v, int64_t sxi) {
  if (m == 6) return wino_input16<simd16::Emu, 6>(p, ld, tw, ntiles, v, sxi);
  wino_input16<simd16::Emu, 4>(p, ld, tw, ntiles, v, sxi);
}

void winograd_output_tiles_avx512_emu(int m, const float* mm, int64_t sxi, int64_t tw,
                                      int64_t ntiles, float bias, const Epilogue& ep, float* y,
                                      int64_t ldy, int64_t rows, int64_t cols) {
  if (m == 6)
    return wino_output16<simd16::Emu, 6>(mm, sxi, tw, ntiles, bias, ep, y, ldy, rows, cols);
  wino_output16<simd16::Emu, 4>(mm, sxi, tw, ntiles, bias, ep, y, ldy, rows, cols);
}

}  // namespace kernels
}  // namespace loadrun
