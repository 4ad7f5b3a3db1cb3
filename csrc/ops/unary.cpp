// Elementwise unary math functions, one table (the activations use the same
// machinery from activation.cpp): Tanh, Erf, Exp, Log, Sqrt, Neg, Abs,
// Reciprocal, Ceil, Floor, Round (half to even), Sign, the trigonometric and
// hyperbolic functions and their inverses, IsNaN and IsInf (bool output).
// NAIVE: one pass over the contiguous input applying the scalar function;
// float16/float32/float64 compute in double and round back, integers (Neg,
// Abs, Sign, and Relu from activation.cpp) compute in their own type with
// wrapping (Neg/Abs of the minimum stay the minimum). O(n), no workspace.
#include "ops/unary.h"

#include <cmath>
#include <cstring>

#include "kernels/fast_algo.h"
#include "kernels/parallel_split.h"
#include "ops/elementwise.h"

namespace loadrun {

namespace {

struct UnaryOp final : Op {
  int inplace_input(const std::vector<const Layout*>&) const override { return 0; }
  UnarySpec spec;
  UnaryParams p;
  UnaryOp(const UnarySpec& s, const Attrs& a) : spec(s), p(s.parse ? s.parse(a) : UnaryParams{}) {}
  std::string param_key() const override {
    return str_cat(p.alpha, ";", p.beta, ";", p.gamma, ";", p.mode);
  }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    if (dtype_is_float(x.dtype)) {
      ctx.set_output(0, x.shape, spec.bool_out ? DType::Bool : x.dtype);
      return;
    }
    LR_CHECK(spec.int_kind != UnaryInt::None && x.dtype != DType::Bool, UnsupportedError, spec.type,
             ": dtype ", dtype_name(x.dtype), " is not supported");
    ctx.set_output(0, x.shape, x.dtype);
  }
};

template <typename T>
void float_loop(const UnaryOp& op, const Tensor& in, Tensor& out) {
  using N = Num<T>;
  using C = typename N::C;
  const T* x = in.ptr<T>();
  int64_t n = in.numel();
  auto fn = op.spec.fn;
  if (op.spec.bool_out) {
    bool* y = out.ptr<bool>();
    for (int64_t i = 0; i < n; ++i) y[i] = fn(static_cast<double>(N::ld(x[i])), op.p) != 0.0;
    return;
  }
  T* y = out.ptr<T>();
  for (int64_t i = 0; i < n; ++i) {
    y[i] = N::st(static_cast<C>(fn(static_cast<double>(N::ld(x[i])), op.p)));
  }
}

template <typename T>
void int_loop(UnaryInt k, const Tensor& in, Tensor& out) {
  const T* x = in.ptr<T>();
  T* y = out.ptr<T>();
  int64_t n = in.numel();
  for (int64_t i = 0; i < n; ++i) {
    T v = x[i];
    switch (k) {
      case UnaryInt::Relu: y[i] = v > T(0) ? v : T(0); break;
      case UnaryInt::Neg: y[i] = sub_wrap<T>(T(0), v); break;
      case UnaryInt::Abs: y[i] = v < T(0) ? sub_wrap<T>(T(0), v) : v; break;
      case UnaryInt::Sign: y[i] = v > T(0) ? T(1) : (v < T(0) ? static_cast<T>(-1) : T(0)); break;
      case UnaryInt::None: break;
    }
  }
}

void unary_naive(const UnaryOp& op, const KernCtx& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  DType dt = in.dtype();
  if (dtype_is_float(dt)) {
    LR_EW_DISPATCH_FLOAT(dt, op.spec.type, float_loop<T>(op, in, out));
    return;
  }
  UnaryInt k = op.spec.int_kind;
  switch (dt) {
    LR_EW_INT_CASES(int_loop<T>(k, in, out))
    default: LR_EW_THROW(dt, op.spec.type);
  }
}

const auto kNaive = naive_algo<UnaryOp>(unary_naive);

// --- fast algorithms: float32 through the kernel tables of kernels/eltwise.h
// (ELEMWISE_FAST, on the kernel table of the ISA level in use), for the
// ops that have a kernel; others keep NAIVE. See eltwise.h for the accuracy
// of the vectorised transcendental functions. The elements are split over
// the step's threads (kernels/parallel_split.h).

bool fast_unary_kind(const UnaryOp& op, kernels::UnaryKind* k, float* p0, float* p1) {
  using K = kernels::UnaryKind;
  static const struct {
    const char* type;
    K kind;
  } kTable[] = {{"Relu", K::Relu},       {"LeakyRelu", K::LeakyRelu}, {"HardSigmoid", K::HardSigmoid},
                {"HardSwish", K::HardSwish}, {"Sigmoid", K::Sigmoid}, {"Swish", K::Swish},
                {"Tanh", K::Tanh},       {"Exp", K::Exp},             {"Log", K::Log},
                {"Erf", K::Erf},         {"Gelu", K::Gelu},           {"Sqrt", K::Sqrt},
                {"Reciprocal", K::Reciprocal}, {"Neg", K::Neg},       {"Abs", K::Abs}};
  if (op.spec.bool_out) return false;
  for (const auto& e : kTable) {
    if (std::strcmp(e.type, op.spec.type) != 0) continue;
    *k = e.kind;
    if (e.kind == K::Gelu && op.p.mode == 1) *k = K::GeluTanh;
    *p0 = static_cast<float>(op.p.alpha);
    *p1 = static_cast<float>(op.p.beta);
    return true;
  }
  return false;
}

bool unary_fast_usable(const UnaryOp& op, const InLayouts& in, const OutLayouts&) {
  kernels::UnaryKind k = kernels::UnaryKind::Copy;
  float p0 = 0, p1 = 0;
  return in[0]->dtype == DType::Float32 && fast_unary_kind(op, &k, &p0, &p1);
}

void unary_fast(const UnaryOp& op, const KernCtx& ctx, const kernels::EltwiseImpl& impl) {
  kernels::UnaryKind k = kernels::UnaryKind::Copy;
  float p0 = 0, p1 = 0;
  fast_unary_kind(op, &k, &p0, &p1);
  const float* x = ctx.input(0).ptr<float>();
  float* y = ctx.output(0).ptr<float>();
  kernels::split_elems(ctx.comp_node, ctx.input(0).numel(), kernels::unary_cost(k),
                       [&](int64_t b, int64_t e) { impl.unary(k, x + b, y + b, e - b, p0, p1); });
}

const KernelAlgo<UnaryOp> kUnaryFast("ELEMWISE_FAST", unary_fast_usable, unary_fast);

// --- the scalar functions ---------------------------------------------------

using P = UnaryParams;
double f_tanh(double x, const P&) { return kernels::activate(kernels::Act::kTanh, x, 0.f, 0.f); }
double f_erf(double x, const P&) { return std::erf(x); }
double f_exp(double x, const P&) { return std::exp(x); }
double f_log(double x, const P&) { return std::log(x); }
double f_sqrt(double x, const P&) { return std::sqrt(x); }
double f_neg(double x, const P&) { return -x; }
double f_abs(double x, const P&) { return std::fabs(x); }
double f_reciprocal(double x, const P&) { return 1.0 / x; }
double f_ceil(double x, const P&) { return std::ceil(x); }
double f_floor(double x, const P&) { return std::floor(x); }
// nearbyint rounds in the current mode, which is round-to-nearest-even.
double f_round(double x, const P&) { return std::nearbyint(x); }
double f_sign(double x, const P&) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : x); }  // keeps 0, NaN
double f_sin(double x, const P&) { return std::sin(x); }
double f_cos(double x, const P&) { return std::cos(x); }
double f_tan(double x, const P&) { return std::tan(x); }
double f_asin(double x, const P&) { return std::asin(x); }
double f_acos(double x, const P&) { return std::acos(x); }
double f_atan(double x, const P&) { return std::atan(x); }
double f_sinh(double x, const P&) { return std::sinh(x); }
double f_cosh(double x, const P&) { return std::cosh(x); }
double f_asinh(double x, const P&) { return std::asinh(x); }
double f_acosh(double x, const P&) { return std::acosh(x); }
double f_atanh(double x, const P&) { return std::atanh(x); }
double f_isnan(double x, const P&) { return std::isnan(x) ? 1.0 : 0.0; }
// mode bit 0: detect_negative, bit 1: detect_positive.
double f_isinf(double x, const P& p) {
  if (!std::isinf(x)) return 0.0;
  return (x < 0 ? (p.mode & 1) : (p.mode & 2)) ? 1.0 : 0.0;
}

