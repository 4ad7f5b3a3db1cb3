// Tile: the input repeated repeats[d] times along each dim d (the int64
// `repeats` input has one entry per dim; 0 gives an empty dim).
// NAIVE: for each output element, input index = output index mod input dim
// per dim. O(n * rank), no workspace (any dtype).
#include "ops/common.h"
#include "ops/element_copy.h"

namespace loadrun {

namespace {

struct TileOp final : Op {
  explicit TileOp(const Attrs&) {}
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    std::vector<int64_t> rep = ctx.value(1, "Tile repeats").to_i64_vector();
    LR_CHECK(rep.size() == x.ndim(), ModelError, "repeats ", shape_str(rep), " has ", rep.size(),
             " entries for an input of rank ", x.ndim());
    Shape out(x.ndim());
    for (size_t d = 0; d < x.ndim(); ++d) {
      LR_CHECK(rep[d] >= 0, ModelError, "repeats ", shape_str(rep), " has a negative entry");
      out[d] = x.shape[d] * rep[d];
    }
    ctx.set_output(0, out, x.dtype);
  }
};

void tile_naive(const TileOp&, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  const Shape& in = x.shape();
  const Shape& out = y.shape();
  Shape st = contiguous_strides(in);
  int64_t n = y.numel();
  size_t rank = out.size();
  with_word_type(x.dtype(), [&](auto tag) {
    using W = decltype(tag);
    const W* src = x.ptr<W>();
    W* dst = y.ptr<W>();
    for (int64_t i = 0; i < n; ++i) {
      int64_t rem = i, off = 0;
      for (size_t d = rank; d-- > 0;) {
        off += (rem % out[d]) % in[d] * st[d];
        rem /= out[d];
      }
      dst[i] = src[off];
    }
  });
}

const auto kNaive = naive_algo<TileOp>(tile_naive);

}  // namespace

void register_op_Tile(OpRegistry& r) { register_simple<TileOp>(r, "Tile", {&kNaive}, 2, 2); }

}  // namespace loadrun
