// The 16-lane vector traits over AVX-512F (__m512, __mmask16) that the
// 16-lane kernels (sgemm_avx512_tile.h, sgemm_avx512_driver.h) are written
// against. simd16_emu.h implements the same operations on two __m256 for the
// test-only avx512_emu level (isa.h), so the one kernel source runs, and is
// tested, on AVX2 machines too. Include ONLY from *_avx512.cpp files (the
// intrinsics need -mavx512f).
//
// The contract (both traits):
//   Reg / Mask          a vector of 16 floats / a 16-bit lane mask (bit i:
//                       lane i)
//   zero, set1, loadu, storeu
//   tail(n)             lanes [0, n) set (n <= 0: none; n >= 16: all)
//   maskz_loadu(m, p)   lanes of m from p, others 0; lanes outside m are not
//                       read (no fault past the end of an array)
//   mask_storeu(p, m, v) only the lanes of m are written
//   fmadd(a, b, c)      a*b + c, one rounding
//   add, mul, max, min  max/min return the second operand when either is NaN
//   cmp_nle_uq(a, b)    !(a <= b) (true for NaN), as a Mask
//   cmp_ge_oq(a, b)     a >= b (false for NaN), as a Mask
//   blend(m, a, b)      m ? b : a per lane
//   sub                 a - b
//   join(lo, hi), lo(v), hi(v)  lanes [0, 8) and [8, 16) as __m256
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace loadrun {
namespace kernels {
namespace simd16 {

struct Avx512 {
  using Reg = __m512;
  using Mask = __mmask16;
  static constexpr const char* kName = "avx512f";

  static inline Reg zero() { return _mm512_setzero_ps(); }
  static inline Reg set1(float x) { return _mm512_set1_ps(x); }
  static inline Reg loadu(const float* p) { return _mm512_loadu_ps(p); }
  static inline void storeu(float* p, Reg v) { _mm512_storeu_ps(p, v); }
  static inline Mask tail(int64_t n) {
    return n <= 0 ? Mask(0) : n >= 16 ? Mask(0xFFFF) : Mask((1u << n) - 1u);
  }
  static inline Reg maskz_loadu(Mask m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
  static inline void mask_storeu(float* p, Mask m, Reg v) { _mm512_mask_storeu_ps(p, m, v); }
  static inline Reg fmadd(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static inline Reg add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
  static inline Reg sub(Reg a, Reg b) { return _mm512_sub_ps(a, b); }
  static inline Reg mul(Reg a, Reg b) { return _mm512_mul_ps(a, b); }
  static inline Reg max(Reg a, Reg b) { return _mm512_max_ps(a, b); }
  static inline Reg min(Reg a, Reg b) { return _mm512_min_ps(a, b); }
  static inline Mask cmp_nle_uq(Reg a, Reg b) { return _mm512_cmp_ps_mask(a, b, _CMP_NLE_UQ); }
  static inline Mask cmp_ge_oq(Reg a, Reg b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static inline Reg blend(Mask m, Reg a, Reg b) { return _mm512_mask_blend_ps(m, a, b); }
  static inline Reg join(__m256 lo, __m256 hi) {
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)),
                                               _mm256_castps_pd(hi), 1));
  }
  static inline __m256 lo(Reg v) { return _mm512_castps512_ps256(v); }
  static inline __m256 hi(Reg v) {
    return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
  }
};

}  // namespace simd16
}  // namespace kernels
}  // namespace loadrun
