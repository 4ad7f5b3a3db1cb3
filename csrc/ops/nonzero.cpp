// NonZero: the indices of X's non-zero elements (NaN counts as non-zero), as
// an int64 tensor of shape [rank, count] in row-major order (numpy.nonzero
// stacked); a scalar reads as a 1-element 1-D tensor. The count depends on
// X's values, so unless X is known at compile time the node is inferred at
// run time (dynamic shapes).
// NAIVE: one pass counting (in infer), one pass writing the multi-index of
// each non-zero element. O(n * rank), no workspace.
#include "ops/common.h"

namespace loadrun {

namespace {

int64_t count_nonzero(const Tensor& x) {
  int64_t n = 0;
  for (int64_t i = 0; i < x.numel(); ++i) n += x.get_f64(i) != 0.0;
  return n;
}

struct NonZeroOp final : Op {
  explicit NonZeroOp(const Attrs&) {}
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    int64_t rank = std::max<int64_t>(1, static_cast<int64_t>(x.ndim()));
    int64_t n = count_nonzero(ctx.value(0, "NonZero input"));
    ctx.set_output(0, {rank, n}, DType::Int64);
  }
};

void nonzero_naive(const NonZeroOp&, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  Shape shape = x.ndim() ? x.shape() : Shape{1};
  int64_t rank = static_cast<int64_t>(shape.size());
  int64_t count = y.shape()[1];
  int64_t* out = y.ptr<int64_t>();
  int64_t j = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (x.get_f64(i) == 0.0) continue;
    LR_CHECK(j < count, InternalError, "more non-zero elements than inferred");
    int64_t rest = i;
    for (int64_t d = rank - 1; d >= 0; --d) {
      out[d * count + j] = rest % shape[d];
      rest /= shape[d];
    }
    ++j;
  }
}

const auto kNaive = naive_algo<NonZeroOp>(nonzero_naive);

}  // namespace

void register_op_NonZero(OpRegistry& r) { register_simple<NonZeroOp>(r, "NonZero", {&kNaive}, 1, 1); }

}  // namespace loadrun
