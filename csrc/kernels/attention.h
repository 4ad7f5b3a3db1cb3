// Multi-head scaled dot-product attention on float32, shared by the
// ATTENTION_TILED algorithms of ops/fused_attention.cpp (MultiHeadAttention)
// and ops/attention_tiled.cpp (ONNX Attention): for each batch b, query head
// h and query row i,
//   O[b,h,i,:] = softmax_j(scale * Q[b,h,i,:] . K[b,g,:,j] + M[b,h,i,j]) V[b,g,j,:]
// with g = h / kv_group the KV head of h (grouped query attention; 1: one KV
// head per query head), over strided views: every operand is described by
// element strides of its logical dims (a broadcast dim has stride 0), so the
// head split/merge transposes of exported graphs cost nothing.
//
// Tiled algorithm (attention_block): one block of R query rows of one
// (b, h) at a time, R chosen so the R x T score tile stays in L2
// (attention_block_rows): scores = scale * Q_blk K^T by SGEMM (alpha =
// scale) into the tile, mask added and each row softmaxed in place by the
// elementwise table's softmax_row, then O_blk = P V by SGEMM straight into
// the output rows. One pass over the tile; the S x T score matrix never
// exists whole. Cost O(S T (D + Dv)) per head, R T floats of scratch per
// thread. Usable when the innermost dims (d of Q, of K (as d or t), of V
// (as dv or t) and dv of O) are contiguous (attention_block_usable); the
// ops' NAIVE algorithms cover the rest.
//
// attention_run: the whole call, its (b, h, row block) items split over a
// comp node's threads, each thread with its own score tile. An item's
// result does not depend on which thread runs it: bit-identical at any
// thread count.
#pragma once
#include <cstddef>
#include <cstdint>

namespace loadrun {

class CompNode;

namespace kernels {

struct AttentionArgs {
  int64_t batch = 0, heads = 0, s = 0, t = 0, d = 0, dv = 0;
  // Element strides of the logical dims: q (b, h, s, d), k (b, g, d, t),
  // v (b, g, t, dv), mask (b, h, s, t), o (b, h, s, dv), where g is the KV
  // head h / kv_group.
  int64_t qs[4] = {}, ks[4] = {}, vs[4] = {}, ms[4] = {}, os[4] = {};
  int64_t kv_group = 1;  // query heads per KV head
  // A query row whose mask is -inf everywhere gives zeros (ONNX Attention's
  // rule) rather than the NaN its softmax makes (attention_run only).
  bool zero_masked_rows = false;
  const float *q = nullptr, *k = nullptr, *v = nullptr, *mask = nullptr;  // mask may be null
  float* o = nullptr;
  float scale = 1.f;
};

bool attention_block_usable(const AttentionArgs& a);
int64_t attention_block_rows(const AttentionArgs& a);
// Scratch floats one attention_block call needs.
size_t attention_scratch_floats(const AttentionArgs& a);
// Rows [s0, s0 + rows) of head (b, h); `scratch` holds attention_scratch_floats.
void attention_block(const AttentionArgs& a, int64_t b, int64_t h, int64_t s0, int64_t rows,
                     float* scratch);
// The whole call: every (b, h, row block) over cn's threads (inline when cn
// is null). Thread `tid` uses the attention_scratch_floats at
// workspace + tid * workspace_stride bytes (KernCtx::thread_workspace).
void attention_run(const AttentionArgs& a, CompNode* cn, void* workspace, size_t workspace_stride);

}  // namespace kernels
}  // namespace loadrun
