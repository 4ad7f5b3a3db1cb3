// Comparisons and logic with a bool output: Equal, Greater, Less,
// GreaterOrEqual, LessOrEqual (numeric inputs of one dtype; Equal also bool),
// And, Or, Xor (bool, broadcasting) and Not (bool, unary).
// NAIVE: one pass over the output with a BroadcastIndexer. O(n * rank), no
// workspace. ELEMWISE_FAST: runs of the broadcast, vectorised (below). Comparisons involving NaN are false (Equal too), as in IEEE.
#include "kernels/broadcast_plan.h"
#include "kernels/fast_algo.h"
#include "ops/elementwise.h"

namespace loadrun {

namespace {

enum class CmpKind { Equal, Greater, Less, GreaterOrEqual, LessOrEqual, And, Or, Xor, Not };

const char* kind_name(CmpKind k) {
  switch (k) {
    case CmpKind::Equal: return "Equal";
    case CmpKind::Greater: return "Greater";
    case CmpKind::Less: return "Less";
    case CmpKind::GreaterOrEqual: return "GreaterOrEqual";
    case CmpKind::LessOrEqual: return "LessOrEqual";
    case CmpKind::And: return "And";
    case CmpKind::Or: return "Or";
    case CmpKind::Xor: return "Xor";
    case CmpKind::Not: return "Not";
  }
  return "?";
}

bool is_logic(CmpKind k) {
  return k == CmpKind::And || k == CmpKind::Or || k == CmpKind::Xor || k == CmpKind::Not;
}

struct CompareOp final : Op {
  CmpKind kind;
  CompareOp(CmpKind k, const Attrs&) : kind(k) {}
  std::string param_key() const override { return str_cat(static_cast<int>(kind)); }
  void infer(InferCtx& ctx) const override {
    const char* name = kind_name(kind);
    const Layout& a = ctx.input(0);
    if (kind == CmpKind::Not) {
      LR_CHECK(a.dtype == DType::Bool, ModelError, "Not: input must be bool, got ",
               dtype_name(a.dtype));
      ctx.set_output(0, a.shape, DType::Bool);
      return;
    }
    const Layout& b = ctx.input(1);
    LR_CHECK(a.dtype == b.dtype, ModelError, name, ": both inputs must have the same dtype, got ",
             dtype_name(a.dtype), " and ", dtype_name(b.dtype));
    if (is_logic(kind)) {
      LR_CHECK(a.dtype == DType::Bool, ModelError, name, ": inputs must be bool, got ",
               dtype_name(a.dtype));
    } else if (kind != CmpKind::Equal) {
      LR_CHECK(a.dtype != DType::Bool, UnsupportedError, name, ": bool inputs are not supported");
    }
    ctx.set_output(0, broadcast_shapes({a.shape, b.shape}), DType::Bool);
  }
};

template <typename C>
bool compare_s(CmpKind k, C x, C y) {
  switch (k) {
    case CmpKind::Equal: return x == y;
    case CmpKind::Greater: return x > y;
    case CmpKind::Less: return x < y;
    case CmpKind::GreaterOrEqual: return x >= y;
    case CmpKind::LessOrEqual: return x <= y;
    case CmpKind::And: return x && y;
    case CmpKind::Or: return x || y;
    case CmpKind::Xor: return x != y;
    case CmpKind::Not: return !x;
  }
  return false;
}

template <typename T>
void compare_loop(const CompareOp& op, const KernCtx& ctx) {
  using N = Num<T>;
  const Tensor& ta = ctx.input(0);
  const Tensor& tb = ctx.input(1);
  Tensor& ty = ctx.output(0);
  BroadcastIndexer ix(ty.shape(), {ta.shape(), tb.shape()});
  const T* a = ta.ptr<T>();
  const T* b = tb.ptr<T>();
  bool* y = ty.ptr<bool>();
  int64_t n = ix.numel();
  for (int64_t i = 0; i < n; ++i)
    y[i] = compare_s(op.kind, N::ld(a[ix.offset(0, i)]), N::ld(b[ix.offset(1, i)]));
}

void compare_naive(const CompareOp& op, const KernCtx& ctx) {
  if (op.kind == CmpKind::Not) {
    const bool* x = ctx.input(0).ptr<bool>();
    bool* y = ctx.output(0).ptr<bool>();
    int64_t n = ctx.input(0).numel();
    for (int64_t i = 0; i < n; ++i) y[i] = !x[i];
    return;
  }
  DType dt = ctx.input(0).dtype();
  LR_EW_DISPATCH_ALL(dt, kind_name(op.kind), compare_loop<T>(op, ctx));
}

const auto kNaive = naive_algo<CompareOp>(compare_naive);

// --- fast algorithm (ELEMWISE_FAST, on kernel_table().convert): the
// broadcast collapsed to runs (kernels/broadcast_plan.h), one compare kernel
// call per run (the loops vectorised per ISA level). Float32/64, int8/32/64,
// uint8 and bool; same results as NAIVE. The output elements are split
// over the step's threads.
kernels::CompareKind compare_kind(CmpKind k) {
  using K = kernels::CompareKind;
  switch (k) {
    case CmpKind::Equal: return K::Equal;
    case CmpKind::Greater: return K::Greater;
    case CmpKind::Less: return K::Less;
    case CmpKind::GreaterOrEqual: return K::GreaterOrEqual;
    case CmpKind::LessOrEqual: return K::LessOrEqual;
    case CmpKind::And: return K::And;
    case CmpKind::Or: return K::Or;
    default: return K::Xor;
  }
}

bool compare_fast_usable(const CompareOp& op, const InLayouts& in, const OutLayouts&) {
  return op.kind == CmpKind::Not || kernels::compare_fast_dtype(in[0]->dtype);
}

void compare_fast(const CompareOp& op, const KernCtx& ctx, const kernels::KernelTable& kt) {
  Tensor& ty = ctx.output(0);
  if (op.kind == CmpKind::Not) {
    const bool* x = ctx.input(0).ptr<bool>();
    bool* y = ty.ptr<bool>();
    kernels::split_elems(ctx.comp_node, ty.numel(), 2, [&](int64_t b, int64_t e) {
      kt.convert.logical_not(x + b, y + b, e - b);
    });
    return;
  }
  const Tensor& ta = ctx.input(0);
  const Tensor& tb = ctx.input(1);
  kernels::BroadcastPlan plan(ty.shape(), {ta.shape(), tb.shape()});
  const DType dt = ta.dtype();
  const size_t es = dtype_size(dt);
  const uint8_t* pa = static_cast<const uint8_t*>(ta.raw());
  const uint8_t* pb = static_cast<const uint8_t*>(tb.raw());
  bool* py = ty.ptr<bool>();
  const kernels::CompareKind k = compare_kind(op.kind);
  const int64_t sa = plan.inner_stride[0], sb = plan.inner_stride[1];
  kernels::split_elems(ctx.comp_node, plan.numel, 2.0 * es + 1, [&](int64_t begin, int64_t end) {
    plan.for_each_span(begin, end, [&](int64_t yo, const int64_t* off, int64_t n) {
      kt.convert.compare(k, dt, pa + off[0] * es, sa, pb + off[1] * es, sb, py + yo, n);
    });
  });
}

const KernelAlgo<CompareOp> kFast("ELEMWISE_FAST", compare_fast_usable, compare_fast);

void reg(OpRegistry& r, CmpKind k) {
  OpDef d;
  d.type = kind_name(k);
  d.create = [k](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<CompareOp>(k, a); };
  d.algos = {&kNaive, &kFast};
  d.min_inputs = d.max_inputs = k == CmpKind::Not ? 1 : 2;
  r.add(std::move(d));
}

}  // namespace

void register_op_Equal(OpRegistry& r) { reg(r, CmpKind::Equal); }
void register_op_Greater(OpRegistry& r) { reg(r, CmpKind::Greater); }
void register_op_Less(OpRegistry& r) { reg(r, CmpKind::Less); }
void register_op_GreaterOrEqual(OpRegistry& r) { reg(r, CmpKind::GreaterOrEqual); }
void register_op_LessOrEqual(OpRegistry& r) { reg(r, CmpKind::LessOrEqual); }
void register_op_And(OpRegistry& r) { reg(r, CmpKind::And); }
void register_op_Or(OpRegistry& r) { reg(r, CmpKind::Or); }
void register_op_Xor(OpRegistry& r) { reg(r, CmpKind::Xor); }
void register_op_Not(OpRegistry& r) { reg(r, CmpKind::Not); }

}  // namespace loadrun
