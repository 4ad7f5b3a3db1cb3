// The Reduce family (ONNX): ReduceSum, ReduceMean, ReduceMax, ReduceMin,
// ReduceProd, ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp and
// ReduceSumSquare, in their newest form: the axes are an optional int64
// input (older forms with an `axes` attribute are rewritten by the
// importer). Axes may be negative, must not repeat; none given reduces every
// axis unless noop_with_empty_axes = 1, which reduces none (each element is
// then "reduced" on its own, so ReduceL1 still gives |x|, ReduceSumSquare x^2
// and so on, as ONNX Runtime does). keepdims keeps reduced dims as 1.
// Each op is one row of a table: start value, per-element step, finish.
// Floats accumulate in double; integers (Sum, Mean, Max, Min, Prod, L1,
// SumSquare on int32/int64) in their own type, wrapping on overflow, with
// Mean an integer division. ReduceMax / ReduceMin also take bool (any / all;
// an empty slice gives false / true).
// NAIVE: one walk over the input in memory order with an odometer that
// tracks the output element each input element folds into (stride 0 along
// reduced dims), then a finishing pass over the output. ReduceLogSumExp walks
// twice: first the max per output, then sum(exp(x - max)). O(n) time, O(out)
// scratch.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/fast_algo.h"
#include "kernels/parallel_split.h"
#include "ops/common.h"

