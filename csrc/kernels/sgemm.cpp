// SGEMM dispatch: the implementation of kernel_table() (the ISA level's), the
// threaded split of a product into slices of C (one per thread), the epilogue
// shared by all implementations, and the weight packing helpers of
// sgemm_weights.h.
#include "kernels/sgemm.h"

#include <algorithm>
#include <cmath>

#include "kernels/kernel_table.h"
#include "kernels/sgemm_weights.h"
#include "runtime/comp_node.h"

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

namespace {

// ---- the threaded split ------------------------------------------------------
//
// C is cut into slices of whole units of rows (or columns): a unit is the
// micro-kernel's panel (mr rows, nr columns: a packed operand is sliced at a
// panel boundary) or, for the GEMV paths, 192 (a multiple of every GEMV
// kernel's column block, so a slice's blocks are the whole one's). Each
// element of C is still summed by one accumulator over k in the same order,
// whichever tile shape computes it, so the bits are the whole product's
// (tests/test_threads_kernels.py). Every slice holds 2 units or more, so a
// slice never turns into the GEMV path the whole product does not take. The
// dimension split is the one whose units divide over the threads
// for the least time per thread: its share of the multiply-adds plus the
// packing it repeats, since each thread packs its own slice of the split
// operand but all of the other one (nothing for an operand packed
// beforehand: weights).
constexpr int64_t kGemvUnit = 192;
// Packing one float costs about this many multiply-adds (a strided read and
// a write against 2 FMAs per cycle and lane).
constexpr double kPackCostInMacs = 16.0;

struct SplitPlan {
  bool by_rows = false;
  int64_t units = 0, unit = 1, grain = 1;
};

// mu / nu: the row / column unit; 0 when that dimension may not be split.
// a_packed / b_packed: that operand comes packed (no thread repeats it).
bool plan_split(CompNode* cn, int64_t m, int64_t n, int64_t k, int64_t mu, int64_t nu,
                bool a_packed, bool b_packed, SplitPlan* plan) {
  if (!cn || k <= 0) return false;
  const int64_t threads = cn->num_threads();
  if (threads < 2) return false;
  const double macs = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  const int64_t want =
      static_cast<int64_t>(std::min<double>(threads, macs / kSgemmMacsPerThread));
  if (want < 2) return false;
  // Time in multiply-adds: the longest slice's, plus the packing its thread
  // does (the whole of the operand not split, its share of the split one).
  const double pack_a = a_packed ? 0.0 : static_cast<double>(m) * static_cast<double>(k);
  const double pack_b = b_packed ? 0.0 : static_cast<double>(k) * static_cast<double>(n);
  double best = macs + kPackCostInMacs * (pack_a + pack_b);  // one thread
  int64_t best_d = 0;
  for (int rows = 0; rows < 2; ++rows) {
    const int64_t d = rows ? m : n, unit = rows ? mu : nu;
    if (unit <= 0) continue;
    const int64_t units = (d + unit - 1) / unit, parts = std::min(want, units / 2);
    if (parts < 2) continue;
    const int64_t per = (units + parts - 1) / parts;
    const double share = static_cast<double>(per) / static_cast<double>(units);
    const double time = macs * share + kPackCostInMacs * (rows ? pack_a * share + pack_b
                                                               : pack_a + pack_b * share);
    if (time < best * (1 - 1e-9) || (time < best * (1 + 1e-9) && d > best_d)) {
      best = time;
      best_d = d;
      plan->by_rows = rows != 0;
      plan->units = units;
      plan->unit = unit;
      plan->grain = per;
    }
  }
  return best_d > 0;
}

// Runs f(i0, rows, j0, cols) over the slices of C (the whole of it when the
// product is too small to split or cn is null).
template <class F>
void run_split(CompNode* cn, int64_t m, int64_t n, int64_t k, int64_t mu, int64_t nu,
               bool a_packed, bool b_packed, const F& f) {
  SplitPlan p;
  if (!plan_split(cn, m, n, k, mu, nu, a_packed, b_packed, &p)) return f(0, m, 0, n);
  const int64_t d = p.by_rows ? m : n;
  loadrun::parallel_for(
      cn, p.units,
      [&](int64_t b, int64_t e, int) {
        const int64_t s = b * p.unit, t = std::min(d, e * p.unit);
        if (p.by_rows) {
          f(s, t - s, int64_t{0}, n);
        } else {
          f(int64_t{0}, m, s, t - s);
        }
      },
      p.grain);
}

// The epilogue of the slice whose top-left element is (i0, j0) of C.
Epilogue slice_epilogue(const Epilogue& ep, int64_t i0, int64_t j0) {
  Epilogue e = ep;
  if (e.bias) e.bias += e.bias_mode == Epilogue::kPerRow ? i0 : j0;
  if (e.residual) e.residual += i0 * e.res_ld + j0;
  return e;
}

int64_t row_unit(int64_t m, int64_t n) { return m == 1 || n == 1 ? kGemvUnit : impl().mr; }
int64_t col_unit(int64_t m, int64_t n) {
  return m == 1 || n == 1 ? kGemvUnit : (impl().nr > 0 ? impl().nr : 16);
}

void sgemm_one(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
               int64_t ldc, const Epilogue& ep) {
  Epilogue pre, post;
  if (split_residual(ep, m, n, k, &pre, &post)) {
    impl().gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, pre);
    return apply_epilogue(post, c, ldc, m, n);
  }
  impl().gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep);
}

