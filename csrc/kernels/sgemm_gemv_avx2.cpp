// AVX2+FMA matrix-vector products: the m == 1 and n == 1 cases of SGEMM
// (a batch-1 fully connected layer, MatMul by a 1-D operand). These are
// memory bound (each matrix element is used once), so the kernels only make
// sure every load feeds an FMA and enough independent FMA chains (8) are in
// flight to hide the 4-cycle FMA latency:
// - B stored k x n (op(B) rows contiguous): 64 columns at a time, 8 vector
//   accumulators, one broadcast x[p] per row of B streamed;
// - B stored n x k (dot products along contiguous rows): 4 rows at a time,
//   2 accumulators each, horizontal sums at the end;
// - pre-packed B (panels of 16 columns, K rows): each panel is one
//   contiguous stream, 4 rows of it per step into 8 accumulators.
// Cost O(n*k) FMAs and one pass over the matrix; no workspace.
#include "kernels/sgemm_avx2_common.h"

namespace loadrun {
namespace kernels {
namespace avx2 {

namespace {

// sums[j] = sum_p x[p] * b[p*ldb + j] for j < w (w <= 64).
void rows_block(int64_t w, int64_t k, const float* x, const float* b, int64_t ldb,
                float* sums) {
  if (w == 64) {
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0,
           c7 = c0;
    for (int64_t p = 0; p < k; ++p) {
      const float* r = b + p * ldb;
      __m256 xv = _mm256_broadcast_ss(x + p);
      c0 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r + 0), c0);
      c1 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r + 8), c1);
      c2 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r + 16), c2);
      c3 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r + 24), c3);
      c4 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r + 32), c4);
      c5 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r + 40), c5);
      c6 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r + 48), c6);
      c7 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r + 56), c7);
    }
    _mm256_storeu_ps(sums + 0, c0);
    _mm256_storeu_ps(sums + 8, c1);
    _mm256_storeu_ps(sums + 16, c2);
    _mm256_storeu_ps(sums + 24, c3);
    _mm256_storeu_ps(sums + 32, c4);
    _mm256_storeu_ps(sums + 40, c5);
    _mm256_storeu_ps(sums + 48, c6);
    _mm256_storeu_ps(sums + 56, c7);
    return;
  }
  // A narrower tail: whole vectors, then one masked vector.
  const int64_t nv = (w + 7) / 8;
  const __m256i last = tail_mask(w - (nv - 1) * 8);
  __m256 c[8];
  for (int64_t q = 0; q < nv; ++q) c[q] = _mm256_setzero_ps();
  for (int64_t p = 0; p < k; ++p) {
    const float* r = b + p * ldb;
    __m256 xv = _mm256_broadcast_ss(x + p);
    for (int64_t q = 0; q + 1 < nv; ++q)
      c[q] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r + 8 * q), c[q]);
    c[nv - 1] = _mm256_fmadd_ps(xv, _mm256_maskload_ps(r + 8 * (nv - 1), last), c[nv - 1]);
  }
  alignas(32) float tmp[64];
  for (int64_t q = 0; q < nv; ++q) _mm256_store_ps(tmp + 8 * q, c[q]);
  for (int64_t j = 0; j < w; ++j) sums[j] = tmp[j];
}

// sums[r] = dot(x, b + r*ldb) over k, for r < rows (rows <= 4).
void dots_block(int64_t rows, int64_t k, const float* x, const float* b, int64_t ldb,
                float* sums) {
  const float* r0 = b;
  const float* r1 = rows > 1 ? b + ldb : b;
  const float* r2 = rows > 2 ? b + 2 * ldb : b;
  const float* r3 = rows > 3 ? b + 3 * ldb : b;
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0,
         d1 = a0;
  int64_t p = 0;
  for (; p + 16 <= k; p += 16) {
    __m256 x0 = _mm256_loadu_ps(x + p), x1 = _mm256_loadu_ps(x + p + 8);
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + p), x0, a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + p + 8), x1, a1);
    b0 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + p), x0, b0);
    b1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + p + 8), x1, b1);
    c0 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + p), x0, c0);
    c1 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + p + 8), x1, c1);
    d0 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + p), x0, d0);
    d1 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + p + 8), x1, d1);
  }
  for (; p < k; p += 8) {
    const __m256i mk = tail_mask(imin(8, k - p));
    __m256 x0 = _mm256_maskload_ps(x + p, mk);
    a0 = _mm256_fmadd_ps(_mm256_maskload_ps(r0 + p, mk), x0, a0);
    b0 = _mm256_fmadd_ps(_mm256_maskload_ps(r1 + p, mk), x0, b0);
    c0 = _mm256_fmadd_ps(_mm256_maskload_ps(r2 + p, mk), x0, c0);
    d0 = _mm256_fmadd_ps(_mm256_maskload_ps(r3 + p, mk), x0, d0);
  }
  float s[4] = {hsum8(_mm256_add_ps(a0, a1)), hsum8(_mm256_add_ps(b0, b1)),
                hsum8(_mm256_add_ps(c0, c1)), hsum8(_mm256_add_ps(d0, d1))};
  for (int64_t r = 0; r < rows; ++r) sums[r] = s[r];
}

}  // namespace

