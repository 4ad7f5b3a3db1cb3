// Elementwise unary operators (activations and math functions), one table.
// NAIVE: one pass over the contiguous input applying the scalar function in
// the tensor's own float type. O(n), no workspace.
#include <cmath>

#include "ops/common.h"

namespace loadrun {

namespace {

enum class UnaryKind {
  Relu, LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish, Erf, Exp, Log, Sqrt, Neg, Abs,
  Reciprocal,
};

struct UnaryOp final : Op {
  UnaryKind kind;
  double alpha, beta;
  UnaryOp(UnaryKind k, const Attrs& a, double def_alpha, double def_beta)
      : kind(k), alpha(a.get_float("alpha", def_alpha)), beta(a.get_float("beta", def_beta)) {}
  std::string param_key() const override {
    return str_cat(static_cast<int>(kind), ";", alpha, ";", beta);
  }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    ctx.set_output(0, x.shape, x.dtype);
  }
};

// Integer dtypes are allowed where ONNX allows them (Relu, Neg, Abs).
bool allows_int(UnaryKind k) {
  return k == UnaryKind::Relu || k == UnaryKind::Neg || k == UnaryKind::Abs;
}

template <typename T>
T apply(UnaryKind k, T x, double alpha, double beta) {
  using F = T;
  switch (k) {
    case UnaryKind::Relu: return x > T(0) ? x : T(0);
    case UnaryKind::LeakyRelu: return x >= T(0) ? x : static_cast<T>(x * F(alpha));
    case UnaryKind::Sigmoid: return T(1) / (T(1) + std::exp(-x));
    case UnaryKind::Tanh: return std::tanh(x);
    case UnaryKind::HardSigmoid:
      return std::max(T(0), std::min(T(1), static_cast<T>(F(alpha) * x + F(beta))));
    case UnaryKind::HardSwish:
      return x * std::max(T(0), std::min(T(1), static_cast<T>(x / T(6) + T(0.5))));
    case UnaryKind::Erf: return std::erf(x);
    case UnaryKind::Exp: return std::exp(x);
    case UnaryKind::Log: return std::log(x);
    case UnaryKind::Sqrt: return std::sqrt(x);
    case UnaryKind::Neg: return -x;
    case UnaryKind::Abs: return x < T(0) ? -x : x;
    case UnaryKind::Reciprocal: return T(1) / x;
  }
  return x;
}

template <typename T>
void unary_loop(const UnaryOp& op, const Tensor& in, Tensor& out) {
  const T* x = in.ptr<T>();
  T* y = out.ptr<T>();
  int64_t n = in.numel();
  for (int64_t i = 0; i < n; ++i) y[i] = apply<T>(op.kind, x[i], op.alpha, op.beta);
}

template <typename T>
void unary_int_loop(const UnaryOp& op, const Tensor& in, Tensor& out) {
  const T* x = in.ptr<T>();
  T* y = out.ptr<T>();
  int64_t n = in.numel();
  for (int64_t i = 0; i < n; ++i) {
    T v = x[i];
    switch (op.kind) {
      case UnaryKind::Relu: y[i] = v > T(0) ? v : T(0); break;
      case UnaryKind::Neg: y[i] = static_cast<T>(-v); break;
      default: y[i] = v < T(0) ? static_cast<T>(-v) : v; break;
    }
  }
}

void unary_naive(const UnaryOp& op, const KernCtx& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  DType dt = in.dtype();
  if (dtype_is_float(dt)) {
    LR_DISPATCH_FLOAT(dt, "unary", unary_loop<T>(op, in, out));
    return;
  }
  LR_CHECK(allows_int(op.kind), UnsupportedError, "dtype ", dtype_name(dt),
           " is not supported by this operator");
  LR_DISPATCH_NUMERIC(dt, "unary", unary_int_loop<T>(op, in, out));
}

const auto kNaive = naive_algo<UnaryOp>(unary_naive);

template <UnaryKind K>
void reg(OpRegistry& r, const char* type, double alpha = 0, double beta = 0) {
  OpDef d;
  d.type = type;
  d.create = [alpha, beta](const Attrs& a) -> std::unique_ptr<Op> {
    return std::make_unique<UnaryOp>(K, a, alpha, beta);
  };
  d.algos = {&kNaive};
  d.min_inputs = d.max_inputs = 1;
  r.add(std::move(d));
}

}  // namespace

void register_op_Relu(OpRegistry& r) { reg<UnaryKind::Relu>(r, "Relu"); }
void register_op_LeakyRelu(OpRegistry& r) { reg<UnaryKind::LeakyRelu>(r, "LeakyRelu", 0.01); }
void register_op_Sigmoid(OpRegistry& r) { reg<UnaryKind::Sigmoid>(r, "Sigmoid"); }
void register_op_Tanh(OpRegistry& r) { reg<UnaryKind::Tanh>(r, "Tanh"); }
void register_op_HardSigmoid(OpRegistry& r) {
  reg<UnaryKind::HardSigmoid>(r, "HardSigmoid", 0.2, 0.5);
}
void register_op_HardSwish(OpRegistry& r) { reg<UnaryKind::HardSwish>(r, "HardSwish"); }
void register_op_Erf(OpRegistry& r) { reg<UnaryKind::Erf>(r, "Erf"); }
void register_op_Exp(OpRegistry& r) { reg<UnaryKind::Exp>(r, "Exp"); }
void register_op_Log(OpRegistry& r) { reg<UnaryKind::Log>(r, "Log"); }
void register_op_Sqrt(OpRegistry& r) { reg<UnaryKind::Sqrt>(r, "Sqrt"); }
void register_op_Neg(OpRegistry& r) { reg<UnaryKind::Neg>(r, "Neg"); }
void register_op_Abs(OpRegistry& r) { reg<UnaryKind::Abs>(r, "Abs"); }
void register_op_Reciprocal(OpRegistry& r) { reg<UnaryKind::Reciprocal>(r, "Reciprocal"); }

}  // namespace loadrun
