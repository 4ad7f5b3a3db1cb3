// Pieces shared by the AVX2+FMA SGEMM translation units (sgemm_avx2.cpp,
// sgemm_pack_avx2.cpp, sgemm_gemv_avx2.cpp). Include ONLY from *_avx2.cpp
// files: the helpers here are compiled with -mavx2 -mfma, so they are
// `static` (never shared through the linker with code that may run on a CPU
// without AVX2), and the functions declared here are defined and called only
// in those files.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "kernels/activation_avx2.h"
#include "kernels/sgemm.h"
#include "kernels/simd_avx2.h"

namespace loadrun {
namespace kernels {
namespace avx2 {

constexpr int64_t kMR = 6, kNR = 16;  // the micro-kernel's tile of C

static inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t round_up(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

// Finishes count raw sums acc[0..count) into y[j*incy]:
// y = act(alpha*acc + beta*y + bias[j*bias_inc]) (beta == 0: y is not read),
// the activation by the vector definition, as for full tiles.
static inline void finish_scalar(const float* acc, int64_t count, float alpha, float beta,
                                 float* y, int64_t incy, const float* bias, int64_t bias_inc,
                                 const Epilogue& ep) {
  alignas(32) float t[16];
  for (int64_t j0 = 0; j0 < count; j0 += 16) {
    const int64_t w = imin(16, count - j0);
    for (int64_t j = 0; j < w; ++j) {
      float v = alpha * acc[j0 + j];
      if (beta != 0.f) v += beta * y[(j0 + j) * incy];
      if (bias) v += bias[(j0 + j) * bias_inc];
      t[j] = v;
    }
    act_row(ep, t, w);
    for (int64_t j = 0; j < w; ++j) y[(j0 + j) * incy] = t[j];
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
