// Flatten: the input as a 2-D matrix, dims [0, axis) folded into the rows
// and [axis, rank) into the columns; axis may be negative (opset 11).
// NAIVE: one memcpy of the bytes (any dtype). O(n), no workspace.
#include <cstring>

#include "ops/common.h"

namespace loadrun {

namespace {

struct FlattenOp final : Op {
  int alias_input(const std::vector<const Layout*>&) const override { return 0; }
  int64_t axis;
  explicit FlattenOp(const Attrs& a) : axis(a.get_int("axis", 1)) {}
  std::string param_key() const override { return std::to_string(axis); }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    int64_t rank = static_cast<int64_t>(x.ndim());
    int64_t a = axis < 0 ? axis + rank : axis;
    LR_CHECK(a >= 0 && a <= rank, ModelError, "axis ", axis, " is out of range for rank ", rank,
             " (expected ", -rank, "..", rank, ")");
    size_t k = static_cast<size_t>(a);
    ctx.set_output(0, {dims_product(x.shape, 0, k), dims_product(x.shape, k, x.ndim())}, x.dtype);
  }
};

void flatten_naive(const FlattenOp&, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  if (x.nbytes() && x.raw() != y.raw()) std::memcpy(y.raw(), x.raw(), x.nbytes());
}

const auto kNaive = naive_algo<FlattenOp>(flatten_naive);

}  // namespace

void register_op_Flatten(OpRegistry& r) { register_simple<FlattenOp>(r, "Flatten", {&kNaive}, 1, 1); }

}  // namespace loadrun
