// NEON matrix-vector products: the m == 1 and n == 1 cases of SGEMM (a
// batch-1 fully connected layer, MatMul by a 1-D operand). Memory bound, as
// on x86 (sgemm_gemv_avx2.cpp, the same structure): each load feeds an FMA
// and 8 independent FMA chains are in flight:
// - B stored k x n (op(B) rows contiguous): 32 columns at a time, 8 vector
//   accumulators, x[p] by lane (FMLA by element) per row of B streamed;
// - B stored n x k (dot products along contiguous rows): 4 rows at a time,
//   2 accumulators each, horizontal sums (FADDP) at the end;
// - pre-packed B (panels of 12 columns): each panel one contiguous stream,
//   2 k steps into 6 accumulators;
// - pre-packed A (panels of 8 rows): 8 rows per step, 2 k steps at a time.
// Cost O(n*k) FMAs and one pass over the matrix; no workspace.
#include "kernels/sgemm_neon_common.h"

namespace loadrun {
namespace kernels {
namespace neon {

namespace {

// sums[j] = sum_p x[p] * b[p*ldb + j] for j < w (w <= 32).
void rows_block(int64_t w, int64_t k, const float* x, const float* b, int64_t ldb,
                float* sums) {
  if (w == 32) {
    const float32x4_t z = vdupq_n_f32(0.f);
    float32x4_t c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z;
    for (int64_t p = 0; p < k; ++p) {
      const float* r = b + p * ldb;
      const float xv = x[p];
      c0 = vfmaq_n_f32(c0, vld1q_f32(r + 0), xv);
      c1 = vfmaq_n_f32(c1, vld1q_f32(r + 4), xv);
      c2 = vfmaq_n_f32(c2, vld1q_f32(r + 8), xv);
      c3 = vfmaq_n_f32(c3, vld1q_f32(r + 12), xv);
      c4 = vfmaq_n_f32(c4, vld1q_f32(r + 16), xv);
      c5 = vfmaq_n_f32(c5, vld1q_f32(r + 20), xv);
      c6 = vfmaq_n_f32(c6, vld1q_f32(r + 24), xv);
      c7 = vfmaq_n_f32(c7, vld1q_f32(r + 28), xv);
    }
    vst1q_f32(sums + 0, c0);
    vst1q_f32(sums + 4, c1);
    vst1q_f32(sums + 8, c2);
    vst1q_f32(sums + 12, c3);
    vst1q_f32(sums + 16, c4);
    vst1q_f32(sums + 20, c5);
    vst1q_f32(sums + 24, c6);
    vst1q_f32(sums + 28, c7);
    return;
  }
  // A narrower tail: whole vectors, then the last columns one by one.
  const int64_t nv = w / 4;
  float32x4_t c[8];
  for (int64_t q = 0; q < nv; ++q) c[q] = vdupq_n_f32(0.f);
  float tail[4] = {0.f, 0.f, 0.f, 0.f};
  for (int64_t p = 0; p < k; ++p) {
    const float* r = b + p * ldb;
    const float xv = x[p];
    for (int64_t q = 0; q < nv; ++q) c[q] = vfmaq_n_f32(c[q], vld1q_f32(r + 4 * q), xv);
    for (int64_t j = 4 * nv; j < w; ++j) tail[j - 4 * nv] += xv * r[j];
  }
  for (int64_t q = 0; q < nv; ++q) vst1q_f32(sums + 4 * q, c[q]);
  for (int64_t j = 4 * nv; j < w; ++j) sums[j] = tail[j - 4 * nv];
}

// sums[r] = dot(x, b + r*ldb) over k, for r < rows (rows <= 4).
void dots_block(int64_t rows, int64_t k, const float* x, const float* b, int64_t ldb,
                float* sums) {
  const float* r0 = b;
  const float* r1 = rows > 1 ? b + ldb : b;
  const float* r2 = rows > 2 ? b + 2 * ldb : b;
  const float* r3 = rows > 3 ? b + 3 * ldb : b;
  const float32x4_t z = vdupq_n_f32(0.f);
  float32x4_t a0 = z, a1 = z, b0 = z, b1 = z, c0 = z, c1 = z, d0 = z, d1 = z;
  int64_t p = 0;
  for (; p + 8 <= k; p += 8) {
    const float32x4_t x0 = vld1q_f32(x + p), x1 = vld1q_f32(x + p + 4);
    a0 = vfmaq_f32(a0, vld1q_f32(r0 + p), x0);
    a1 = vfmaq_f32(a1, vld1q_f32(r0 + p + 4), x1);
    b0 = vfmaq_f32(b0, vld1q_f32(r1 + p), x0);
    b1 = vfmaq_f32(b1, vld1q_f32(r1 + p + 4), x1);
    c0 = vfmaq_f32(c0, vld1q_f32(r2 + p), x0);
    c1 = vfmaq_f32(c1, vld1q_f32(r2 + p + 4), x1);
    d0 = vfmaq_f32(d0, vld1q_f32(r3 + p), x0);
    d1 = vfmaq_f32(d1, vld1q_f32(r3 + p + 4), x1);
  }
  float s[4] = {vaddvq_f32(vaddq_f32(a0, a1)), vaddvq_f32(vaddq_f32(b0, b1)),
                vaddvq_f32(vaddq_f32(c0, c1)), vaddvq_f32(vaddq_f32(d0, d1))};
  for (; p < k; ++p) {
    s[0] += r0[p] * x[p];
    s[1] += r1[p] * x[p];
    s[2] += r2[p] * x[p];
    s[3] += r3[p] * x[p];
  }
  for (int64_t r = 0; r < rows; ++r) sums[r] = s[r];
}

}  // namespace

void gemv(int64_t n, int64_t k, float alpha, const float* x, const float* b, int64_t ldb,
          bool b_rows_are_n, float beta, float* y, int64_t incy, const float* bias,
          int64_t bias_inc, const Epilogue& ep) {
  float sums[32];
  const int64_t step = b_rows_are_n ? 4 : 32;
  for (int64_t j0 = 0; j0 < n; j0 += step) {
    const int64_t w = imin(step, n - j0);
    if (b_rows_are_n)
      dots_block(w, k, x, b + j0 * ldb, ldb, sums);
    else
      rows_block(w, k, x, b + j0, ldb, sums);
    finish(sums, w, alpha, beta, y + j0 * incy, incy, bias ? bias + j0 * bias_inc : nullptr,
           bias_inc, ep);
  }
}

void gemv_packed_b(int64_t n, int64_t k, const float* x, const float* packed, float beta,
                   float* y, const float* bias, int64_t bias_inc, const Epilogue& ep) {
  float sums[kNR];
  for (int64_t j0 = 0; j0 < n; j0 += kNR) {
    const float* pnl = packed + (j0 / kNR) * k * kNR;
    const float32x4_t z = vdupq_n_f32(0.f);
    float32x4_t c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z;
    int64_t p = 0;
    for (; p + 2 <= k; p += 2) {
      const float* r = pnl + p * kNR;
      const float x0 = x[p], x1 = x[p + 1];
      c0 = vfmaq_n_f32(c0, vld1q_f32(r + 0), x0);
      c1 = vfmaq_n_f32(c1, vld1q_f32(r + 4), x0);
      c2 = vfmaq_n_f32(c2, vld1q_f32(r + 8), x0);
      c3 = vfmaq_n_f32(c3, vld1q_f32(r + 12), x1);
      c4 = vfmaq_n_f32(c4, vld1q_f32(r + 16), x1);
      c5 = vfmaq_n_f32(c5, vld1q_f32(r + 20), x1);
    }
    if (p < k) {
      const float* r = pnl + p * kNR;
      c0 = vfmaq_n_f32(c0, vld1q_f32(r + 0), x[p]);
      c1 = vfmaq_n_f32(c1, vld1q_f32(r + 4), x[p]);
      c2 = vfmaq_n_f32(c2, vld1q_f32(r + 8), x[p]);
    }
    vst1q_f32(sums, vaddq_f32(c0, c3));
    vst1q_f32(sums + 4, vaddq_f32(c1, c4));
    vst1q_f32(sums + 8, vaddq_f32(c2, c5));
    finish(sums, imin(kNR, n - j0), 1.f, beta, y + j0, 1, bias ? bias + j0 * bias_inc : nullptr,
           bias_inc, ep);
  }
}

void gemv_packed_a(int64_t m, int64_t k, const float* packed, const float* x, float beta,
                   float* y, int64_t incy, const float* bias, int64_t bias_inc,
                   const Epilogue& ep) {
  float sums[kMR];
  for (int64_t i0 = 0; i0 < m; i0 += kMR) {
    const float* pnl = packed + (i0 / kMR) * k * kMR;
    const float32x4_t z = vdupq_n_f32(0.f);
    float32x4_t c0 = z, c1 = z, c2 = z, c3 = z;
    int64_t p = 0;
    for (; p + 2 <= k; p += 2) {
      const float* r = pnl + p * kMR;
      c0 = vfmaq_n_f32(c0, vld1q_f32(r + 0), x[p]);
      c1 = vfmaq_n_f32(c1, vld1q_f32(r + 4), x[p]);
      c2 = vfmaq_n_f32(c2, vld1q_f32(r + 8), x[p + 1]);
      c3 = vfmaq_n_f32(c3, vld1q_f32(r + 12), x[p + 1]);
    }
    if (p < k) {
      c0 = vfmaq_n_f32(c0, vld1q_f32(pnl + p * kMR), x[p]);
      c1 = vfmaq_n_f32(c1, vld1q_f32(pnl + p * kMR + 4), x[p]);
    }
    vst1q_f32(sums, vaddq_f32(c0, c2));
    vst1q_f32(sums + 4, vaddq_f32(c1, c3));
    finish(sums, imin(kMR, m - i0), 1.f, beta, y + i0 * incy, incy,
           bias ? bias + i0 * bias_inc : nullptr, bias_inc, ep);
  }
}

}  // namespace neon
}  // namespace kernels
}  // namespace loadrun
