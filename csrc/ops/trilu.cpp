// Trilu(input, k?; upper): the upper (upper = 1, the default) or lower
// triangle of each of the last two dims' matrices; the rest is zero. Element
// (i, j) is kept when j - i >= k (upper) or j - i <= k (lower); k is an
// optional int64 scalar input, default 0 (it does not change the shape, so it
// may be a run-time value). Any dtype: elements are moved by size, and zero
// is all-zero bits in every dtype.
// NAIVE: one pass over the output, copying or zeroing each element.
// O(n), no workspace.
#include <cstring>

#include "ops/common.h"
#include "ops/element_copy.h"

namespace loadrun {

namespace {

struct TriluOp final : Op {
  bool upper;
  explicit TriluOp(const Attrs& a) : upper(a.get_int("upper", 1) != 0) {}
  std::string param_key() const override { return std::to_string(upper); }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(x.ndim() >= 2, ModelError, "input must have rank >= 2, got ", shape_str(x.shape));
    if (ctx.has(1)) {
      LR_CHECK(ctx.input(1).numel() == 1, ModelError, "k must hold one value, got shape ",
               shape_str(ctx.input(1).shape));
    }
    ctx.set_output(0, x.shape, x.dtype);
  }
};

void trilu_naive(const TriluOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  int64_t k = ctx.has(1) ? ctx.input(1).get_i64(0) : 0;
  const Shape& s = x.shape();
  int64_t rows = s[s.size() - 2], cols = s[s.size() - 1];
  int64_t mats = dims_product(s, 0, s.size() - 2);
  with_word_type(x.dtype(), [&](auto tag) {
    using W = decltype(tag);
    const W* src = x.ptr<W>();
    W* dst = y.ptr<W>();
    for (int64_t m = 0; m < mats; ++m) {
      for (int64_t i = 0; i < rows; ++i) {
        for (int64_t j = 0; j < cols; ++j) {
          int64_t p = (m * rows + i) * cols + j;
          bool keep = op.upper ? j - i >= k : j - i <= k;
          dst[p] = keep ? src[p] : W(0);
        }
      }
    }
  });
}

const auto kNaive = naive_algo<TriluOp>(trilu_naive);

}  // namespace

void register_op_Trilu(OpRegistry& r) { register_simple<TriluOp>(r, "Trilu", {&kNaive}, 1, 2); }

}  // namespace loadrun
