// SwiGLU (ONNX, opset 28): the gated activation Y = Swish_alpha(A) * B with
// Swish_alpha(a) = a * sigmoid(alpha * a) (alpha default 1). A and B must have
// the same shape and dtype (no broadcasting); Y has that shape and dtype.
// Types: float32, float64, float16 (computed in float32, rounded once).
// NAIVE: one elementwise pass computing in double. O(n), no workspace.
#include <cmath>

#include "ops/elementwise.h"

namespace loadrun {

namespace {

struct SwiGLUOp final : Op {
  double alpha;
  explicit SwiGLUOp(const Attrs& a) : alpha(a.get_float("alpha", 1.0)) {}
  std::string param_key() const override { return str_cat(alpha); }
  void infer(InferCtx& ctx) const override {
    const Layout& a = ctx.input(0);
    const Layout& b = ctx.input(1);
    LR_CHECK(dtype_is_compute_float(a.dtype),
             UnsupportedError, "SwiGLU on ", dtype_name(a.dtype),
             ": supported are float32, float64, float16 and bfloat16");
    LR_CHECK(a.dtype == b.dtype, ModelError, "SwiGLU: A is ", dtype_name(a.dtype), " but B is ",
             dtype_name(b.dtype));
    LR_CHECK(a.shape == b.shape, ModelError, "SwiGLU: A ", shape_str(a.shape), " and B ",
             shape_str(b.shape), " must have the same shape (no broadcasting)");
    ctx.set_output(0, a.shape, a.dtype);
  }
};

template <typename T>
void swiglu_naive_t(const SwiGLUOp& op, const KernCtx& ctx) {
  const T* a = ctx.input(0).ptr<T>();
  const T* b = ctx.input(1).ptr<T>();
  T* y = ctx.output(0).ptr<T>();
  const int64_t n = ctx.output(0).numel();
  for (int64_t i = 0; i < n; ++i) {
    double av = Num<T>::ld(a[i]);
    double v = av / (1.0 + std::exp(-op.alpha * av)) * static_cast<double>(Num<T>::ld(b[i]));
    y[i] = Num<T>::st(static_cast<typename Num<T>::C>(v));
  }
}

void swiglu_naive(const SwiGLUOp& op, const KernCtx& ctx) {
  LR_EW_DISPATCH_FLOAT(ctx.input(0).dtype(), "SwiGLU", swiglu_naive_t<T>(op, ctx));
}

const auto kNaive = naive_algo<SwiGLUOp>(swiglu_naive);

}  // namespace

void register_op_SwiGLU(OpRegistry& r) { register_simple<SwiGLUOp>(r, "SwiGLU", {&kNaive}, 2, 2); }

}  // namespace loadrun
