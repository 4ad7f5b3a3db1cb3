// Pieces shared by the NEON SGEMM translation units (sgemm_neon.cpp,
// sgemm_pack_neon.cpp, sgemm_gemv_neon.cpp). Include ONLY from *_neon.cpp
// files (aarch64 builds only); the functions declared here are defined and
// called only in those files.
#pragma once
#include <arm_neon.h>

#include <cstdint>

#include "kernels/activation_neon.h"
#include "kernels/sgemm.h"

namespace loadrun {
namespace kernels {
namespace neon {

constexpr int64_t kMR = 8, kNR = 12;  // the micro-kernel's tile of C

inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t round_up(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

// Packing (sgemm_pack_neon.cpp): rows [i0, i0+mc) x cols [p0, p0+kc) of
// op(A) into panels of 8 rows (stride kc*8), and rows [p0, p0+kc) x cols
// [j0, j0+nc) of op(B) into panels of 12 columns (stride kc*12); k-major,
// zero-padded to whole panels.
void pack_a_block(const float* a, int64_t lda, bool ta, int64_t i0, int64_t mc, int64_t p0,
                  int64_t kc, float* dst);
void pack_b_block(const float* b, int64_t ldb, bool tb, int64_t p0, int64_t kc, int64_t j0,
                  int64_t nc, float* dst);

// Finishes count raw sums acc[0..count) into y[j*incy]:
// y = act(alpha*acc + beta*y + bias[j*bias_inc]) (beta == 0: y is not read),
// the activation by the vector definition, as for full tiles.
inline void finish(const float* acc, int64_t count, float alpha, float beta, float* y,
                   int64_t incy, const float* bias, int64_t bias_inc, const Epilogue& ep) {
  float t[16];
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

// GEMV paths (sgemm_gemv_neon.cpp), as sgemm_avx2_common.h's: y has n
// entries at stride incy; x is contiguous with k entries; bias (may be null)
// is read at stride bias_inc (0: one value for all); ep supplies the
// activation only. op(B) is k x n: stored n x k (b_rows_are_n) or k x n.
void gemv(int64_t n, int64_t k, float alpha, const float* x, const float* b, int64_t ldb,
          bool b_rows_are_n, float beta, float* y, int64_t incy, const float* bias,
          int64_t bias_inc, const Epilogue& ep);
// op(B) pre-packed in panels of 12 columns (pack_b format).
void gemv_packed_b(int64_t n, int64_t k, const float* x, const float* packed, float beta,
                   float* y, const float* bias, int64_t bias_inc, const Epilogue& ep);
// y[i] (i < m, stride incy) = row i of a pre-packed A (panels of 8 rows) . x.
void gemv_packed_a(int64_t m, int64_t k, const float* packed, const float* x, float beta,
                   float* y, int64_t incy, const float* bias, int64_t bias_inc,
                   const Epilogue& ep);

}  // namespace neon
}  // namespace kernels
}  // namespace loadrun
