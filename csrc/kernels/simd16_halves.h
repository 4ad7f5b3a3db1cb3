// 8-lane pieces that 16-lane kernels need for data with 8-float rows (the
// Winograd transforms: a tile row is at most 8 floats): an 8x8 transpose of
// __m256 registers and an 8-lane tail mask. `static` on purpose (internal
// linkage): this header is included by translation units compiled with
// different ISA flags (-mavx512f and the AVX2 emulation), and the linker
// must never pick one unit's copy for the other (simd_avx2.h's helpers are
// `inline`, so they are not included from *_avx512.cpp files). AVX (VEX)
// instructions only, valid in both kinds of unit.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace loadrun {
namespace kernels {
namespace simd16 {

// Lanes [0, n) set (n <= 0: none; n >= 8: all), for vmaskmovps.
static inline __m256i tail_mask8(int64_t n) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const int32_t c = n < 0 ? 0 : (n > 8 ? 8 : static_cast<int32_t>(n));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(c), idx);
}

// Afterwards r[c] lane l holds what r[l] lane c held.
static inline void transpose8x8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

}  // namespace simd16
}  // namespace kernels
}  // namespace loadrun
