// Identity: the input, unchanged (any dtype).
// NAIVE: one memcpy. O(n), no workspace.
#include <cstring>

#include "ops/common.h"

namespace loadrun {

namespace {

struct IdentityOp final : Op {
  explicit IdentityOp(const Attrs&) {}
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    ctx.set_output(0, x.shape, x.dtype);
  }
};

void identity_naive(const IdentityOp&, const KernCtx& ctx) {
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
