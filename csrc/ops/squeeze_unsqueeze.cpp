// Squeeze and Unsqueeze (opset 13: axes as an input; older opsets' axes
// attribute is moved to the input by the importer). Squeeze removes the
// listed size-1 dims, or every size-1 dim when no axes are given; Unsqueeze
// inserts size-1 dims at the listed positions of the output. Axes may be
// negative (Squeeze: of the input rank; Unsqueeze: of the output rank).
// NAIVE: one memcpy of the bytes (any dtype). O(n), no workspace.
#include <cstring>

#include "ops/common.h"

namespace loadrun {

namespace {

void copy_bytes(const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  if (x.nbytes() && x.raw() != y.raw()) std::memcpy(y.raw(), x.raw(), x.nbytes());
}

// Marks normalized axes in a mask of `rank` dims; ModelError on a repeat.
std::vector<char> axes_mask(const std::vector<int64_t>& axes, int64_t rank) {
  std::vector<char> mask(static_cast<size_t>(rank), 0);
  for (int64_t a : axes) {
    int64_t n = normalize_axis(a, rank);
    LR_CHECK(!mask[n], ModelError, "axes ", shape_str(axes), " repeat axis ", a);
    mask[n] = 1;
  }
  return mask;
}

struct SqueezeOp final : Op {
  int alias_input(const std::vector<const Layout*>&) const override { return 0; }
  explicit SqueezeOp(const Attrs&) {}
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    Shape out;
    if (ctx.has(1)) {
      std::vector<int64_t> axes = ctx.value(1, "Squeeze axes").to_i64_vector();
      std::vector<char> mask = axes_mask(axes, static_cast<int64_t>(x.ndim()));
      for (size_t d = 0; d < x.ndim(); ++d) {
        if (!mask[d]) {
          out.push_back(x.shape[d]);
          continue;
        }
        LR_CHECK(x.shape[d] == 1, ModelError, "cannot squeeze dim ", d, " of size ", x.shape[d],
                 " (input shape ", shape_str(x.shape), ")");
      }
    } else {
      for (int64_t d : x.shape)
        if (d != 1) out.push_back(d);
    }
    ctx.set_output(0, out, x.dtype);
  }
};

struct UnsqueezeOp final : Op {
  int alias_input(const std::vector<const Layout*>&) const override { return 0; }
  explicit UnsqueezeOp(const Attrs&) {}
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    std::vector<int64_t> axes = ctx.value(1, "Unsqueeze axes").to_i64_vector();
    int64_t rank = static_cast<int64_t>(x.ndim() + axes.size());
    std::vector<char> mask = axes_mask(axes, rank);
    Shape out;
    size_t next = 0;
    for (int64_t d = 0; d < rank; ++d) out.push_back(mask[d] ? 1 : x.shape[next++]);
    ctx.set_output(0, out, x.dtype);
  }
};

void squeeze_naive(const SqueezeOp&, const KernCtx& ctx) { copy_bytes(ctx); }
void unsqueeze_naive(const UnsqueezeOp&, const KernCtx& ctx) { copy_bytes(ctx); }

const auto kSqueezeNaive = naive_algo<SqueezeOp>(squeeze_naive);
const auto kUnsqueezeNaive = naive_algo<UnsqueezeOp>(unsqueeze_naive);

}  // namespace

void register_op_Squeeze(OpRegistry& r) {
  register_simple<SqueezeOp>(r, "Squeeze", {&kSqueezeNaive}, 1, 2);
}
void register_op_Unsqueeze(OpRegistry& r) {
  register_simple<UnsqueezeOp>(r, "Unsqueeze", {&kUnsqueezeNaive}, 2, 2);
}

}  // namespace loadrun
