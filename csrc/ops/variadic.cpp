// Variadic elementwise reductions over inputs: Max, Min, Sum, Mean (1..N
// inputs of one dtype, NumPy broadcasting over all of them).
// NAIVE: one pass over the output; for each element, fold the inputs left to
// right (Mean divides the sum by N). O(n * N * rank), no workspace.
// Max and Min propagate NaN, as ONNX Runtime does. Integers wrap in Sum.
#include <cmath>

#include "kernels/broadcast_plan.h"
#include "kernels/fast_algo.h"
#include "ops/elementwise.h"

namespace loadrun {

namespace {

enum class VarKind { Max, Min, Sum, Mean };

const char* kind_name(VarKind k) {
  switch (k) {
    case VarKind::Max: return "Max";
    case VarKind::Min: return "Min";
    case VarKind::Sum: return "Sum";
    case VarKind::Mean: return "Mean";
  }
  return "?";
}

struct VariadicOp final : Op {
  VarKind kind;
  VariadicOp(VarKind k, const Attrs&) : kind(k) {}
  std::string param_key() const override { return str_cat(static_cast<int>(kind)); }
  void infer(InferCtx& ctx) const override {
    const char* name = kind_name(kind);
    LR_CHECK(ctx.num_inputs() >= 1, ModelError, name, ": needs at least one input");
    std::vector<Shape> shapes;
    DType dt = ctx.input(0).dtype;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      const Layout& l = ctx.input(i);
      LR_CHECK(l.dtype == dt, ModelError, name, ": all inputs must have one dtype; input 0 is ",
               dtype_name(dt), ", input ", i, " is ", dtype_name(l.dtype));
      shapes.push_back(l.shape);
    }
    LR_CHECK(dt != DType::Bool, UnsupportedError, name, ": bool inputs are not supported");
    LR_CHECK(kind != VarKind::Mean || dtype_is_float(dt), UnsupportedError,
             "Mean: dtype ", dtype_name(dt), " is not supported (float types only)");
    ctx.set_output(0, broadcast_shapes(shapes), dt);
  }
};

template <typename C>
C combine(VarKind k, C acc, C v) {
  switch (k) {
    case VarKind::Max:
    case VarKind::Min:
      if constexpr (std::is_floating_point_v<C>) {
        if (std::isnan(acc)) return acc;
        if (std::isnan(v)) return v;
      }
      if (k == VarKind::Max) return acc < v ? v : acc;
      return v < acc ? v : acc;
    case VarKind::Sum:
    case VarKind::Mean: return add_wrap(acc, v);
  }
  return acc;
}

template <typename T>
void variadic_loop(const VariadicOp& op, const KernCtx& ctx) {
  using N = Num<T>;
  using C = typename N::C;
  size_t nin = ctx.in.size();
  Tensor& ty = ctx.output(0);
  std::vector<Shape> shapes;
  std::vector<const T*> ptrs;
  for (size_t k = 0; k < nin; ++k) {
    shapes.push_back(ctx.input(k).shape());
    ptrs.push_back(ctx.input(k).template ptr<T>());
  }
  BroadcastIndexer ix(ty.shape(), shapes);
  T* y = ty.ptr<T>();
  int64_t n = ix.numel();
  for (int64_t i = 0; i < n; ++i) {
    C acc = N::ld(ptrs[0][ix.offset(0, i)]);
    for (size_t k = 1; k < nin; ++k) acc = combine(op.kind, acc, N::ld(ptrs[k][ix.offset(k, i)]));
    if constexpr (!std::is_integral_v<C>) {
      if (op.kind == VarKind::Mean) acc = acc / static_cast<C>(nin);
    }
    y[i] = N::st(acc);
  }
}

void variadic_naive(const VariadicOp& op, const KernCtx& ctx) {
  DType dt = ctx.input(0).dtype();
  LR_EW_DISPATCH_NUMERIC(dt, kind_name(op.kind), variadic_loop<T>(op, ctx));
}

const auto kNaive = naive_algo<VariadicOp>(variadic_naive);

// --- fast algorithm (ELEMWISE_FAST, on kernel_table()), float32: fold the
// inputs left to right into the output with the broadcasting binary kernel
// (y = in0 op in1, then y = y op in_k), Mean dividing at the end. Same
// operations in the same order as NAIVE, so the same results (NaN
// propagation of Max/Min included). Each thread runs all of it over its own
// share of the output elements.

bool variadic_fast_usable(const VariadicOp&, const InLayouts& in, const OutLayouts&) {
  for (const Layout* l : in)
    if (!l || l->dtype != DType::Float32) return false;
  return true;
}

void variadic_fast(const VariadicOp& op, const KernCtx& ctx, const kernels::EltwiseImpl& impl) {
  using K = kernels::BinaryKind;
  Tensor& y = ctx.output(0);
  const size_t nin = ctx.in.size();
  if (nin == 1) {
    const float* x = ctx.input(0).ptr<float>();
    float* yp = y.ptr<float>();
    kernels::split_elems(ctx.comp_node, y.numel(), 8, [&](int64_t b, int64_t e) {
      impl.unary(kernels::UnaryKind::Copy, x + b, yp + b, e - b, 0, 0);
    });
    return;
  }
  const K k = op.kind == VarKind::Max ? K::Max : op.kind == VarKind::Min ? K::Min : K::Add;
  // One plan per step (in0 op in1, then y op in_k); each thread runs every
  // step over its own output elements.
  std::vector<kernels::BroadcastPlan> plans;
  plans.emplace_back(y.shape(), std::vector<Shape>{ctx.input(0).shape(), ctx.input(1).shape()});
  for (size_t i = 2; i < nin; ++i)
    plans.emplace_back(y.shape(), std::vector<Shape>{y.shape(), ctx.input(i).shape()});
  float* yp = y.ptr<float>();
  const float d = static_cast<float>(nin);
  kernels::split_elems(ctx.comp_node, y.numel(), 8.0 * static_cast<double>(nin),
                       [&](int64_t begin, int64_t end) {
    for (size_t s = 0; s < plans.size(); ++s) {
      const float* a = s == 0 ? ctx.input(0).ptr<float>() : yp;
      const float* b = ctx.input(s + 1).ptr<float>();
      const kernels::BroadcastPlan& p = plans[s];
      p.for_each_span(begin, end, [&](int64_t yo, const int64_t* off, int64_t n) {
        impl.binary(k, a + off[0], p.inner_stride[0], b + off[1], p.inner_stride[1], yp + yo, n);
      });
    }
    if (op.kind == VarKind::Mean)
      for (int64_t i = begin; i < end; ++i) yp[i] = yp[i] / d;
  });
}

const KernelAlgo<VariadicOp> kFast("ELEMWISE_FAST", variadic_fast_usable,
                                           variadic_fast);

void reg(OpRegistry& r, VarKind k) {
  OpDef d;
  d.type = kind_name(k);
  d.create = [k](const Attrs& a) -> std::unique_ptr<Op> {
    return std::make_unique<VariadicOp>(k, a);
  };
  d.algos = {&kNaive, &kFast};
  d.min_inputs = 1;
  r.add(std::move(d));
}

}  // namespace

void register_op_Max(OpRegistry& r) { reg(r, VarKind::Max); }
void register_op_Min(OpRegistry& r) { reg(r, VarKind::Min); }
void register_op_Sum(OpRegistry& r) { reg(r, VarKind::Sum); }
void register_op_Mean(OpRegistry& r) { reg(r, VarKind::Mean); }

}  // namespace loadrun
