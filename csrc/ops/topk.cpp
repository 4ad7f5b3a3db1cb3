// TopK(X, K; axis, largest, sorted): the K largest (or smallest) values
// along `axis` and their int64 indices. Output shape: X's with the axis dim
// replaced by K. Equal values keep their order along the axis (the lower
// index comes first); NaN counts as larger than every number (first when
// largest, last when smallest). sorted = 0 leaves the order free: the output
// is sorted anyway. K (an int64 one-element input) decides the output shape:
// it is read at compile time. (Opset < 10 has K as an attribute: the importer
// moves it to the input.) Every numeric dtype; float16 compares as float32.
// NAIVE: for each (outer, inner) line, stable-sort the positions 0..n-1 by
// value and keep the first K. O(outer * inner * n log n), no workspace.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/common.h"
#include "ops/elementwise.h"

namespace loadrun {

namespace {

struct TopKOp final : Op {
  int64_t axis;
  bool largest, sorted;
  explicit TopKOp(const Attrs& a)
      : axis(a.get_int("axis", -1)),
        largest(a.get_int("largest", 1) != 0),
        sorted(a.get_int("sorted", 1) != 0) {}
  std::string param_key() const override { return str_cat(axis, ";", largest, ";", sorted); }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(x.dtype != DType::Bool, UnsupportedError, "dtype bool is not supported");
    LR_CHECK(x.ndim() >= 1, ModelError, "X must have rank >= 1, got a scalar");
    size_t a = static_cast<size_t>(normalize_axis(axis, static_cast<int64_t>(x.ndim())));
    const Tensor& kt = ctx.value(1, "TopK k");
    LR_CHECK(kt.numel() == 1 && kt.ndim() <= 1, ModelError, "K must hold one value, got shape ",
             shape_str(kt.shape()));
    int64_t k = kt.get_i64(0);
    LR_CHECK(k >= 0 && k <= x.shape[a], ModelError, "K = ", k, " is out of range for axis ", a,
             " of ", shape_str(x.shape), " (valid: 0..", x.shape[a], ")");
    Shape out = x.shape;
    out[a] = k;
    ctx.set_output(0, out, x.dtype);
    ctx.set_output(1, out, DType::Int64);
  }
};

template <typename T>
void topk_t(const TopKOp& op, const KernCtx& ctx) {
  using N = Num<T>;
  using C = typename N::C;
  const Tensor& xt = ctx.input(0);
  Tensor& vt = ctx.output(0);
  Tensor& it = ctx.output(1);
  const Shape& s = xt.shape();
  size_t a = static_cast<size_t>(normalize_axis(op.axis, static_cast<int64_t>(s.size())));
  int64_t k = ctx.input(1).get_i64(0);
  LR_CHECK(k == vt.shape()[a], ModelError, "K = ", k, " differs from the compiled output's ",
           vt.shape()[a]);
  const int64_t outer = dims_product(s, 0, a), n = s[a], inner = dims_product(s, a + 1, s.size());
  const T* x = xt.ptr<T>();
  T* vals = vt.ptr<T>();
  int64_t* idx = it.ptr<int64_t>();
  std::vector<C> line(static_cast<size_t>(n));
  std::vector<int64_t> order(static_cast<size_t>(n));
  auto is_nan = [](C v) {
    if constexpr (std::is_floating_point_v<C>) return std::isnan(v);
    else return false;
  };
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t in = 0; in < inner; ++in) {
      const T* xl = x + o * n * inner + in;
      for (int64_t i = 0; i < n; ++i) line[static_cast<size_t>(i)] = N::ld(xl[i * inner]);
      std::iota(order.begin(), order.end(), int64_t{0});
      // "before(i, j)": position i goes strictly before position j.
      auto before = [&](int64_t i, int64_t j) {
        C u = line[static_cast<size_t>(i)], v = line[static_cast<size_t>(j)];
        if (op.largest) return is_nan(u) ? !is_nan(v) : (!is_nan(v) && u > v);
        return is_nan(v) ? !is_nan(u) : (!is_nan(u) && u < v);
      };
      std::stable_sort(order.begin(), order.end(), before);
      for (int64_t j = 0; j < k; ++j) {
        int64_t src = order[static_cast<size_t>(j)];
        int64_t dst = o * k * inner + j * inner + in;
        vals[dst] = xl[src * inner];
        idx[dst] = src;
      }
    }
  }
}

void topk_naive(const TopKOp& op, const KernCtx& ctx) {
  LR_EW_DISPATCH_NUMERIC(ctx.input(0).dtype(), "TopK", topk_t<T>(op, ctx));
}

const auto kNaive = naive_algo<TopKOp>(topk_naive);

}  // namespace

void register_op_TopK(OpRegistry& r) { register_simple<TopKOp>(r, "TopK", {&kNaive}, 2, 2); }

}  // namespace loadrun
