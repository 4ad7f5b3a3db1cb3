// Det (ONNX): determinant of each trailing M x M matrix of X (*, M, M); the
// output has shape (*). float16 computes in float32.
// NAIVE: Gaussian elimination with partial pivoting in double on a copy of
// each matrix; the determinant is the product of the pivots, negated once per
// row swap (0 as soon as a column has no non-zero pivot). O(batch * M^3),
// O(M^2) scratch.
#include <cmath>
#include <utility>
#include <vector>

#include "ops/common.h"

namespace loadrun {

namespace {

struct DetOp final : Op {
  explicit DetOp(const Attrs&) {}
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(dtype_is_compute_float(x.dtype),
             UnsupportedError, "Det on ", dtype_name(x.dtype),
             ": supported are float16, bfloat16, float32, float64");
    LR_CHECK(x.ndim() >= 2 && x.shape[x.ndim() - 1] == x.shape[x.ndim() - 2], ModelError,
             "Det: input must be (*, M, M), got ", shape_str(x.shape));
    ctx.set_output(0, Shape(x.shape.begin(), x.shape.end() - 2), x.dtype);
  }
};

double det_of(std::vector<double>& a, int64_t m) {
  double det = 1.0;
  for (int64_t col = 0; col < m; ++col) {
    int64_t piv = col;
    for (int64_t r = col + 1; r < m; ++r)
      if (std::fabs(a[r * m + col]) > std::fabs(a[piv * m + col])) piv = r;
    if (a[piv * m + col] == 0.0) return 0.0;
    if (piv != col) {
      for (int64_t k = 0; k < m; ++k) std::swap(a[piv * m + k], a[col * m + k]);
      det = -det;
    }
    double p = a[col * m + col];
    det *= p;
    for (int64_t r = col + 1; r < m; ++r) {
      double f = a[r * m + col] / p;
      if (f == 0.0) continue;
      for (int64_t k = col; k < m; ++k) a[r * m + k] -= f * a[col * m + k];
    }
  }
  return det;
}

template <typename T>
void det_t(const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const int64_t m = xt.shape().back(), mm = m * m;
  const int64_t batch = mm ? xt.numel() / mm : ctx.output(0).numel();
  const T* x = xt.ptr<T>();
  T* y = ctx.output(0).ptr<T>();
  std::vector<double> a(static_cast<size_t>(mm));
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t i = 0; i < mm; ++i) a[i] = static_cast<double>(x[b * mm + i]);
    y[b] = static_cast<T>(det_of(a, m));
  }
}

void det_naive(const DetOp&, const KernCtx& ctx) {
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    LR_DISPATCH_FLOAT(c.input(0).dtype(), "Det", det_t<T>(c));
  });
}

const auto kNaive = naive_algo<DetOp>(det_naive);

}  // namespace

void register_op_Det(OpRegistry& r) { register_simple<DetOp>(r, "Det", {&kNaive}, 1, 1); }

}  // namespace loadrun
