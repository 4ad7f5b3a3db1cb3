// RMSNormalization (ONNX, opset 23): the dims [axis, rank) of X are
// normalised together by their root mean square,
//   Y = X / sqrt(mean(X^2) + epsilon) * Scale,
// with no mean subtraction and no bias. Scale broadcasts unidirectionally to
// X (right-aligned; each of its dims is 1 or X's). X, Scale and Y share one
// float dtype (float32, float64, float16; float16 computes in float32 and
// rounds). stash_type 1 (compute in float32 or wider) is the only one ONNX
// defines an implementation for; wider is what this kernel does.
// NAIVE: per row of the [outer, n] view, one pass summing squares (in
// double), then one writing Y with Scale read through broadcast offsets.
// O(2n) per row, no workspace.
#include <cmath>

#include "ops/elementwise.h"

namespace loadrun {

namespace {

struct RMSNormOp final : Op {
  int64_t axis;
  double epsilon;
  int64_t stash_type;
  explicit RMSNormOp(const Attrs& a)
      : axis(a.get_int("axis", -1)),
        epsilon(a.get_float("epsilon", 1e-5)),
        stash_type(a.get_int("stash_type", 1)) {}
  std::string param_key() const override { return str_cat(axis, ";", epsilon, ";", stash_type); }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& s = ctx.input(1);
    LR_CHECK(dtype_is_compute_float(x.dtype),
             UnsupportedError, "RMSNormalization on ", dtype_name(x.dtype),
             ": supported are float32, float64, float16 and bfloat16");
    LR_CHECK(s.dtype == x.dtype, UnsupportedError, "RMSNormalization: Scale is ",
             dtype_name(s.dtype), " but X is ", dtype_name(x.dtype),
             "; only equal dtypes are supported");
    LR_CHECK(stash_type == 1, UnsupportedError, "RMSNormalization stash_type ", stash_type,
             ": only 1 (float32) is supported");
    LR_CHECK(x.ndim() >= 1, ModelError, "RMSNormalization: X must have rank >= 1, got a scalar");
    normalize_axis(axis, static_cast<int64_t>(x.ndim()));
    bool ok = s.ndim() <= x.ndim();
    for (size_t i = 0; ok && i < s.ndim(); ++i) {
      int64_t d = s.shape[i], xd = x.shape[x.ndim() - s.ndim() + i];
      ok = d == 1 || d == xd;
    }
    LR_CHECK(ok, ModelError, "RMSNormalization: Scale of shape ", shape_str(s.shape),
             " does not broadcast to X of shape ", shape_str(x.shape));
    ctx.set_output(0, x.shape, x.dtype);
  }
};

template <typename T>
void rms_norm_naive_t(const RMSNormOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const Shape& xs = xt.shape();
  size_t a = static_cast<size_t>(normalize_axis(op.axis, static_cast<int64_t>(xs.size())));
  const int64_t outer = dims_product(xs, 0, a), n = dims_product(xs, a, xs.size());
  BroadcastIndexer bi(xs, {ctx.input(1).shape()});
  const T* x = xt.ptr<T>();
  const T* scale = ctx.input(1).ptr<T>();
  T* y = ctx.output(0).ptr<T>();
  for (int64_t o = 0; o < outer; ++o) {
    const T* xr = x + o * n;
    double sq = 0;
    for (int64_t i = 0; i < n; ++i) {
      double v = Num<T>::ld(xr[i]);
      sq += v * v;
    }
    double inv = 1.0 / std::sqrt((n ? sq / n : 0.0) + op.epsilon);
    for (int64_t i = 0; i < n; ++i) {
      double v = Num<T>::ld(xr[i]) * inv * Num<T>::ld(scale[bi.offset(0, o * n + i)]);
      y[o * n + i] = Num<T>::st(static_cast<typename Num<T>::C>(v));
    }
  }
}

void rms_norm_naive(const RMSNormOp& op, const KernCtx& ctx) {
  LR_EW_DISPATCH_FLOAT(ctx.input(0).dtype(), "RMSNormalization", rms_norm_naive_t<T>(op, ctx));
}

const auto kNaive = naive_algo<RMSNormOp>(rms_norm_naive);

}  // namespace

void register_op_RMSNormalization(OpRegistry& r) {
  register_simple<RMSNormOp>(r, "RMSNormalization", {&kNaive}, 2, 2);
}

}  // namespace loadrun