void packed_a_one(bool trans_b, int64_t m, int64_t n, int64_t k, const float* packed_a,
                  const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
                  const Epilogue& ep) {
  Epilogue pre, post;
  if (split_residual(ep, m, n, k, &pre, &post)) {
    impl().packed_a(trans_b, m, n, k, packed_a, b, ldb, beta, c, ldc, pre);
    return apply_epilogue(post, c, ldc, m, n);
  }
  impl().packed_a(trans_b, m, n, k, packed_a, b, ldb, beta, c, ldc, ep);
}

void packed_b_one(bool trans_a, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                  const float* packed_b, float beta, float* c, int64_t ldc,
                  const Epilogue& ep) {
  Epilogue pre, post;
  if (split_residual(ep, m, n, k, &pre, &post)) {
    impl().packed_b(trans_a, m, n, k, a, lda, packed_b, beta, c, ldc, pre);
    return apply_epilogue(post, c, ldc, m, n);
  }
  impl().packed_b(trans_a, m, n, k, a, lda, packed_b, beta, c, ldc, ep);
}

}  // namespace

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc, const Epilogue& ep, CompNode* cn) {
  run_split(cn, m, n, k, row_unit(m, n), col_unit(m, n), false, false,
            [&](int64_t i0, int64_t ms, int64_t j0, int64_t ns) {
              sgemm_one(trans_a, trans_b, ms, ns, k, alpha, trans_a ? a + i0 : a + i0 * lda,
                        lda, trans_b ? b + j0 * ldb : b + j0, ldb, beta, c + i0 * ldc + j0, ldc,
                        i0 || j0 ? slice_epilogue(ep, i0, j0) : ep);
            });
}

size_t sgemm_packed_a_floats(int64_t m, int64_t k) { return impl().packed_a_floats(m, k); }
void sgemm_pack_a(bool trans_a, int64_t m, int64_t k, const float* a, int64_t lda,
                  float* packed) {
  impl().pack_a(trans_a, m, k, a, lda, packed);
}
void sgemm_packed_a(bool trans_b, int64_t m, int64_t n, int64_t k, const float* packed_a,
                    const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
                    const Epilogue& ep, CompNode* cn) {
  run_split(cn, m, n, k, row_unit(m, n), col_unit(m, n), true, false,
            [&](int64_t i0, int64_t ms, int64_t j0, int64_t ns) {
              packed_a_one(trans_b, ms, ns, k, packed_a + i0 * k,
                           trans_b ? b + j0 * ldb : b + j0, ldb, beta, c + i0 * ldc + j0, ldc,
                           i0 || j0 ? slice_epilogue(ep, i0, j0) : ep);
            });
}

size_t sgemm_packed_b_floats(int64_t k, int64_t n) { return impl().packed_b_floats(k, n); }
void sgemm_pack_b(bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb,
                  float* packed, CompNode* cn) {
  const int64_t nr = impl().nr, units = nr > 0 ? (n + nr - 1) / nr : 0;
  // About 64k floats per range: less is not worth a dispatch.
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(k * nr, 1));
  if (!cn || units < 2 * grain) return impl().pack_b(trans_b, k, n, b, ldb, packed);
  loadrun::parallel_for(
      cn, units,
      [&](int64_t u0, int64_t u1, int) {
        const int64_t j0 = u0 * nr, j1 = std::min(n, u1 * nr);
        impl().pack_b(trans_b, k, j1 - j0, trans_b ? b + j0 * ldb : b + j0, ldb, packed + j0 * k);
      },
      grain);
}
void sgemm_packed_b(bool trans_a, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                    const float* packed_b, float beta, float* c, int64_t ldc,
                    const Epilogue& ep, CompNode* cn) {
  const int64_t nu = impl().nr > 0 ? col_unit(m, n) : 0;  // nr == 0: no column slices
  run_split(cn, m, n, k, row_unit(m, n), nu, false, true,
            [&](int64_t i0, int64_t ms, int64_t j0, int64_t ns) {
              packed_b_one(trans_a, ms, ns, k, trans_a ? a + i0 : a + i0 * lda, lda,
                           packed_b + j0 * k, beta, c + i0 * ldc + j0, ldc,
                           i0 || j0 ? slice_epilogue(ep, i0, j0) : ep);
            });
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
