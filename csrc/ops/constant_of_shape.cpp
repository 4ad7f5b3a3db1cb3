// ConstantOfShape: a tensor of the shape given by the int64 input, filled
// with the one element of the `value` attribute (its dtype decides the
// output's; default float32 0). An empty shape gives a scalar.
// NAIVE: fill by element size (any dtype). O(n), no workspace.
#include "ops/common.h"
#include "ops/element_copy.h"

namespace loadrun {

namespace {

struct ConstantOfShapeOp final : Op {
  Tensor value;
  explicit ConstantOfShapeOp(const Attrs& a) {
    if (a.has("value")) {
      value = a.require_tensor("value").clone();
      LR_CHECK(value.numel() == 1, ModelError, "the value attribute must hold one element, got shape ",
               shape_str(value.shape()));
    } else {
      value = Tensor(Layout({1}, DType::Float32));
    }
  }
  std::string param_key() const override {
    std::string k = dtype_name(value.dtype());  // then the value's bytes, exactly
    const uint8_t* b = static_cast<const uint8_t*>(value.raw());
    for (size_t i = 0; i < value.nbytes(); ++i) k += str_cat(";", static_cast<int>(b[i]));
    return k;
  }
  void infer(InferCtx& ctx) const override {
    LR_CHECK(ctx.input(0).ndim() == 1, ModelError, "the shape input must be 1-D, got shape ",
             shape_str(ctx.input(0).shape));
    std::vector<int64_t> s = ctx.value(0, "ConstantOfShape shape").to_i64_vector();
    for (int64_t d : s)
      LR_CHECK(d >= 0, ModelError, "shape ", shape_str(s), " has a negative dim");
    ctx.set_output(0, s, value.dtype());
  }
};

void constant_of_shape_naive(const ConstantOfShapeOp& op, const KernCtx& ctx) {
  Tensor& y = ctx.output(0);
  fill_elements(y.raw(), op.value.raw(), y.dtype(), y.numel());
}

const auto kNaive = naive_algo<ConstantOfShapeOp>(constant_of_shape_naive);

}  // namespace

void register_op_ConstantOfShape(OpRegistry& r) {
  register_simple<ConstantOfShapeOp>(r, "ConstantOfShape", {&kNaive}, 1, 1);
}

}  // namespace loadrun