void gemv(int64_t n, int64_t k, float alpha, const float* x, const float* b, int64_t ldb,
          bool b_rows_are_n, float beta, float* y, int64_t incy, const float* bias,
          int64_t bias_inc, const Epilogue& ep) {
  alignas(32) float sums[64];
  const int64_t step = b_rows_are_n ? 4 : 64;
  for (int64_t j0 = 0; j0 < n; j0 += step) {
    const int64_t w = imin(step, n - j0);
    if (b_rows_are_n)
      dots_block(w, k, x, b + j0 * ldb, ldb, sums);
    else
      rows_block(w, k, x, b + j0, ldb, sums);
    finish_scalar(sums, w, alpha, beta, y + j0 * incy, incy, bias ? bias + j0 * bias_inc : nullptr,
                  bias_inc, ep);
  }
}

void gemv_packed_b(int64_t n, int64_t k, const float* x, const float* packed, float beta,
                   float* y, const float* bias, int64_t bias_inc, const Epilogue& ep) {
  alignas(32) float sums[16];
  for (int64_t j0 = 0; j0 < n; j0 += 16) {
    const float* pnl = packed + (j0 / 16) * k * 16;
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0,
           c7 = c0;
    int64_t p = 0;
    for (; p + 4 <= k; p += 4) {
      const float* r = pnl + p * 16;
      __m256 x0 = _mm256_broadcast_ss(x + p), x1 = _mm256_broadcast_ss(x + p + 1);
      __m256 x2 = _mm256_broadcast_ss(x + p + 2), x3 = _mm256_broadcast_ss(x + p + 3);
      c0 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(r + 0), c0);
      c1 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(r + 8), c1);
      c2 = _mm256_fmadd_ps(x1, _mm256_loadu_ps(r + 16), c2);
      c3 = _mm256_fmadd_ps(x1, _mm256_loadu_ps(r + 24), c3);
      c4 = _mm256_fmadd_ps(x2, _mm256_loadu_ps(r + 32), c4);
      c5 = _mm256_fmadd_ps(x2, _mm256_loadu_ps(r + 40), c5);
      c6 = _mm256_fmadd_ps(x3, _mm256_loadu_ps(r + 48), c6);
      c7 = _mm256_fmadd_ps(x3, _mm256_loadu_ps(r + 56), c7);
    }
    for (; p < k; ++p) {
      const float* r = pnl + p * 16;
      __m256 x0 = _mm256_broadcast_ss(x + p);
      c0 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(r + 0), c0);
      c1 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(r + 8), c1);
    }
    _mm256_store_ps(sums, _mm256_add_ps(_mm256_add_ps(c0, c2), _mm256_add_ps(c4, c6)));
    _mm256_store_ps(sums + 8, _mm256_add_ps(_mm256_add_ps(c1, c3), _mm256_add_ps(c5, c7)));
    finish_scalar(sums, imin(16, n - j0), 1.f, beta, y + j0, 1,
                  bias ? bias + j0 * bias_inc : nullptr, bias_inc, ep);
  }
}

void gemv_packed_a(int64_t m, int64_t k, const float* packed, const float* x, float beta,
                   float* y, int64_t incy, const float* bias, int64_t bias_inc,
                   const Epilogue& ep) {
  // A panel stores 6 rows per k step; a 6-lane masked load reads one step.
  const __m256i m6 = tail_mask(6);
  alignas(32) float sums[8];
  for (int64_t i0 = 0; i0 < m; i0 += 6) {
    const float* pnl = packed + (i0 / 6) * k * 6;
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
    int64_t p = 0;
    for (; p + 4 <= k; p += 4) {
      const float* r = pnl + p * 6;
      c0 = _mm256_fmadd_ps(_mm256_maskload_ps(r, m6), _mm256_broadcast_ss(x + p), c0);
      c1 = _mm256_fmadd_ps(_mm256_maskload_ps(r + 6, m6), _mm256_broadcast_ss(x + p + 1), c1);
      c2 = _mm256_fmadd_ps(_mm256_maskload_ps(r + 12, m6), _mm256_broadcast_ss(x + p + 2), c2);
      c3 = _mm256_fmadd_ps(_mm256_maskload_ps(r + 18, m6), _mm256_broadcast_ss(x + p + 3), c3);
    }
    for (; p < k; ++p)
      c0 = _mm256_fmadd_ps(_mm256_maskload_ps(pnl + p * 6, m6), _mm256_broadcast_ss(x + p), c0);
    _mm256_store_ps(sums, _mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)));
    finish_scalar(sums, imin(6, m - i0), 1.f, beta, y + i0 * incy, incy,
                  bias ? bias + i0 * bias_inc : nullptr, bias_inc, ep);
  }
}

}  // namespace avx2
}  // namespace kernels
}  // namespace loadrun
