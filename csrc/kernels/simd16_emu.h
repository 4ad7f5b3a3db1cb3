// The 16-lane vector traits of simd16_avx512.h (same contract, see there),
// emulated with AVX2 on a pair of __m256 and a 16-bit integer lane mask. It
// exists so the AVX-512 kernels, written once over the traits, can be run
// and tested on AVX2 machines (the test-only ISA level avx512_emu, isa.h):
// every lane-mask operation goes through the same 16-bit masks as the real
// __mmask16 code, so tail handling is exercised too. Its speed means
// nothing. Include ONLY from *_avx2.cpp files (-mavx2 -mfma).
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace loadrun {
namespace kernels {
namespace simd16 {

struct Emu {
  struct Reg {
    __m256 lo, hi;
  };
  using Mask = uint32_t;  // bits [0, 16)
  static constexpr const char* kName = "avx512f_emu";

  // The 8 lanes of m starting at `first` as an AVX2 vector mask.
  static inline __m256i lanes(Mask m, int first) {
    const __m256i sel = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    const __m256i bits = _mm256_set1_epi32(static_cast<int>((m >> first) & 0xFFu));
    return _mm256_cmpeq_epi32(_mm256_and_si256(bits, sel), sel);
  }
  static inline Mask bits(__m256 lo, __m256 hi) {
    return static_cast<Mask>(_mm256_movemask_ps(lo)) |
           (static_cast<Mask>(_mm256_movemask_ps(hi)) << 8);
  }

  static inline Reg zero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
  static inline Reg set1(float x) { return {_mm256_set1_ps(x), _mm256_set1_ps(x)}; }
  static inline Reg loadu(const float* p) { return {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
  static inline void storeu(float* p, Reg v) {
    _mm256_storeu_ps(p, v.lo);
    _mm256_storeu_ps(p + 8, v.hi);
  }
  static inline Mask tail(int64_t n) {
    return n <= 0 ? Mask(0) : n >= 16 ? Mask(0xFFFF) : Mask((1u << n) - 1u);
  }
  // vmaskmovps does not touch (or fault on) the lanes outside the mask.
  static inline Reg maskz_loadu(Mask m, const float* p) {
    return {_mm256_maskload_ps(p, lanes(m, 0)), _mm256_maskload_ps(p + 8, lanes(m, 8))};
  }
  static inline void mask_storeu(float* p, Mask m, Reg v) {
    _mm256_maskstore_ps(p, lanes(m, 0), v.lo);
    _mm256_maskstore_ps(p + 8, lanes(m, 8), v.hi);
  }
  static inline Reg fmadd(Reg a, Reg b, Reg c) {
    return {_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)};
  }
  static inline Reg add(Reg a, Reg b) {
    return {_mm256_add_ps(a.lo, b.lo), _mm256_add_ps(a.hi, b.hi)};
  }
  static inline Reg sub(Reg a, Reg b) {
    return {_mm256_sub_ps(a.lo, b.lo), _mm256_sub_ps(a.hi, b.hi)};
  }
  static inline Reg join(__m256 lo, __m256 hi) { return {lo, hi}; }
  static inline __m256 lo(Reg v) { return v.lo; }
  static inline __m256 hi(Reg v) { return v.hi; }
  static inline Reg mul(Reg a, Reg b) {
    return {_mm256_mul_ps(a.lo, b.lo), _mm256_mul_ps(a.hi, b.hi)};
  }
  static inline Reg max(Reg a, Reg b) {
    return {_mm256_max_ps(a.lo, b.lo), _mm256_max_ps(a.hi, b.hi)};
  }
  static inline Reg min(Reg a, Reg b) {
    return {_mm256_min_ps(a.lo, b.lo), _mm256_min_ps(a.hi, b.hi)};
  }
  static inline Mask cmp_nle_uq(Reg a, Reg b) {
    return bits(_mm256_cmp_ps(a.lo, b.lo, _CMP_NLE_UQ), _mm256_cmp_ps(a.hi, b.hi, _CMP_NLE_UQ));
  }
  static inline Mask cmp_ge_oq(Reg a, Reg b) {
    return bits(_mm256_cmp_ps(a.lo, b.lo, _CMP_GE_OQ), _mm256_cmp_ps(a.hi, b.hi, _CMP_GE_OQ));
  }
  static inline Reg blend(Mask m, Reg a, Reg b) {
    return {_mm256_blendv_ps(a.lo, b.lo, _mm256_castsi256_ps(lanes(m, 0))),
            _mm256_blendv_ps(a.hi, b.hi, _mm256_castsi256_ps(lanes(m, 8)))};
  }
};

}  // namespace simd16
}  // namespace kernels
}  // namespace loadrun
