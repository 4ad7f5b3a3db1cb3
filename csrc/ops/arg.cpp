// ArgMax and ArgMin (ONNX): the int64 index of the largest / smallest value
// along `axis` (default 0). Ties give the first index, or the last with
// select_last_index = 1. keepdims (default 1) keeps the reduced dim as 1.
// Works for every numeric dtype.
// NAIVE: view the input as [outer, n, inner]; for each (outer, inner) scan
// the n values with stride `inner`, keeping the best so far (a strict
// comparison keeps the first of equal values, a non-strict one the last).
// O(numel), no workspace.
#include "ops/common.h"

namespace loadrun {

namespace {

struct ArgOp final : Op {
  bool is_max;
  int64_t axis;
  bool keepdims, last;
  ArgOp(bool mx, const Attrs& a)
      : is_max(mx),
        axis(a.get_int("axis", 0)),
        keepdims(a.get_int("keepdims", 1) != 0),
        last(a.get_int("select_last_index", 0) != 0) {}
  std::string param_key() const override { return str_cat(axis, ";", keepdims, ";", last); }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(x.dtype != DType::Bool &&
                 (!dtype_is_storage_only(x.dtype) || dtype_is_lowp_float(x.dtype)),
             UnsupportedError, "dtype ", dtype_name(x.dtype), " is not supported");
    size_t a = static_cast<size_t>(normalize_axis(axis, static_cast<int64_t>(x.ndim())));
    LR_CHECK(x.shape[a] > 0, ModelError, "cannot take the ", is_max ? "ArgMax" : "ArgMin",
             " of an empty axis (axis ", a, " of ", shape_str(x.shape), ")");
    Shape out;
    for (size_t d = 0; d < x.ndim(); ++d) {
      if (d != a) out.push_back(x.shape[d]);
      else if (keepdims) out.push_back(1);
    }
    ctx.set_output(0, out, DType::Int64);
  }
};

template <typename T>
void arg_naive_t(const ArgOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const Shape& s = xt.shape();
  size_t a = static_cast<size_t>(normalize_axis(op.axis, static_cast<int64_t>(s.size())));
  const int64_t outer = dims_product(s, 0, a), n = s[a], inner = dims_product(s, a + 1, s.size());
  const T* x = xt.ptr<T>();
  int64_t* y = ctx.output(0).ptr<int64_t>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t in = 0; in < inner; ++in) {
      const T* xl = x + o * n * inner + in;
      int64_t best = 0;
      T bv = xl[0];
      for (int64_t i = 1; i < n; ++i) {
        T v = xl[i * inner];
        bool better = op.is_max ? (op.last ? v >= bv : v > bv) : (op.last ? v <= bv : v < bv);
        if (better) {
          bv = v;
          best = i;
        }
      }
      y[o * inner + in] = best;
    }
  }
}

void arg_naive(const ArgOp& op, const KernCtx& ctx) {
  with_f16_as_f32(ctx, [&](const KernCtx& c) {  // float16 / bfloat16: exact in float32
    LR_DISPATCH_NUMERIC(c.input(0).dtype(), op.is_max ? "ArgMax" : "ArgMin", arg_naive_t<T>(op, c));
  });
}

const auto kNaive = naive_algo<ArgOp>(arg_naive);

template <bool IsMax>
void reg(OpRegistry& r, const char* type) {
  OpDef d;
  d.type = type;
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<ArgOp>(IsMax, a); };
  d.algos = {&kNaive};
  d.min_inputs = d.max_inputs = 1;
  r.add(std::move(d));
}

}  // namespace

void register_op_ArgMax(OpRegistry& r) { reg<true>(r, "ArgMax"); }
void register_op_ArgMin(OpRegistry& r) { reg<false>(r, "ArgMin"); }

}  // namespace loadrun
