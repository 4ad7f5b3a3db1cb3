// Pieces shared by the AVX2+FMA SGEMM translation units (sgemm_avx2.cpp,
// sgemm_pack_avx2.cpp, sgemm_gemv_avx2.cpp). Include ONLY from *_avx2.cpp
// files: the helpers here are compiled with -mavx2 -mfma, so they are
// `static` (never shared through the linker with code that may run on a CPU
// without AVX2), and the functions declared here are defined and called only
// in those files.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "kernels/sgemm.h"

namespace loadrun {
namespace kernels {
namespace avx2 {

constexpr int64_t kMR = 6, kNR = 16;  // the micro-kernel's tile of C

static inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t round_up(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

// The activation of ep on 8 lanes, with the scalar apply_act's NaN behaviour
// for the clamps. kSigmoid is left to the scalar code (callers check
// needs_scalar_act()).
static inline bool needs_scalar_act(const Epilogue& ep) { return ep.act == Act::kSigmoid; }

static inline __m256 act8(const Epilogue& ep, __m256 v) {
  switch (ep.act) {
    case Act::kNone:
    case Act::kSigmoid:
      return v;
    case Act::kRelu:  // v > 0 ? v : 0
      return _mm256_max_ps(v, _mm256_setzero_ps());
    case Act::kRelu6:  // min(max(v, 0), 6)
      return _mm256_min_ps(_mm256_set1_ps(6.f), _mm256_max_ps(_mm256_setzero_ps(), v));
    case Act::kHardSwish: {
      __m256 t = _mm256_add_ps(v, _mm256_set1_ps(3.f));
      t = _mm256_min_ps(_mm256_set1_ps(6.f), _mm256_max_ps(_mm256_setzero_ps(), t));
      return _mm256_div_ps(_mm256_mul_ps(v, t), _mm256_set1_ps(6.f));
    }
    case Act::kClip:
      return _mm256_min_ps(_mm256_set1_ps(ep.p1), _mm256_max_ps(_mm256_set1_ps(ep.p0), v));
    case Act::kLeakyRelu: {
      __m256 ge = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GE_OQ);
      return _mm256_blendv_ps(_mm256_mul_ps(v, _mm256_set1_ps(ep.p0)), v, ge);
    }
  }
  return v;
}

// Lanes [0, n) set, for masked loads of a tail (0 <= n <= 8).
static inline __m256i tail_mask(int64_t n) {
  alignas(32) static const int32_t kBits[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                0,  0,  0,  0,  0,  0,  0,  0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kBits + 8 - n));
}

static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Finishes count raw sums acc[0..count) into y[j*incy]:
// y = act(alpha*acc + beta*y + bias[j*bias_inc]) (beta == 0: y is not read).
static inline void finish_scalar(const float* acc, int64_t count, float alpha, float beta,
                                 float* y, int64_t incy, const float* bias, int64_t bias_inc,
                                 const Epilogue& ep) {
  for (int64_t j = 0; j < count; ++j) {
    float v = alpha * acc[j];
    float& out = y[j * incy];
    if (beta != 0.f) v += beta * out;
    if (bias) v += bias[j * bias_inc];
    if (ep.act != Act::kNone) v = apply_act(ep, v);
    out = v;
  }
}

// Packing (sgemm_pack_avx2.cpp): rows [i0, i0+mc) x cols [p0, p0+kc) of
// op(A) into panels of `panel` rows (6, or 4 for the 4-row kernel; stride
// kc*panel), and rows [p0, p0+kc) x cols [j0, j0+nc) of op(B) into panels of
// 16 columns (stride kc*16).
void pack_a_block(const float* a, int64_t lda, bool ta, int64_t i0, int64_t mc, int64_t p0,
                  int64_t kc, float* dst, int64_t panel = kMR);
void pack_b_block(const float* b, int64_t ldb, bool tb, int64_t p0, int64_t kc, int64_t j0,
                  int64_t nc, float* dst);

// GEMV paths (sgemm_gemv_avx2.cpp). y has n entries at stride incy; x is
// contiguous with k entries; bias (may be null) is read at stride bias_inc
// (0: one value for all). ep supplies the activation only.
// Matrix op(B) is k x n: b_rows_are_n (B stored n x k, ldb) or B stored k x n.
void gemv(int64_t n, int64_t k, float alpha, const float* x, const float* b, int64_t ldb,
          bool b_rows_are_n, float beta, float* y, int64_t incy, const float* bias,
          int64_t bias_inc, const Epilogue& ep);
// op(B) pre-packed in panels of 16 columns (pack_b format).
void gemv_packed_b(int64_t n, int64_t k, const float* x, const float* packed, float beta,
                   float* y, const float* bias, int64_t bias_inc, const Epilogue& ep);
// y[i] (i < m, stride incy) = row i of a pre-packed A (panels of 6 rows) . x.
void gemv_packed_a(int64_t m, int64_t k, const float* packed, const float* x, float beta,
                   float* y, int64_t incy, const float* bias, int64_t bias_inc,
                   const Epilogue& ep);

}  // namespace avx2
}  // namespace kernels
}  // namespace loadrun
