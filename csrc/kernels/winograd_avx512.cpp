// Winograd transforms for the avx512 table: winograd_avx512_tiles.h (method
// there) over the real AVX-512F 16-lane traits. The same source runs emulated
// on AVX2 as the test-only avx512_emu level (winograd_avx512_emu_avx2.cpp).
// GCC 12 warns, wrongly, about the undefined pass-through operand of
// _mm512_max_ps / _mm512_min_ps.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "kernels/simd16_avx512.h"
#include "kernels/winograd_avx512.h"
#include "kernels/winograd_avx512_tiles.h"

namespace loadrun {
namespace kernels {

void winograd_input_tiles_avx512(int m, const float* p, int64_t ld, int64_t tw,
                                 int64_t ntiles, float* v, int64_t sxi) {
  if (m == 6) return wino_input16<simd16::Avx512, 6>(p, ld, tw, ntiles, v, sxi);
  wino_input16<simd16::Avx512, 4>(p, ld, tw, ntiles, v, sxi);
}

void winograd_output_tiles_avx512(int m, const float* mm, int64_t sxi, int64_t tw,
                                  int64_t ntiles, float bias, const Epilogue& ep, float* y,
                                  int64_t ldy, int64_t rows, int64_t cols) {
  if (m == 6)
    return wino_output16<simd16::Avx512, 6>(mm, sxi, tw, ntiles, bias, ep, y, ldy, rows, cols);
  wino_output16<simd16::Avx512, 4>(mm, sxi, tw, ntiles, bias, ep, y, ldy, rows, cols);
}

}  // namespace kernels
}  // namespace loadrun
