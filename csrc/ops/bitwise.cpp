// Bitwise logic on integers (ONNX opset 18): BitwiseAnd, BitwiseOr,
// BitwiseXor (two operands of one integer dtype, NumPy broadcasting) and
// BitwiseNot (one operand). Signed integers act on their two's complement
// bits. Bool and float inputs are ModelError (ONNX allows integers only).
// NAIVE: one pass over the output with a BroadcastIndexer mapping each output
// element to the operands it reads. O(n * rank), no workspace.
#include "ops/elementwise.h"

namespace loadrun {

namespace {

enum class BitKind { And, Or, Xor, Not };

const char* kind_name(BitKind k) {
  switch (k) {
    case BitKind::And: return "BitwiseAnd";
    case BitKind::Or: return "BitwiseOr";
    case BitKind::Xor: return "BitwiseXor";
    case BitKind::Not: return "BitwiseNot";
  }
  return "?";
}

bool is_int(DType dt) { return !dtype_is_float(dt) && dt != DType::Bool; }

struct BitwiseOp final : Op {
  BitKind kind;
  BitwiseOp(BitKind k, const Attrs&) : kind(k) {}
  std::string param_key() const override { return str_cat(static_cast<int>(kind)); }
  void infer(InferCtx& ctx) const override {
    const char* name = kind_name(kind);
    const Layout& a = ctx.input(0);
    LR_CHECK(is_int(a.dtype), ModelError, name, ": inputs must be integers, got ",
             dtype_name(a.dtype));
    if (kind == BitKind::Not) {
      ctx.set_output(0, a.shape, a.dtype);
      return;
    }
    const Layout& b = ctx.input(1);
    LR_CHECK(a.dtype == b.dtype, ModelError, name, ": both inputs must have the same dtype, got ",
             dtype_name(a.dtype), " and ", dtype_name(b.dtype));
    ctx.set_output(0, broadcast_shapes({a.shape, b.shape}), a.dtype);
  }
};

template <typename T>
void bitwise_t(BitKind k, const KernCtx& ctx) {
  const T* a = ctx.input(0).ptr<T>();
  Tensor& yt = ctx.output(0);
  T* y = yt.ptr<T>();
  if (k == BitKind::Not) {
    for (int64_t i = 0; i < yt.numel(); ++i) y[i] = static_cast<T>(~a[i]);
    return;
  }
  const T* b = ctx.input(1).ptr<T>();
  BroadcastIndexer ix(yt.shape(), {ctx.input(0).shape(), ctx.input(1).shape()});
  for (int64_t i = 0; i < ix.numel(); ++i) {
    T x = a[ix.offset(0, i)], z = b[ix.offset(1, i)];
    y[i] = static_cast<T>(k == BitKind::And ? (x & z) : k == BitKind::Or ? (x | z) : (x ^ z));
  }
}

void bitwise_naive(const BitwiseOp& op, const KernCtx& ctx) {
  DType dt = ctx.input(0).dtype();
  switch (dt) {
    LR_EW_INT_CASES(bitwise_t<T>(op.kind, ctx))
    default: LR_EW_THROW(dt, kind_name(op.kind));
  }
}

const auto kNaive = naive_algo<BitwiseOp>(bitwise_naive);

void reg(OpRegistry& r, BitKind k) {
  OpDef d;
  d.type = kind_name(k);
  d.create = [k](const Attrs& a) -> std::unique_ptr<Op> {
    return std::make_unique<BitwiseOp>(k, a);
  };
  d.algos = {&kNaive};
  d.min_inputs = d.max_inputs = k == BitKind::Not ? 1 : 2;
  r.add(std::move(d));
}

}  // namespace

void register_op_BitwiseAnd(OpRegistry& r) { reg(r, BitKind::And); }
void register_op_BitwiseOr(OpRegistry& r) { reg(r, BitKind::Or); }
void register_op_BitwiseXor(OpRegistry& r) { reg(r, BitKind::Xor); }
void register_op_BitwiseNot(OpRegistry& r) { reg(r, BitKind::Not); }

}  // namespace loadrun
