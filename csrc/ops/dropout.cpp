// Dropout at inference: the output is the input unchanged; the optional mask
// output is all true (nothing dropped): bool, or the input's dtype for
// opset < 10 (the importer sets mask_like_input). Training mode (a true
// training_mode input) is not supported. The ratio input is read by nothing.
// NAIVE: one memcpy, and a fill of the mask. O(n), no workspace.
#include <cstring>

#include "ops/common.h"
#include "ops/element_copy.h"

namespace loadrun {

namespace {

void check_not_training(const Tensor* training_mode) {
  LR_CHECK(!training_mode || training_mode->numel() == 0 || training_mode->get_i64(0) == 0,
           UnsupportedError, "Dropout in training mode (training_mode = true) is not supported");
}

struct DropoutOp final : Op {
  bool mask_like_input;
  explicit DropoutOp(const Attrs& a) : mask_like_input(a.get_int("mask_like_input", 0) != 0) {}
  std::string param_key() const override { return mask_like_input ? "m1" : "m0"; }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    if (ctx.has(2)) check_not_training(ctx.value_or_null(2));
    ctx.set_output(0, x.shape, x.dtype);
    if (ctx.out.size() > 1) ctx.set_output(1, x.shape, mask_like_input ? x.dtype : DType::Bool);
  }
};

void dropout_naive(const DropoutOp&, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  if (ctx.has(2)) check_not_training(&ctx.input(2));
  Tensor& y = ctx.output(0);
  if (x.nbytes() && x.raw() != y.raw()) std::memcpy(y.raw(), x.raw(), x.nbytes());
  if (ctx.out.size() > 1) {
    Tensor& mask = ctx.output(1);
    Tensor one(Layout({1}, DType::Bool));
    *one.ptr<uint8_t>() = 1;
    uint64_t bytes = 0;  // 1 (true) as the mask's dtype
    scalar_as(one, mask.dtype(), &bytes);
    fill_elements(mask.raw(), &bytes, mask.dtype(), mask.numel());
  }
}

const auto kNaive = naive_algo<DropoutOp>(dropout_naive);

}  // namespace

void register_op_Dropout(OpRegistry& r) { register_simple<DropoutOp>(r, "Dropout", {&kNaive}, 1, 3); }

}  // namespace loadrun
