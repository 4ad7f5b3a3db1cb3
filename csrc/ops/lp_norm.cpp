// LpNormalization (ONNX): y = x / ||x||_p along `axis` (default -1), p = 1
// (sum of |x|) or 2 (Euclidean); a zero norm gives 0 (opset 22 says so).
// float16 computes in float32; the norm accumulates in double.
// NAIVE: X viewed as (outer, n, inner); for each (outer, inner) line one pass
// for the norm and one writing y. O(numel), no workspace.
#include <cmath>

#include "ops/common.h"

namespace loadrun {

namespace {

struct LpNormOp final : Op {
  int64_t axis, p;
  explicit LpNormOp(const Attrs& a) : axis(a.get_int("axis", -1)), p(a.get_int("p", 2)) {
    LR_CHECK(p == 1 || p == 2, ModelError, "LpNormalization: p must be 1 or 2, got ", p);
  }
  std::string param_key() const override { return str_cat(axis, ";", p); }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(dtype_is_compute_float(x.dtype),
             UnsupportedError, "LpNormalization on ", dtype_name(x.dtype),
             ": supported are float16, bfloat16, float32, float64");
    normalize_axis(axis, static_cast<int64_t>(x.ndim()));
    ctx.set_output(0, x.shape, x.dtype);
  }
};

template <typename T>
void lp_norm_t(const LpNormOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const Shape& xs = xt.shape();
  size_t a = static_cast<size_t>(normalize_axis(op.axis, static_cast<int64_t>(xs.size())));
  const int64_t outer = dims_product(xs, 0, a), n = xs[a];
  const int64_t inner = dims_product(xs, a + 1, xs.size());
  const T* x = xt.ptr<T>();
  T* y = ctx.output(0).ptr<T>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const T* xp = x + o * n * inner + i;
      T* yp = y + o * n * inner + i;
      double norm = 0;
      for (int64_t k = 0; k < n; ++k) {
        double v = static_cast<double>(xp[k * inner]);
        norm += op.p == 1 ? std::fabs(v) : v * v;
      }
      if (op.p == 2) norm = std::sqrt(norm);
      for (int64_t k = 0; k < n; ++k)
        yp[k * inner] =
            norm == 0 ? T(0) : static_cast<T>(static_cast<double>(xp[k * inner]) / norm);
    }
  }
}

void lp_norm_naive(const LpNormOp& op, const KernCtx& ctx) {
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    LR_DISPATCH_FLOAT(c.input(0).dtype(), "LpNormalization", lp_norm_t<T>(op, c));
  });
}

const auto kNaive = naive_algo<LpNormOp>(lp_norm_naive);

}  // namespace

void register_op_LpNormalization(OpRegistry& r) {
  register_simple<LpNormOp>(r, "LpNormalization", {&kNaive}, 1, 1);
}

}  // namespace loadrun
