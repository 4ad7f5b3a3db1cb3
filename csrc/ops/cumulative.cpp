// CumSum and CumProd(x, axis; exclusive, reverse): running sum / product of
// x along `axis` (an int32/int64 scalar input, negative counts from the end;
// it does not change the shape, so it may be a run-time value). exclusive = 1
// leaves out the element itself (the first output is 0 for CumSum, 1 for
// CumProd); reverse = 1 runs from the end of the axis toward its start.
// Floats (float16 through float32) and integers (arithmetic wraps).
// NAIVE: view x as [outer, n, inner]; for each (outer, inner) line, one pass
// carrying the running value in the element's type (as ONNX Runtime does).
// O(n), no workspace.
#include "ops/common.h"
#include "ops/elementwise.h"

namespace loadrun {

namespace {

struct CumOp final : Op {
  bool prod;
  bool exclusive, reverse;
  CumOp(bool p, const Attrs& a)
      : prod(p), exclusive(a.get_int("exclusive", 0) != 0), reverse(a.get_int("reverse", 0) != 0) {}
  std::string param_key() const override { return str_cat(exclusive, ";", reverse); }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& ax = ctx.input(1);
    LR_CHECK(x.dtype != DType::Bool, UnsupportedError, "dtype bool is not supported");
    LR_CHECK(x.ndim() >= 1, ModelError, "x must have rank >= 1, got a scalar");
    LR_CHECK(ax.dtype == DType::Int32 || ax.dtype == DType::Int64, ModelError,
             "axis must be int32 or int64, got ", dtype_name(ax.dtype));
    LR_CHECK(ax.numel() == 1 && ax.ndim() <= 1, ModelError, "axis must hold one value, got shape ",
             shape_str(ax.shape));
    if (const Tensor* v = ctx.value_or_null(1)) normalize_axis(v->get_i64(0), x.ndim());
    ctx.set_output(0, x.shape, x.dtype);
  }
};

template <typename T>
void cum_t(const CumOp& op, const KernCtx& ctx) {
  using N = Num<T>;
  using C = typename N::C;
  const Tensor& xt = ctx.input(0);
  const Shape& s = xt.shape();
  size_t a = static_cast<size_t>(normalize_axis(ctx.input(1).get_i64(0), static_cast<int64_t>(s.size())));
  const int64_t outer = dims_product(s, 0, a), n = s[a], inner = dims_product(s, a + 1, s.size());
  const T* x = xt.ptr<T>();
  T* y = ctx.output(0).ptr<T>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t in = 0; in < inner; ++in) {
      int64_t base = o * n * inner + in;
      C acc = op.prod ? C(1) : C(0);
      for (int64_t t = 0; t < n; ++t) {
        int64_t p = base + (op.reverse ? n - 1 - t : t) * inner;
        C v = N::ld(x[p]);
        if (!op.exclusive) acc = op.prod ? mul_wrap(acc, v) : add_wrap(acc, v);
        y[p] = N::st(acc);
        if (op.exclusive) acc = op.prod ? mul_wrap(acc, v) : add_wrap(acc, v);
      }
    }
  }
}

void cum_naive(const CumOp& op, const KernCtx& ctx) {
  LR_EW_DISPATCH_NUMERIC(ctx.input(0).dtype(), op.prod ? "CumProd" : "CumSum", cum_t<T>(op, ctx));
}

const auto kNaive = naive_algo<CumOp>(cum_naive);

template <bool Prod>
void reg(OpRegistry& r, const char* type) {
  OpDef d;
  d.type = type;
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<CumOp>(Prod, a); };
  d.algos = {&kNaive};
  d.min_inputs = d.max_inputs = 2;
  r.add(std::move(d));
}

}  // namespace

void register_op_CumSum(OpRegistry& r) { reg<false>(r, "CumSum"); }
void register_op_CumProd(OpRegistry& r) { reg<true>(r, "CumProd"); }

}  // namespace loadrun
