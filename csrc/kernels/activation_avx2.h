// The vector definition of the activations for AVX2+FMA (8 floats at a
// time): the same formulas as the scalar `activate` of activation.h, with the
// transcendental functions of vmath_avx2.h. Every AVX2 fused epilogue and the
// standalone activation ops (eltwise_avx2.cpp) use it. Include only from
// *_avx2.cpp files (the intrinsics need -mavx2 -mfma).
//
// NaN: _mm256_max_ps(a, b) / _mm256_min_ps(a, b) return b when either is
// NaN, so the bound goes first and a NaN value passes through the clamps
// (Relu6, Clip), as in the scalar definition.
#pragma once
#include <immintrin.h>

#include "kernels/activation.h"
#include "kernels/sgemm.h"
#include "kernels/simd_avx2.h"
#include "kernels/vmath_avx2.h"

namespace loadrun {
namespace kernels {
namespace avx2 {

// max(0, min(1, t)); NaN -> 1, as the scalar clamp01.
inline __m256 clamp01_ps(__m256 t) {
  return _mm256_max_ps(_mm256_min_ps(t, _mm256_set1_ps(1.f)), _mm256_setzero_ps());
}

// activate(a, v, p0, p1) of activation.h on 8 lanes (p0, p1 broadcast).
inline __m256 activate8(Act a, __m256 v, __m256 p0, __m256 p1) {
  const __m256 zero = _mm256_setzero_ps();
  switch (a) {
    case Act::kNone: return v;
    case Act::kRelu:  // v where v > 0 or NaN, else +0
      return _mm256_and_ps(_mm256_cmp_ps(v, zero, _CMP_NLE_UQ), v);
    case Act::kRelu6: return _mm256_min_ps(_mm256_set1_ps(6.f), _mm256_max_ps(zero, v));
    case Act::kClip: return _mm256_min_ps(p1, _mm256_max_ps(p0, v));
    case Act::kLeakyRelu:
      return _mm256_blendv_ps(_mm256_mul_ps(v, p0), v, _mm256_cmp_ps(v, zero, _CMP_GE_OQ));
    case Act::kHardSigmoid: return clamp01_ps(_mm256_fmadd_ps(p0, v, p1));
    case Act::kHardSwish: {
      __m256 t = _mm256_mul_ps(_mm256_add_ps(v, _mm256_set1_ps(3.f)), _mm256_set1_ps(1.f / 6.f));
      return _mm256_mul_ps(v, clamp01_ps(t));
    }
    case Act::kSigmoid: return vm::sigmoid_ps(v);
    case Act::kSwish: return _mm256_mul_ps(v, vm::sigmoid_ps(_mm256_mul_ps(p0, v)));
    case Act::kTanh: return vm::tanh_ps(v);
    case Act::kGelu: return vm::gelu_ps(v);
    case Act::kGeluTanh: return vm::gelu_tanh_ps(v);
  }
  return v;
}

// The epilogue's activation on 8 lanes.
inline __m256 act8(const Epilogue& ep, __m256 v) {
  if (ep.act == Act::kNone) return v;
  return activate8(ep.act, v, _mm256_set1_ps(ep.p0), _mm256_set1_ps(ep.p1));
}

// The epilogue's activation on n floats at p (stride 1), every element
// through the vector definition (the tail through an 8-float buffer).
inline void act_row(const Epilogue& ep, float* p, int64_t n) {
  if (ep.act == Act::kNone) return;
  const __m256 p0 = _mm256_set1_ps(ep.p0), p1 = _mm256_set1_ps(ep.p1);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) _mm256_storeu_ps(p + j, activate8(ep.act, _mm256_loadu_ps(p + j), p0, p1));
  if (j < n) {
    const __m256i m = tail_mask(n - j);
    _mm256_maskstore_ps(p + j, m, activate8(ep.act, _mm256_maskload_ps(p + j, m), p0, p1));
  }
}

}  // namespace avx2
}  // namespace kernels
}  // namespace loadrun
