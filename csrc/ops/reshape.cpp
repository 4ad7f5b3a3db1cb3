// Reshape (opset 14: allowzero): the same elements under another shape. The
// target comes from the `shape` input: 0 copies the input's dim at that
// position (unless allowzero=1, where 0 is a zero-size dim), one -1 is
// inferred from the element count.
// NAIVE: one memcpy of the bytes (any dtype). O(n), no workspace.
#include <cstring>

#include "ops/common.h"

namespace loadrun {

namespace {

struct ReshapeOp final : Op {
  int alias_input(const std::vector<const Layout*>&) const override { return 0; }
  bool allowzero;
  explicit ReshapeOp(const Attrs& a) : allowzero(a.get_int("allowzero", 0) != 0) {}
  std::string param_key() const override { return allowzero ? "z1" : "z0"; }

  Shape resolve(const Shape& in, const std::vector<int64_t>& spec) const {
    Shape out(spec.size());
    int64_t infer_at = -1, known = 1;
    for (size_t i = 0; i < spec.size(); ++i) {
      int64_t d = spec[i];
      if (d == -1) {
        LR_CHECK(infer_at < 0, ModelError, "target shape ", shape_str(spec),
                 " has more than one -1");
        infer_at = static_cast<int64_t>(i);
        continue;
      }
      if (d == 0 && !allowzero) {
        LR_CHECK(i < in.size(), ModelError, "target shape ", shape_str(spec), " has 0 at position ",
                 i, " (copy the input dim) but the input ", shape_str(in), " has rank ", in.size());
        d = in[i];
      }
      LR_CHECK(d >= 0, ModelError, "target shape ", shape_str(spec), " has a negative dim ", d);
      out[i] = d;
      known *= d;
    }
    int64_t n = shape_numel(in);
    if (infer_at >= 0) {
      LR_CHECK(known != 0, ModelError, "target shape ", shape_str(spec),
               ": cannot infer the -1 dim when the other dims multiply to 0");
      LR_CHECK(n % known == 0, ModelError, "cannot reshape ", shape_str(in), " (", n,
               " elements) to ", shape_str(spec));
      out[infer_at] = n / known;
    }
    LR_CHECK(shape_numel(out) == n, ModelError, "cannot reshape ", shape_str(in), " (", n,
             " elements) to ", shape_str(spec), " (", shape_numel(out), " elements)");
    return out;
  }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(ctx.input(1).ndim() == 1, ModelError, "the shape input must be 1-D, got shape ",
             shape_str(ctx.input(1).shape));
    ctx.set_output(0, resolve(x.shape, ctx.value(1, "Reshape shape").to_i64_vector()), x.dtype);
  }
};

void reshape_naive(const ReshapeOp&, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  if (x.nbytes() && x.raw() != y.raw()) std::memcpy(y.raw(), x.raw(), x.nbytes());
}

const auto kNaive = naive_algo<ReshapeOp>(reshape_naive);

}  // namespace

void register_op_Reshape(OpRegistry& r) { register_simple<ReshapeOp>(r, "Reshape", {&kNaive}, 2, 2); }

}  // namespace loadrun
