// LRN (ONNX): local response normalisation across channels. For X (N, C,
// D...), square_sum[n, c, d] sums x[n, i, d]^2 over the channels i in
// [c - floor((size - 1) / 2), c + ceil((size - 1) / 2)] clipped to [0, C);
// y = x / (bias + alpha / size * square_sum)^beta.
// float16 computes in float32; sums accumulate in double.
// NAIVE: for every output element, a walk over its channel window.
// O(numel * size), no workspace.
#include <algorithm>
#include <cmath>

#include "ops/common.h"

namespace loadrun {

namespace {

struct LrnOp final : Op {
  double alpha, beta, bias;
  int64_t size;
  explicit LrnOp(const Attrs& a)
      : alpha(a.get_float("alpha", 1e-4)),
        beta(a.get_float("beta", 0.75)),
        bias(a.get_float("bias", 1.0)),
        size(a.require_int("size")) {
    LR_CHECK(size >= 1, ModelError, "LRN: size must be >= 1, got ", size);
  }
  std::string param_key() const override { return str_cat(alpha, ";", beta, ";", bias, ";", size); }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(dtype_is_compute_float(x.dtype),
             UnsupportedError, "LRN on ", dtype_name(x.dtype),
             ": supported are float16, bfloat16, float32, float64");
    LR_CHECK(x.ndim() >= 2, ModelError, "LRN: input must be (N, C, ...), got ", shape_str(x.shape));
    ctx.set_output(0, x.shape, x.dtype);
  }
};

template <typename T>
void lrn_t(const LrnOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const Shape& xs = xt.shape();
  const int64_t n = xs[0], c = xs[1], inner = dims_product(xs, 2, xs.size());
  const int64_t before = (op.size - 1) / 2, after = op.size - 1 - before;
  const T* x = xt.ptr<T>();
  T* y = ctx.output(0).ptr<T>();
  for (int64_t b = 0; b < n; ++b) {
    const T* xb = x + b * c * inner;
    T* yb = y + b * c * inner;
    for (int64_t ch = 0; ch < c; ++ch) {
      int64_t lo = std::max<int64_t>(0, ch - before), hi = std::min<int64_t>(c - 1, ch + after);
      for (int64_t i = 0; i < inner; ++i) {
        double sq = 0;
        for (int64_t k = lo; k <= hi; ++k) {
          double v = static_cast<double>(xb[k * inner + i]);
          sq += v * v;
        }
        double den = std::pow(op.bias + op.alpha / static_cast<double>(op.size) * sq, op.beta);
        yb[ch * inner + i] = static_cast<T>(static_cast<double>(xb[ch * inner + i]) / den);
      }
    }
  }
}

void lrn_naive(const LrnOp& op, const KernCtx& ctx) {
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    LR_DISPATCH_FLOAT(c.input(0).dtype(), "LRN", lrn_t<T>(op, c));
  });
}

const auto kNaive = naive_algo<LrnOp>(lrn_naive);

}  // namespace

void register_op_LRN(OpRegistry& r) { register_simple<LrnOp>(r, "LRN", {&kNaive}, 1, 1); }

}  // namespace loadrun
