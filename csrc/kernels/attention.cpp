// Tiled multi-head attention on float32: see attention.h.
#include "kernels/attention.h"

#include <algorithm>
#include <cmath>

#include "kernels/kernel_table.h"
#include "kernels/sgemm.h"
#include "runtime/comp_node.h"

namespace loadrun {
namespace kernels {

namespace {
constexpr int64_t kTileFloats = 32768;  // 128 KiB of scores per tile (L2-resident)
constexpr int64_t kMaxRows = 128;       // BERT-sized heads (S <= 128) in one block: K, V packed once
}

bool attention_block_usable(const AttentionArgs& a) {
  const bool q_ok = a.qs[3] == 1 || a.d <= 1;
  const bool k_ok = a.ks[3] == 1 || a.ks[2] == 1 || a.t <= 1 || a.d <= 1;
  const bool v_ok = a.vs[3] == 1 || a.vs[2] == 1 || a.dv <= 1 || a.t <= 1;
  const bool m_ok = !a.mask || a.ms[3] <= 1;  // a row of the mask: contiguous or one value
  return q_ok && k_ok && v_ok && m_ok && (a.os[3] == 1 || a.dv <= 1);
}

int64_t attention_block_rows(const AttentionArgs& a) {
  int64_t r = a.t > 0 ? kTileFloats / a.t : a.s;
  r = std::max<int64_t>(8, std::min<int64_t>(r, kMaxRows));
  return std::min(r, std::max<int64_t>(a.s, 1));
}

size_t attention_scratch_floats(const AttentionArgs& a) {
  return static_cast<size_t>(attention_block_rows(a) * std::max<int64_t>(a.t, 1));
}

void attention_block(const AttentionArgs& a, int64_t b, int64_t h, int64_t s0, int64_t rows,
                     float* scratch) {
  const int64_t t = a.t;
  const float* q = a.q + b * a.qs[0] + h * a.qs[1] + s0 * a.qs[2];
  const int64_t g = h / a.kv_group;  // the KV head
  const float* k = a.k + g * a.ks[1] + b * a.ks[0];
  const float* v = a.v + g * a.vs[1] + b * a.vs[0];
  float* o = a.o + b * a.os[0] + h * a.os[1] + s0 * a.os[2];
  float* p = scratch;  // rows x t scores, then probabilities
  if (t == 0) {  // no keys: softmax over nothing, the context is empty sums
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < a.dv; ++j) o[i * a.os[2] + j] = 0.f;
    return;
  }
  // scores = scale * Q K^T: K as (d x t) row-major, or its transpose.
  const bool k_rows_t = a.ks[3] == 1 || t == 1;  // K[d, :] contiguous in t
  if (a.d == 0) {
    std::fill(p, p + rows * t, 0.f);
  } else if (k_rows_t) {
    sgemm(false, false, rows, t, a.d, a.scale, q, a.qs[2], k, a.ks[2], 0.f, p, t);
  } else {
    sgemm(false, true, rows, t, a.d, a.scale, q, a.qs[2], k, a.ks[3], 0.f, p, t);
  }
  const EltwiseImpl& ew = kernel_table().eltwise;
  for (int64_t i = 0; i < rows; ++i) {
    float* pr = p + i * t;
    if (a.mask) {
      const float* m = a.mask + b * a.ms[0] + h * a.ms[1] + (s0 + i) * a.ms[2];
      ew.binary(BinaryKind::Add, pr, 1, m, a.ms[3], pr, t);  // ms[3] 0: one value per row
    }
    ew.softmax_row(pr, pr, t, false);
  }
  if (a.dv == 0) return;
  const bool v_rows_dv = a.vs[3] == 1 || a.dv == 1;  // V[j, :] contiguous in dv
  if (v_rows_dv) {
    sgemm(false, false, rows, a.dv, t, 1.f, p, t, v, a.vs[2], 0.f, o, a.os[2]);
  } else {
    sgemm(false, true, rows, a.dv, t, 1.f, p, t, v, a.vs[3], 0.f, o, a.os[2]);
  }
}

namespace {
// Rows [s0, s0 + rows) of head (b, h) whose output the softmax made NaN and
// whose mask is -inf everywhere: zeros.
void zero_masked_rows(const AttentionArgs& a, int64_t b, int64_t h, int64_t s0, int64_t rows) {
  for (int64_t i = s0; i < s0 + rows; ++i) {
    float* y = a.o + b * a.os[0] + h * a.os[1] + i * a.os[2];
    bool nan = false;
    for (int64_t c = 0; c < a.dv && !nan; ++c) nan = std::isnan(y[c * a.os[3]]);
    if (!nan) continue;
    const float* m = a.mask + b * a.ms[0] + h * a.ms[1] + i * a.ms[2];
    bool all_ninf = a.t > 0;
    for (int64_t j = 0; j < a.t && all_ninf; ++j)
      all_ninf = std::isinf(m[j * a.ms[3]]) && m[j * a.ms[3]] < 0;
    if (all_ninf)
      for (int64_t c = 0; c < a.dv; ++c) y[c * a.os[3]] = 0.f;
  }
}
}  // namespace

void attention_run(const AttentionArgs& a, CompNode* cn, void* workspace, size_t workspace_stride) {
  const int64_t r = attention_block_rows(a);
  const int64_t blocks = (a.s + r - 1) / r;
  parallel_for(cn, a.batch * a.heads * blocks, [&](int64_t i0, int64_t i1, int tid) {
    char* slot = static_cast<char*>(workspace);
    if (slot) slot += static_cast<size_t>(tid) * workspace_stride;
    float* scratch = reinterpret_cast<float*>(slot);
    for (int64_t it = i0; it < i1; ++it) {
      const int64_t bh = it / blocks, b = bh / a.heads, h = bh % a.heads;
      const int64_t s0 = (it % blocks) * r, rows = std::min(r, a.s - s0);
      attention_block(a, b, h, s0, rows, scratch);
      if (a.zero_masked_rows && a.mask) zero_masked_rows(a, b, h, s0, rows);
    }
  });
}

}  // namespace kernels
}  // namespace loadrun