namespace loadrun {

namespace {

enum class RKind { Sum, Mean, Max, Min, Prod, L1, L2, LogSum, LogSumExp, SumSquare };

bool int_ok(RKind k) {
  return k == RKind::Sum || k == RKind::Mean || k == RKind::Max || k == RKind::Min ||
         k == RKind::Prod || k == RKind::L1 || k == RKind::SumSquare;
}

// Which dims reduce, and the output shapes.
struct ReducePlan {
  std::vector<bool> reduced;  // per input dim
  Shape out_keep;             // reduced dims as 1
  Shape out;                  // the output (out_keep without them unless keepdims)
  int64_t count = 1;          // input elements per output element
};

ReducePlan make_plan(const Shape& in, const std::vector<int64_t>& axes, bool keepdims, bool noop) {
  const int64_t rank = static_cast<int64_t>(in.size());
  ReducePlan p;
  p.reduced.assign(in.size(), false);
  if (axes.empty()) {
    if (!noop) p.reduced.assign(in.size(), true);
  } else {
    for (int64_t a : axes) {
      size_t d = static_cast<size_t>(normalize_axis(a, rank, "reduce axis"));
      LR_CHECK(!p.reduced[d], ModelError, "reduce axis ", d, " is given more than once");
      p.reduced[d] = true;
    }
  }
  for (size_t d = 0; d < in.size(); ++d) {
    if (p.reduced[d]) {
      p.count *= in[d];
      p.out_keep.push_back(1);
      if (keepdims) p.out.push_back(1);
    } else {
      p.out_keep.push_back(in[d]);
      p.out.push_back(in[d]);
    }
  }
  return p;
}

struct ReduceOp final : Op {
  RKind kind;
  bool keepdims, noop;
  ReduceOp(RKind k, const Attrs& a)
      : kind(k),
        keepdims(a.get_int("keepdims", 1) != 0),
        noop(a.get_int("noop_with_empty_axes", 0) != 0) {}
  std::string param_key() const override {
    return str_cat(static_cast<int>(kind), ";", keepdims, ";", noop);
  }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    DType dt = x.dtype;
    bool ok = dtype_is_compute_float(dt) ||
              ((dt == DType::Int32 || dt == DType::Int64) && int_ok(kind)) ||
              (dt == DType::Bool && (kind == RKind::Max || kind == RKind::Min));
    LR_CHECK(ok, UnsupportedError, "dtype ", dtype_name(dt), " is not supported by ",
             def ? def->type : "this reduction");
    if (ctx.has(1)) {
      const Layout& al = ctx.input(1);
      LR_CHECK(al.dtype == DType::Int64 && al.ndim() <= 1, ModelError,
               "axes must be a 1-D int64 tensor, got ", al.str());
    }
    std::vector<int64_t> axes = ints_of(ctx, 1, "axes");
    ctx.set_output(0, make_plan(x.shape, axes, keepdims, noop).out, dt);
  }
};

// Integer adds and multiplies wrap (through the unsigned type).
template <typename A>
A add(A a, A b) {
  if constexpr (std::is_integral<A>::value) {
    using U = std::make_unsigned_t<A>;
    return static_cast<A>(static_cast<U>(a) + static_cast<U>(b));
  } else {
    return a + b;
  }
}
template <typename A>
A mul(A a, A b) {
  if constexpr (std::is_integral<A>::value) {
    using U = std::make_unsigned_t<A>;
    return static_cast<A>(static_cast<U>(a) * static_cast<U>(b));
  } else {
    return a * b;
  }
}

template <typename A>
A start_value(RKind k) {
  switch (k) {
    case RKind::Prod: return A(1);
    case RKind::Max:
      return std::numeric_limits<A>::has_infinity ? -std::numeric_limits<A>::infinity()
                                                  : std::numeric_limits<A>::lowest();
    case RKind::Min:
      return std::numeric_limits<A>::has_infinity ? std::numeric_limits<A>::infinity()
                                                  : std::numeric_limits<A>::max();
    default: return A(0);
  }
}

// acc (+)= x; `shift` is the per-output max for LogSumExp.
template <typename A>
A step(RKind k, A acc, A x, A shift) {
  switch (k) {
    case RKind::Sum: case RKind::Mean: case RKind::LogSum: return add(acc, x);
    case RKind::Max: return x > acc ? x : acc;
    case RKind::Min: return x < acc ? x : acc;
    case RKind::Prod: return mul(acc, x);
    case RKind::L1: return add(acc, x < A(0) ? mul(x, A(-1)) : x);
    case RKind::L2: case RKind::SumSquare: return add(acc, mul(x, x));
    case RKind::LogSumExp:
      if constexpr (std::is_floating_point<A>::value) return acc + std::exp(x - shift);
      return acc;
  }
  return acc;
}

template <typename A>
A finish(RKind k, A acc, int64_t count, A shift) {
  if constexpr (std::is_floating_point<A>::value) {
    switch (k) {
      case RKind::Mean: return acc / static_cast<A>(count);
      case RKind::L2: return std::sqrt(acc);
      case RKind::LogSum: return std::log(acc);
      case RKind::LogSumExp: return shift + std::log(acc);
      default: return acc;
    }
  } else {
    if (k == RKind::Mean) return count ? static_cast<A>(acc / count) : A(0);
    return acc;
  }
}

// Calls f(i, o) for every input element i (memory order) and the output
// element o it folds into.
template <class F>
void walk(const Shape& in, const Shape& ostride, F&& f) {
  const int64_t n = shape_numel(in);
  const size_t rank = in.size();
  Shape idx(rank, 0);
  int64_t o = 0;
  for (int64_t i = 0; i < n; ++i) {
    f(i, o);
    for (size_t d = rank; d-- > 0;) {
      o += ostride[d];
      if (++idx[d] < in[d]) break;
      o -= ostride[d] * in[d];
      idx[d] = 0;
    }
  }
}

template <typename T>
void reduce_naive_t(const ReduceOp& op, const KernCtx& ctx) {
  using A = std::conditional_t<std::is_floating_point<T>::value, double, T>;
  const Tensor& xt = ctx.input(0);
  std::vector<int64_t> axes;
  if (ctx.has(1)) axes = ctx.input(1).to_i64_vector();
  ReducePlan p = make_plan(xt.shape(), axes, op.keepdims, op.noop);
  Shape ostride = contiguous_strides(p.out_keep);
  for (size_t d = 0; d < ostride.size(); ++d)
    if (p.reduced[d]) ostride[d] = 0;
  const int64_t on = shape_numel(p.out_keep);
  const T* x = xt.ptr<T>();
  T* y = ctx.output(0).ptr<T>();

  std::vector<A> shift(static_cast<size_t>(on), A(0));
  if (op.kind == RKind::LogSumExp) {
    std::vector<A> mx(static_cast<size_t>(on), start_value<A>(RKind::Max));
    walk(xt.shape(), ostride, [&](int64_t i, int64_t o) {
      A v = static_cast<A>(x[i]);
      if (v > mx[o]) mx[o] = v;
    });
    for (int64_t o = 0; o < on; ++o)  // an all -inf (or empty) slice: no shift
      shift[o] = std::isfinite(static_cast<double>(mx[o])) ? mx[o] : A(0);
  }
  std::vector<A> acc(static_cast<size_t>(on), start_value<A>(op.kind));
  walk(xt.shape(), ostride, [&](int64_t i, int64_t o) {
    acc[o] = step<A>(op.kind, acc[o], static_cast<A>(x[i]), shift[o]);
  });
  for (int64_t o = 0; o < on; ++o)
    y[o] = static_cast<T>(finish<A>(op.kind, acc[o], p.count, shift[o]));
}

// ReduceMax / ReduceMin on bool: any / all of each slice.
void reduce_bool(const ReduceOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  std::vector<int64_t> axes;
  if (ctx.has(1)) axes = ctx.input(1).to_i64_vector();
  ReducePlan p = make_plan(xt.shape(), axes, op.keepdims, op.noop);
  Shape ostride = contiguous_strides(p.out_keep);
  for (size_t d = 0; d < ostride.size(); ++d)
    if (p.reduced[d]) ostride[d] = 0;
  const bool is_max = op.kind == RKind::Max;
  const uint8_t* x = xt.ptr<uint8_t>();
  uint8_t* y = ctx.output(0).ptr<uint8_t>();
  for (int64_t o = 0; o < shape_numel(p.out_keep); ++o) y[o] = is_max ? 0 : 1;
  walk(xt.shape(), ostride, [&](int64_t i, int64_t o) {
    if (is_max && x[i]) y[o] = 1;
    if (!is_max && !x[i]) y[o] = 0;
  });
}

void reduce_naive(const ReduceOp& op, const KernCtx& ctx) {
  DType dt = ctx.input(0).dtype();
  if (dtype_is_lowp_float(dt)) {
    return with_f16_as_f32(ctx, [&](const KernCtx& c) { reduce_naive_t<float>(op, c); });
  }
  switch (dt) {
    case DType::Bool: reduce_bool(op, ctx); break;
    LR_CASE_DT(Float32, reduce_naive_t<T>(op, ctx))
    LR_CASE_DT(Float64, reduce_naive_t<T>(op, ctx))
    LR_CASE_DT(Int32, reduce_naive_t<T>(op, ctx))
    LR_CASE_DT(Int64, reduce_naive_t<T>(op, ctx))
    default:
      LR_THROW(UnsupportedError, "reduce: dtype ", dtype_name(dt), " is not supported");
  }
}

const auto kNaive = naive_algo<ReduceOp>(reduce_naive);

// --- fast algorithm (REDUCE_FAST, on kernel_table()): ReduceSum and
// ReduceMean on float32 when the reduced dims (size-1 dims aside) are one
// contiguous block, i.e. the input is [outer, R, inner] (the last axis:
// inner = 1; NCHW spatial axes: inner = 1; a middle or leading block:
// inner > 1). inner = 1: one vectorised row sum per output (float, several
// partial sums); inner > 1: rows of `inner` added with the Add kernel.
// Mean divides by R. Other axis sets, and empty slices, run the NAIVE loop
// (NAIVE accumulates in double: agreement is to about 1e-6 relative).
// ReduceMax on float32 takes the same two paths with the max kernels
// (impl.max per row, row_max_tap over rows of `inner`): NaN never wins and an
// empty slice gives -inf, as in NAIVE, and the result is exact.
// The outputs (inner > 1: runs of output columns) are split over the
// step's threads; each output's additions keep their order.
bool reduce_fast_usable(const ReduceOp& op, const InLayouts& in, const OutLayouts&) {
  return (op.kind == RKind::Sum || op.kind == RKind::Mean || op.kind == RKind::Max) &&
         in[0]->dtype == DType::Float32;
}

// [outer, r, inner] with inner > 1: the outer * inner outputs are split over
// the step's threads as runs of output columns, and fold(xo, yo, n) reduces
// one run: the n outputs at yo from rows xo + i * inner, i = 0..r-1. Each
// output's rows are folded in order, whatever range of columns a thread holds.
template <typename Fold>
void reduce_columns(const float* x, float* y, int64_t outer, int64_t r, int64_t inner,
                    const KernCtx& ctx, Fold fold) {
  kernels::split_elems(ctx.comp_node, outer * inner, 4.0 * static_cast<double>(r + 1),
                       [&](int64_t begin, int64_t end) {
    for (int64_t o = begin / inner; o * inner < end; ++o) {
      const int64_t j0 = std::max(begin, o * inner) - o * inner;
      const int64_t n = std::min(end, (o + 1) * inner) - o * inner - j0;
      fold(x + o * r * inner + j0, y + o * inner + j0, n);
    }
  });
}

// ReduceMax over [outer, r, inner] (r >= 1): a row max per output (inner = 1)
// or a running max over the r rows of each output column run.
void reduce_max_fast(const float* x, float* y, int64_t outer, int64_t r, int64_t inner,
                     const KernCtx& ctx, const kernels::EltwiseImpl& impl) {
  if (inner == 1) {
    kernels::split_items(ctx.comp_node, outer, 4.0 * static_cast<double>(r),
                         [&](int64_t begin, int64_t end, int) {
                           for (int64_t o = begin; o < end; ++o) y[o] = impl.max(x + o * r, r);
                         });
    return;
  }
  reduce_columns(x, y, outer, r, inner, ctx, [&](const float* xo, float* yo, int64_t n) {
    std::fill(yo, yo + n, -std::numeric_limits<float>::infinity());
    for (int64_t i = 0; i < r; ++i) impl.row_max_tap(yo, xo + i * inner, 1, n);
  });
}

void reduce_fast(const ReduceOp& op, const KernCtx& ctx, const kernels::EltwiseImpl& impl) {
  const Tensor& xt = ctx.input(0);
  const Shape& xs = xt.shape();
  std::vector<int64_t> axes;
  if (ctx.has(1)) axes = ctx.input(1).to_i64_vector();
  ReducePlan p = make_plan(xs, axes, op.keepdims, op.noop);
  // The reduced dims of size > 1 must be one run (first..last).
  int64_t first = -1, last = -1;
  for (size_t d = 0; d < xs.size(); ++d) {
    if (!p.reduced[d] || xs[d] == 1) continue;
    if (first < 0) first = static_cast<int64_t>(d);
    last = static_cast<int64_t>(d);
  }
  bool block = p.count > 0 && first >= 0;
  for (int64_t d = first; block && d <= last; ++d)
    block = p.reduced[static_cast<size_t>(d)] || xs[static_cast<size_t>(d)] == 1;
  if (!block) {
    reduce_naive(op, ctx);
    return;
  }
  const int64_t outer = dims_product(xs, 0, static_cast<size_t>(first));
  const int64_t r = p.count;
  const int64_t inner = dims_product(xs, static_cast<size_t>(last) + 1, xs.size());
  const float* x = xt.ptr<float>();
  float* y = ctx.output(0).ptr<float>();
  const float cnt = static_cast<float>(r);
  const bool mean = op.kind == RKind::Mean;
  if (op.kind == RKind::Max) {
    reduce_max_fast(x, y, outer, r, inner, ctx, impl);
    return;
  }
  if (inner == 1) {  // one row sum per output, the outputs split over the threads
    kernels::split_items(ctx.comp_node, outer, 4.0 * static_cast<double>(r),
                         [&](int64_t begin, int64_t end, int) {
                           // locals stay in registers across the kernel calls
                           const auto sum_fn = impl.sum;
                           const float* xs = x;
                           float* ys = y;
                           const int64_t len = r;
                           const float div = cnt;
                           const bool avg = mean;
                           for (int64_t o = begin; o < end; ++o) {
                             const float sum = sum_fn(xs + o * len, len);
                             ys[o] = avg ? sum / div : sum;
                           }
                         });
    return;
  }
  // Columns: output element (o, j) adds x[o, 0..r, j] in order.
  reduce_columns(x, y, outer, r, inner, ctx, [&](const float* xo, float* yo, int64_t n) {
    impl.unary(kernels::UnaryKind::Copy, xo, yo, n, 0, 0);
    for (int64_t i = 1; i < r; ++i)
      impl.binary(kernels::BinaryKind::Add, yo, 1, xo + i * inner, 1, yo, n);
    if (mean)
      for (int64_t j = 0; j < n; ++j) yo[j] = yo[j] / cnt;
  });
}

const KernelAlgo<ReduceOp> kFast("REDUCE_FAST", reduce_fast_usable, reduce_fast);

template <RKind K>
void reg(OpRegistry& r, const char* type) {
  OpDef d;
  d.type = type;
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<ReduceOp>(K, a); };
  d.algos = {&kNaive, &kFast};
  d.min_inputs = 1;
  d.max_inputs = 2;
  r.add(std::move(d));
}

}  // namespace

void register_op_ReduceSum(OpRegistry& r) { reg<RKind::Sum>(r, "ReduceSum"); }
void register_op_ReduceMean(OpRegistry& r) { reg<RKind::Mean>(r, "ReduceMean"); }
void register_op_ReduceMax(OpRegistry& r) { reg<RKind::Max>(r, "ReduceMax"); }
void register_op_ReduceMin(OpRegistry& r) { reg<RKind::Min>(r, "ReduceMin"); }
void register_op_ReduceProd(OpRegistry& r) { reg<RKind::Prod>(r, "ReduceProd"); }
void register_op_ReduceL1(OpRegistry& r) { reg<RKind::L1>(r, "ReduceL1"); }
void register_op_ReduceL2(OpRegistry& r) { reg<RKind::L2>(r, "ReduceL2"); }
void register_op_ReduceLogSum(OpRegistry& r) { reg<RKind::LogSum>(r, "ReduceLogSum"); }
void register_op_ReduceLogSumExp(OpRegistry& r) { reg<RKind::LogSumExp>(r, "ReduceLogSumExp"); }
void register_op_ReduceSumSquare(OpRegistry& r) { reg<RKind::SumSquare>(r, "ReduceSumSquare"); }

}  // namespace loadrun
