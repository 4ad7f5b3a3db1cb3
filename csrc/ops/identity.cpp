// Identity: the input, unchanged (any dtype; a sequence or optional too).
// NAIVE: one memcpy (a sequence or optional: its elements shared, no copy).
// O(n), no workspace.
#include <cstring>

#include "ops/common.h"

namespace loadrun {

namespace {

struct IdentityOp final : Op {
  int alias_input(const std::vector<const Layout*>&) const override { return 0; }
  explicit IdentityOp(const Attrs&) {}
  void value_kinds(const std::vector<ValueKind>& in, std::vector<ValueKind>& out) const override {
    if (!out.empty()) out[0] = in[0];
  }
  void infer(InferCtx& ctx) const override {
    if (!ctx.out_is_tensor(0)) return;
    const Layout& x = ctx.input(0);
    ctx.set_output(0, x.shape, x.dtype);
  }
};

void identity_naive(const IdentityOp&, const KernCtx& ctx) {
  if (Value* y = ctx.seq_output(0)) {
    *y = *ctx.seq(0);
    return;
  }
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  if (x.nbytes() && x.raw() != y.raw()) std::memcpy(y.raw(), x.raw(), x.nbytes());
}

const auto kNaive = naive_algo<IdentityOp>(identity_naive);

}  // namespace

void register_op_Identity(OpRegistry& r) {
  register_simple<IdentityOp>(r, "Identity", {&kNaive}, 1, 1);
}

}  // namespace loadrun
