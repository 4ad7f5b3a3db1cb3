// Epilogue activations on 8 floats at a time, for *_avx2.cpp files only (the
// intrinsics need -mavx2 -mfma). Relu and Clip keep NaN, like their ops (see
// the operand order in act8). Sigmoid uses exp8(): Cody-Waite range reduction
// to x = n ln2 + r, |r| <= ln2/2, and a degree-6 polynomial for e^r, within
// 2 ulp of expf over the range where sigmoid is not saturated.
#pragma once
#include <immintrin.h>

#include "kernels/sgemm.h"

namespace loadrun {
namespace kernels {
namespace avx2 {

inline __m256 exp8(__m256 x) {
  const __m256 hi = _mm256_set1_ps(88.3762626647949f), lo = _mm256_set1_ps(-87.3365478515625f);
  x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.f)));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

// The activation of ep on v. _mm256_max_ps(a, b) returns b when either is
// NaN, so the bound goes first and a NaN value passes through.
inline __m256 act8(const Epilogue& ep, __m256 v) {
  const __m256 zero = _mm256_setzero_ps();
  switch (ep.act) {
    case Act::kNone: return v;
    case Act::kRelu: return _mm256_max_ps(zero, v);
    case Act::kRelu6: return _mm256_min_ps(_mm256_set1_ps(6.f), _mm256_max_ps(zero, v));
    case Act::kClip:
      return _mm256_min_ps(_mm256_set1_ps(ep.p1), _mm256_max_ps(_mm256_set1_ps(ep.p0), v));
    case Act::kHardSwish: {
      __m256 g = _mm256_fmadd_ps(v, _mm256_set1_ps(1.f / 6.f), _mm256_set1_ps(0.5f));
      g = _mm256_min_ps(_mm256_set1_ps(1.f), _mm256_max_ps(zero, g));
      return _mm256_mul_ps(v, g);
    }
    case Act::kSigmoid: {
      __m256 e = exp8(_mm256_sub_ps(zero, v));
      return _mm256_div_ps(_mm256_set1_ps(1.f), _mm256_add_ps(_mm256_set1_ps(1.f), e));
    }
    case Act::kLeakyRelu: {
      __m256 neg = _mm256_mul_ps(v, _mm256_set1_ps(ep.p0));
      return _mm256_blendv_ps(v, neg, _mm256_cmp_ps(v, zero, _CMP_LT_OQ));
    }
  }
  return v;
}

// Bias b then the activation on n floats at p (in place).
inline void bias_act_row(const Epilogue& ep, float b, float* p, int64_t n) {
  const __m256 bv = _mm256_set1_ps(b);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) _mm256_storeu_ps(p + j, act8(ep, _mm256_add_ps(_mm256_loadu_ps(p + j), bv)));
  if (j < n) {
    float tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t t = 0; t < n - j; ++t) tmp[t] = p[j + t];
    _mm256_storeu_ps(tmp, act8(ep, _mm256_add_ps(_mm256_loadu_ps(tmp), bv)));
    for (int64_t t = 0; t < n - j; ++t) p[j + t] = tmp[t];
  }
}

// Lanes [0, n) set, for masked loads and stores of a row's tail.
inline __m256i tail_mask(int64_t n) {
  alignas(32) static const int32_t kIdx[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(n)),
                            _mm256_load_si256(reinterpret_cast<const __m256i*>(kIdx)));
}

// 8x8 transpose of r[0..7] in place.
inline void transpose8(__m256 r[8]) {
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

}  // namespace avx2
}  // namespace kernels
}  // namespace loadrun
