// Portable SGEMM: plain C++ loops, for CPUs without AVX2+FMA (and the ARM
// build until it gets its own kernels). C = alpha*op(A)*op(B) + beta*C is
// computed row by row in i-k-j order so the inner loop streams a row of
// op(B) and a row of C; a transposed B is first read as columns (i-j-k dot
// products). "Packing" here just stores op(X) contiguously.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/sgemm.h"
#include "kernels/sgemm_impl.h"

namespace loadrun {
namespace kernels {

namespace {

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
          const Epilogue& ep) {
  for (int64_t i = 0; i < m; ++i) {
    float* ci = c + i * ldc;
    if (beta == 0.f) {
      std::fill(ci, ci + n, 0.f);
    } else if (beta != 1.f) {
      for (int64_t j = 0; j < n; ++j) ci[j] *= beta;
    }
    if (!tb) {
      for (int64_t p = 0; p < k; ++p) {
        float av = alpha * (ta ? a[p * lda + i] : a[i * lda + p]);
        const float* bp = b + p * ldb;
        for (int64_t j = 0; j < n; ++j) ci[j] += av * bp[j];
      }
    } else {
      for (int64_t j = 0; j < n; ++j) {
        const float* bj = b + j * ldb;
        float s = 0.f;
        for (int64_t p = 0; p < k; ++p) s += (ta ? a[p * lda + i] : a[i * lda + p]) * bj[p];
        ci[j] += alpha * s;
      }
    }
  }
  if (!ep.empty()) apply_epilogue(ep, c, ldc, m, n);
}

void pack_a(bool ta, int64_t m, int64_t k, const float* a, int64_t lda, float* packed) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p) packed[i * k + p] = ta ? a[p * lda + i] : a[i * lda + p];
}

void packed_a(bool tb, int64_t m, int64_t n, int64_t k, const float* pa, const float* b,
              int64_t ldb, float beta, float* c, int64_t ldc, const Epilogue& ep) {
  gemm(false, tb, m, n, k, 1.f, pa, k, b, ldb, beta, c, ldc, ep);
}

void pack_b(bool tb, int64_t k, int64_t n, const float* b, int64_t ldb, float* packed) {
  for (int64_t p = 0; p < k; ++p)
    for (int64_t j = 0; j < n; ++j) packed[p * n + j] = tb ? b[j * ldb + p] : b[p * ldb + j];
}

void packed_b(bool ta, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
              const float* pb, float beta, float* c, int64_t ldc, const Epilogue& ep) {
  gemm(ta, false, m, n, k, 1.f, a, lda, pb, n, beta, c, ldc, ep);
}

size_t packed_a_floats(int64_t m, int64_t k) { return static_cast<size_t>(m * k); }
size_t packed_b_floats(int64_t k, int64_t n) { return static_cast<size_t>(k * n); }

}  // namespace

const SgemmImpl& sgemm_portable_impl() {
  static const SgemmImpl impl{"portable", gemm,     packed_a_floats, pack_a,
                              packed_a,   packed_b_floats, pack_b,   packed_b, 1, 0};
  return impl;
}

}  // namespace kernels
}  // namespace loadrun
