// CausalConvWithState (ONNX, opset 27): a stateful causal depthwise 1-D
// convolution. input is (B, C, L), weight (C, 1, k), optional bias (C),
// optional past_state (B, C, k - 1) (zeros when absent). Over the padded
// sequence p = concat(past_state, input) along the last axis,
//   output[b, c, t] = bias[c] + sum_{i<k} weight[c, 0, i] * p[b, c, t + i],
// optionally followed by SiLU (activation "silu" or its alias "swish":
// y * sigmoid(y)); present_state is the last k - 1 positions of p (which may
// reach into past_state when L < k - 1). Types: float32, float64, float16
// (computed in float32 or wider, rounded once).
// NAIVE: for every (b, c) build the padded line, then the k-tap dot product
// per output position. O(B * C * L * k); one line buffer of L + k - 1 doubles.
#include <cmath>

#include "ops/elementwise.h"

namespace loadrun {

namespace {

struct CausalConvOp final : Op {
  bool silu;
  explicit CausalConvOp(const Attrs& a) {
    std::string act = a.get_string("activation", "none");
    LR_CHECK(act == "none" || act == "silu" || act == "swish", ModelError,
             "CausalConvWithState: activation must be \"none\", \"silu\" or \"swish\", got \"",
             act, "\"");
    silu = act != "none";
  }
  std::string param_key() const override { return silu ? "silu" : "none"; }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& w = ctx.input(1);
    LR_CHECK(dtype_is_compute_float(x.dtype),
             UnsupportedError, "CausalConvWithState on ", dtype_name(x.dtype),
             ": supported are float32, float64, float16 and bfloat16");
    LR_CHECK(x.ndim() == 3, ModelError, "CausalConvWithState: input must be (B, C, L), got ",
             shape_str(x.shape));
    const int64_t B = x.shape[0], C = x.shape[1];
    LR_CHECK(w.ndim() == 3 && w.shape[0] == C && w.shape[1] == 1 && w.shape[2] >= 1, ModelError,
             "CausalConvWithState: weight must be (", C, ", 1, k) with k >= 1, got ",
             shape_str(w.shape));
    const int64_t k = w.shape[2];
    LR_CHECK(w.dtype == x.dtype, ModelError, "CausalConvWithState: weight is ",
             dtype_name(w.dtype), " but input is ", dtype_name(x.dtype));
    if (ctx.has(2)) {
      const Layout& b = ctx.input(2);
      LR_CHECK(b.dtype == x.dtype && b.shape == Shape({C}), ModelError,
               "CausalConvWithState: bias must be ", dtype_name(x.dtype), " (", C, "), got ",
               dtype_name(b.dtype), " ", shape_str(b.shape));
    }
    if (ctx.has(3)) {
      const Layout& p = ctx.input(3);
      LR_CHECK(p.dtype == x.dtype && p.shape == Shape({B, C, k - 1}), ModelError,
               "CausalConvWithState: past_state must be ", dtype_name(x.dtype), " ",
               shape_str({B, C, k - 1}), ", got ", dtype_name(p.dtype), " ", shape_str(p.shape));
    }
    ctx.set_output(0, x.shape, x.dtype);
    if (ctx.out.size() > 1) ctx.set_output(1, {B, C, k - 1}, x.dtype);
  }
};

template <typename T>
void causal_conv_naive_t(const CausalConvOp& op, const KernCtx& ctx) {
  using Cm = typename Num<T>::C;
  const Tensor& xt = ctx.input(0);
  const int64_t B = xt.shape()[0], C = xt.shape()[1], L = xt.shape()[2];
  const int64_t k = ctx.input(1).shape()[2], P = k - 1;
  const T* x = xt.ptr<T>();
  const T* w = ctx.input(1).ptr<T>();
  const T* bias = ctx.has(2) ? ctx.input(2).ptr<T>() : nullptr;
  const T* past = ctx.has(3) ? ctx.input(3).ptr<T>() : nullptr;
  T* y = ctx.output(0).ptr<T>();
  T* present = ctx.out.size() > 1 ? ctx.output(1).ptr<T>() : nullptr;
  std::vector<double> line(static_cast<size_t>(L + P));
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t c = 0; c < C; ++c) {
      const int64_t bc = b * C + c;
      for (int64_t i = 0; i < P; ++i) line[i] = past ? Num<T>::ld(past[bc * P + i]) : 0.0;
      for (int64_t t = 0; t < L; ++t) line[P + t] = Num<T>::ld(x[bc * L + t]);
      for (int64_t t = 0; t < L; ++t) {
        double acc = bias ? Num<T>::ld(bias[c]) : 0.0;
        for (int64_t i = 0; i < k; ++i) acc += Num<T>::ld(w[c * k + i]) * line[t + i];
        if (op.silu) acc = acc / (1.0 + std::exp(-acc));
        y[bc * L + t] = Num<T>::st(static_cast<Cm>(acc));
      }
      if (present)
        for (int64_t i = 0; i < P; ++i)
          present[bc * P + i] = Num<T>::st(static_cast<Cm>(line[L + i]));
    }
  }
}

void causal_conv_naive(const CausalConvOp& op, const KernCtx& ctx) {
  LR_EW_DISPATCH_FLOAT(ctx.input(0).dtype(), "CausalConvWithState",
                       causal_conv_naive_t<T>(op, ctx));
}

const auto kNaive = naive_algo<CausalConvOp>(causal_conv_naive);

}  // namespace

void register_op_CausalConvWithState(OpRegistry& r) {
  register_simple<CausalConvOp>(r, "CausalConvWithState", {&kNaive}, 2, 4);
}

}  // namespace loadrun
