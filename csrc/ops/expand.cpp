// Expand: the input broadcast (NumPy rules, both ways) with the shape given
// by the int64 `shape` input; a 1 in `shape` keeps the input's dim.
// NAIVE: strided_copy with zero strides on broadcast dims (any dtype).
// O(n * rank), no workspace. COPY_FAST: the same copy as runs of
// kernels/copy_plan.h (a memcpy per row, a fill per broadcast row).
#include "kernels/copy_plan.h"
#include "kernels/fast_algo.h"
#include "ops/common.h"
#include "ops/element_copy.h"

namespace loadrun {

namespace {

struct ExpandOp final : Op {
  explicit ExpandOp(const Attrs&) {}
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(ctx.input(1).ndim() == 1, ModelError, "the shape input must be 1-D, got shape ",
             shape_str(ctx.input(1).shape));
    Shape s = ctx.value(1, "Expand shape").to_i64_vector();
    for (int64_t d : s) LR_CHECK(d >= 0, ModelError, "shape ", shape_str(s), " has a negative dim");
    ctx.set_output(0, broadcast_shapes({x.shape, s}), x.dtype);
  }
  // Expanding to the shape the input already has copies it unchanged.
  int view_input_at(const InferCtx& ic) const override {
    return ic.has(0) && !ic.out.empty() && ic.out[0].shape == ic.input(0).shape ? 0 : -1;
  }
};

void expand_naive(const ExpandOp&, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  strided_copy(y.raw(), x.raw(), x.dtype(), y.shape(), broadcast_strides(x.shape(), y.shape()), 0);
}

const auto kNaive = naive_algo<ExpandOp>(expand_naive);

bool word_sized(DType dt) {
  size_t s = dtype_size(dt);
  return s == 1 || s == 2 || s == 4 || s == 8;
}

bool expand_fast_usable(const ExpandOp&, const InLayouts& in, const OutLayouts&) {
  return word_sized(in[0]->dtype);
}

void expand_fast(const ExpandOp&, const KernCtx& ctx, const kernels::KernelTable&) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  kernels::fast_strided_copy(y.raw(), x.raw(), dtype_size(x.dtype()), y.shape(),
                             broadcast_strides(x.shape(), y.shape()), 0, ctx.comp_node);
}

const KernelAlgo<ExpandOp> kFast("COPY_FAST", expand_fast_usable, expand_fast);

}  // namespace

void register_op_Expand(OpRegistry& r) { register_simple<ExpandOp>(r, "Expand", {&kNaive, &kFast}, 2, 2); }

}  // namespace loadrun
