// OneHot(indices, depth, values; axis): a tensor of rank(indices) + 1 with a
// new dim of size `depth` inserted at `axis` (default -1, the innermost);
// element [.., d, ..] is values[1] (on) where indices[..] == d and values[0]
// (off) elsewhere. A negative index counts from the end (index + depth); one
// outside [-depth, depth) gives a row of only off values. indices and depth
// may be any numeric dtype (a float index is truncated); depth decides the
// output shape, so it is read at compile time. The output has values' dtype,
// any dtype (elements are moved by size).
// NAIVE: fill the output with off, then write on once per index.
// O(numel(output)), no workspace.
#include <cmath>
#include <cstring>

#include "ops/common.h"
#include "ops/element_copy.h"

namespace loadrun {

namespace {

struct OneHotOp final : Op {
  int64_t axis;
  explicit OneHotOp(const Attrs& a) : axis(a.get_int("axis", -1)) {}
  std::string param_key() const override { return std::to_string(axis); }
  void infer(InferCtx& ctx) const override {
    const Layout& ind = ctx.input(0);
    const Layout& vals = ctx.input(2);
    LR_CHECK(ind.dtype != DType::Bool, ModelError, "indices must be numeric, got bool");
    LR_CHECK(vals.numel() == 2 && vals.ndim() == 1, ModelError,
             "values must be a 1-D tensor of two elements [off, on], got shape ", shape_str(vals.shape));
    const Tensor& dt = ctx.value(1, "OneHot depth");
    LR_CHECK(dt.numel() == 1, ModelError, "depth must hold one value, got shape ", shape_str(dt.shape()));
    double dv = dt.get_f64(0);
    LR_CHECK(std::isfinite(dv) && dv >= 1 && dv < 9.0e15, ModelError, "depth ", dv,
             " must be a positive number");
    int64_t depth = static_cast<int64_t>(dv);
    int64_t r = static_cast<int64_t>(ind.ndim());
    size_t a = static_cast<size_t>(normalize_axis(axis, r + 1));
    Shape out = ind.shape;
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(a), depth);
    ctx.set_output(0, out, vals.dtype);
  }
};

void one_hot_naive(const OneHotOp& op, const KernCtx& ctx) {
  const Tensor& ind = ctx.input(0);
  const Tensor& vals = ctx.input(2);
  Tensor& y = ctx.output(0);
  size_t a = static_cast<size_t>(normalize_axis(op.axis, static_cast<int64_t>(ind.ndim()) + 1));
  int64_t depth = y.shape()[a];
  int64_t outer = dims_product(ind.shape(), 0, a);
  int64_t inner = dims_product(ind.shape(), a, ind.ndim());
  size_t es = dtype_size(vals.dtype());
  const uint8_t* off = static_cast<const uint8_t*>(vals.raw());
  const uint8_t* on = off + es;
  uint8_t* dst = static_cast<uint8_t*>(y.raw());
  fill_elements(dst, off, y.dtype(), y.numel());
  bool is_float = dtype_is_float(ind.dtype());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t in = 0; in < inner; ++in) {
      int64_t p = o * inner + in;
      int64_t d;
      if (is_float) {
        double v = ind.get_f64(p);
        if (!(v > -static_cast<double>(depth) - 1 && v < static_cast<double>(depth))) continue;
        d = static_cast<int64_t>(v);  // truncates toward zero
      } else {
        d = ind.get_i64(p);
      }
      if (d < -depth || d >= depth) continue;
      if (d < 0) d += depth;
      std::memcpy(dst + ((o * depth + d) * inner + in) * es, on, es);
    }
  }
}

const auto kNaive = naive_algo<OneHotOp>(one_hot_naive);

}  // namespace

void register_op_OneHot(OpRegistry& r) { register_simple<OneHotOp>(r, "OneHot", {&kNaive}, 3, 3); }

}  // namespace loadrun