UnaryParams parse_isinf(const Attrs& a) {
  UnaryParams p;
  int64_t neg = a.get_int("detect_negative", 1), pos = a.get_int("detect_positive", 1);
  LR_CHECK((neg == 0 || neg == 1) && (pos == 0 || pos == 1), ModelError,
           "IsInf: detect_negative and detect_positive must be 0 or 1, got ", neg, " and ", pos);
  p.mode = static_cast<int>(neg) | (static_cast<int>(pos) << 1);
  return p;
}

void reg(OpRegistry& r, const char* type, double (*fn)(double, const P&),
         UnaryInt ik = UnaryInt::None) {
  register_unary(r, UnarySpec{type, fn, nullptr, ik, false});
}

}  // namespace

void register_unary(OpRegistry& r, const UnarySpec& spec) {
  OpDef d;
  d.type = spec.type;
  d.create = [spec](const Attrs& a) -> std::unique_ptr<Op> {
    return std::make_unique<UnaryOp>(spec, a);
  };
  d.algos = {&kNaive, &kUnaryFast};
  d.min_inputs = d.max_inputs = 1;
  r.add(std::move(d));
}

void register_op_Tanh(OpRegistry& r) { reg(r, "Tanh", f_tanh); }
void register_op_Erf(OpRegistry& r) { reg(r, "Erf", f_erf); }
void register_op_Exp(OpRegistry& r) { reg(r, "Exp", f_exp); }
void register_op_Log(OpRegistry& r) { reg(r, "Log", f_log); }
void register_op_Sqrt(OpRegistry& r) { reg(r, "Sqrt", f_sqrt); }
void register_op_Neg(OpRegistry& r) { reg(r, "Neg", f_neg, UnaryInt::Neg); }
void register_op_Abs(OpRegistry& r) { reg(r, "Abs", f_abs, UnaryInt::Abs); }
void register_op_Reciprocal(OpRegistry& r) { reg(r, "Reciprocal", f_reciprocal); }
void register_op_Ceil(OpRegistry& r) { reg(r, "Ceil", f_ceil); }
void register_op_Floor(OpRegistry& r) { reg(r, "Floor", f_floor); }
void register_op_Round(OpRegistry& r) { reg(r, "Round", f_round); }
void register_op_Sign(OpRegistry& r) { reg(r, "Sign", f_sign, UnaryInt::Sign); }
void register_op_Sin(OpRegistry& r) { reg(r, "Sin", f_sin); }
void register_op_Cos(OpRegistry& r) { reg(r, "Cos", f_cos); }
void register_op_Tan(OpRegistry& r) { reg(r, "Tan", f_tan); }
void register_op_Asin(OpRegistry& r) { reg(r, "Asin", f_asin); }
void register_op_Acos(OpRegistry& r) { reg(r, "Acos", f_acos); }
void register_op_Atan(OpRegistry& r) { reg(r, "Atan", f_atan); }
void register_op_Sinh(OpRegistry& r) { reg(r, "Sinh", f_sinh); }
void register_op_Cosh(OpRegistry& r) { reg(r, "Cosh", f_cosh); }
void register_op_Asinh(OpRegistry& r) { reg(r, "Asinh", f_asinh); }
void register_op_Acosh(OpRegistry& r) { reg(r, "Acosh", f_acosh); }
void register_op_Atanh(OpRegistry& r) { reg(r, "Atanh", f_atanh); }
void register_op_IsNaN(OpRegistry& r) {
  register_unary(r, UnarySpec{"IsNaN", f_isnan, nullptr, UnaryInt::None, true});
}
void register_op_IsInf(OpRegistry& r) {
  register_unary(r, UnarySpec{"IsInf", f_isinf, parse_isinf, UnaryInt::None, true});
}

}  // namespace loadrun
