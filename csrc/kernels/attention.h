// Multi-head scaled dot-product attention on float32 (ops/fused_attention.cpp
// MultiHeadAttention): for each batch b, head h and query row i,
//   O[b,h,i,:] = softmax_j(scale * Q[b,h,i,:] . K[b,h,:,j] + M[b,h,i,j]) V[b,h,j,:]
// over strided views: every operand is described by element strides of its
// logical dims (a broadcast dim has stride 0), so the head split/merge
// transposes of exported graphs cost nothing.
//
// Tiled algorithm (attention_block): one block of R query rows of one
// (b, h) at a time, R chosen so the R x T score tile stays in L2
// (attention_block_rows): scores = scale * Q_blk K^T by SGEMM (alpha =
// scale) into the tile, mask added and each row softmaxed in place by the
// elementwise table's softmax_row, then O_blk = P V by SGEMM straight into
// the output rows. One pass over the tile; the S x T score matrix never
// exists whole. Cost O(S T (D + Dv)) per head, R T floats of scratch per
// thread. Usable when the innermost dims (d of Q, of K (as d or t), of V
// (as dv or t) and dv of O) are contiguous (attention_block_usable); the op's
// NAIVE algorithm covers the rest.
#pragma once
#include <cstddef>
#include <cstdint>

namespace loadrun {
namespace kernels {

struct AttentionArgs {
  int64_t batch = 0, heads = 0, s = 0, t = 0, d = 0, dv = 0;
  // Element strides of the logical dims: q (b, h, s, d), k (b, h, d, t),
  // v (b, h, t, dv), mask (b, h, s, t), o (b, h, s, dv).
  int64_t qs[4] = {}, ks[4] = {}, vs[4] = {}, ms[4] = {}, os[4] = {};
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

}  // namespace kernels
}  // namespace loadrun
