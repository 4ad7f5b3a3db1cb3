// SGEMM dispatch: the implementation of kernel_table() (the ISA level's), the epilogue shared by all implementations, and the weight
// packing helpers of sgemm_weights.h.
#include "kernels/sgemm.h"

#include <algorithm>
#include <cmath>

#include "kernels/kernel_table.h"
#include "kernels/sgemm_weights.h"

namespace loadrun {
namespace kernels {

namespace {

const SgemmImpl& impl() { return kernel_table().sgemm; }

}  // namespace

void apply_epilogue(const Epilogue& ep, float* c, int64_t ldc, int64_t m, int64_t n,
                    int64_t row0, int64_t col0) {
  for (int64_t i = 0; i < m; ++i) {
    float* ci = c + i * ldc;
    if (ep.bias) {
      if (ep.bias_mode == Epilogue::kPerRow) {
        float bv = ep.bias[row0 + i];
        for (int64_t j = 0; j < n; ++j) ci[j] += bv;
      } else {
        const float* bj = ep.bias + col0;
        for (int64_t j = 0; j < n; ++j) ci[j] += bj[j];
      }
    }
    if (ep.residual) {
      const float* r = ep.residual + (row0 + i) * ep.res_ld + col0;
      for (int64_t j = 0; j < n; ++j) ci[j] += r[j];
    }
    if (ep.act != Act::kNone) kernel_table().eltwise.act(ep.act, ci, ci, n, ep.p0, ep.p1);
  }
}

namespace {

// The GEMV and k == 0 paths of the implementations know bias and activation
// only: with a residual they run with the bias, and the residual and the
// activation follow in one pass over C.
bool split_residual(const Epilogue& ep, int64_t m, int64_t n, int64_t k, Epilogue* pre,
                    Epilogue* post) {
  if (!ep.residual || (m != 1 && n != 1 && k > 0)) return false;
  *pre = ep;
  pre->residual = nullptr;
  pre->act = Act::kNone;
  *post = ep;
  post->bias = nullptr;
  return true;
}

}  // namespace

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc, const Epilogue& ep) {
  Epilogue pre, post;
  if (split_residual(ep, m, n, k, &pre, &post)) {
    impl().gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, pre);
    return apply_epilogue(post, c, ldc, m, n);
  }
  impl().gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep);
}

size_t sgemm_packed_a_floats(int64_t m, int64_t k) { return impl().packed_a_floats(m, k); }
void sgemm_pack_a(bool trans_a, int64_t m, int64_t k, const float* a, int64_t lda,
                  float* packed) {
  impl().pack_a(trans_a, m, k, a, lda, packed);
}
void sgemm_packed_a(bool trans_b, int64_t m, int64_t n, int64_t k, const float* packed_a,
                    const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
                    const Epilogue& ep) {
  Epilogue pre, post;
  if (split_residual(ep, m, n, k, &pre, &post)) {
    impl().packed_a(trans_b, m, n, k, packed_a, b, ldb, beta, c, ldc, pre);
    return apply_epilogue(post, c, ldc, m, n);
  }
  impl().packed_a(trans_b, m, n, k, packed_a, b, ldb, beta, c, ldc, ep);
}

size_t sgemm_packed_b_floats(int64_t k, int64_t n) { return impl().packed_b_floats(k, n); }
void sgemm_pack_b(bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb,
                  float* packed) {
  impl().pack_b(trans_b, k, n, b, ldb, packed);
}
void sgemm_packed_b(bool trans_a, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                    const float* packed_b, float beta, float* c, int64_t ldc,
                    const Epilogue& ep) {
  Epilogue pre, post;
  if (split_residual(ep, m, n, k, &pre, &post)) {
    impl().packed_b(trans_a, m, n, k, a, lda, packed_b, beta, c, ldc, pre);
    return apply_epilogue(post, c, ldc, m, n);
  }
  impl().packed_b(trans_a, m, n, k, a, lda, packed_b, beta, c, ldc, ep);
}

const char* sgemm_impl_name() { return impl().name; }

}  // namespace kernels
}  // namespace loadrun

// ---- sgemm_weights.h --------------------------------------------------------

namespace loadrun {
namespace kernels {

std::shared_ptr<const SgemmPackedB> sgemm_pack_b_weights(bool trans_b, int64_t k, int64_t n,
                                                         const float* b, int64_t ldb,
                                                         int64_t count, int64_t stride,
                                                         float alpha) {
  auto p = std::make_shared<SgemmPackedB>();
  p->per_matrix = sgemm_packed_b_floats(k, n);
  p->data.resize(p->per_matrix * static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    sgemm_pack_b(trans_b, k, n, b + i * stride, ldb, p->data.data() + i * p->per_matrix);
  if (alpha != 1.f)
    for (float& v : p->data) v *= alpha;
  return p;
}

size_t sgemm_packed_b_workspace(int64_t k, int64_t n) {
  return sgemm_packed_b_floats(k, n) * sizeof(float) + 64;
}

float* sgemm_workspace_ptr(void* workspace) {
  uintptr_t p = reinterpret_cast<uintptr_t>(workspace);
  return reinterpret_cast<float*>((p + 63) & ~uintptr_t(63));
}

}  // namespace kernels
}  // namespace loadrun
