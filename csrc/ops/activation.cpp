// Elementwise activation functions, one table on the unary machinery of
// unary.cpp (see unary.h): Relu, LeakyRelu, Sigmoid, HardSigmoid, HardSwish,
// Elu, Selu, Celu, Gelu (exact or tanh approximation), Softplus, Softsign,
// Mish, ThresholdedRelu, Shrink and Swish (x * sigmoid(alpha * x)).
// NAIVE: one pass over the contiguous input applying the scalar function in
// double (float16/float32 widen and round back); Relu also runs on signed
// integers in their own type. O(n), no workspace.
#include <algorithm>
#include <cmath>

#include "kernels/activation.h"
#include "ops/unary.h"

namespace loadrun {

namespace {

using P = UnaryParams;

// log(1 + e^x) without overflow for large x.
double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

// The activations with a fused form: kernels/activation.h's definition, in
// double (the attributes are float32 in ONNX, so nothing is lost in p0, p1).
using kernels::Act;
double act(Act a, double x, const P& p) {
  return kernels::activate(a, x, static_cast<float>(p.alpha), static_cast<float>(p.beta));
}
double f_relu(double x, const P& p) { return act(Act::kRelu, x, p); }  // NaN stays
double f_leaky_relu(double x, const P& p) { return act(Act::kLeakyRelu, x, p); }
double f_sigmoid(double x, const P& p) { return act(Act::kSigmoid, x, p); }
double f_hard_sigmoid(double x, const P& p) { return act(Act::kHardSigmoid, x, p); }
double f_hard_swish(double x, const P& p) { return act(Act::kHardSwish, x, p); }
double f_elu(double x, const P& p) { return x >= 0 ? x : p.alpha * (std::exp(x) - 1.0); }
double f_selu(double x, const P& p) {
  return x > 0 ? p.gamma * x : p.gamma * (p.alpha * std::exp(x) - p.alpha);
}
double f_celu(double x, const P& p) {
  return std::max(0.0, x) + std::min(0.0, p.alpha * (std::exp(x / p.alpha) - 1.0));
}
// mode 0: exact (erf), 1: tanh approximation.
double f_gelu(double x, const P& p) { return act(p.mode == 0 ? Act::kGelu : Act::kGeluTanh, x, p); }
double f_softplus(double x, const P&) { return softplus(x); }
double f_softsign(double x, const P&) { return x / (1.0 + std::fabs(x)); }
double f_mish(double x, const P&) { return x * std::tanh(softplus(x)); }
double f_swish(double x, const P& p) { return act(Act::kSwish, x, p); }
double f_thresholded_relu(double x, const P& p) { return x > p.alpha ? x : 0.0; }
// alpha = lambd, beta = bias.
double f_shrink(double x, const P& p) {
  if (x < -p.alpha) return x + p.beta;
  if (x > p.alpha) return x - p.beta;
  return 0.0;
}

// Attribute readers. Each is a plain function so a spec stays a table row.
P alpha_of(const Attrs& a, double def) {
  P p;
  p.alpha = a.get_float("alpha", def);
  return p;
}
P parse_leaky(const Attrs& a) { return alpha_of(a, 0.01); }
P parse_alpha1(const Attrs& a) { return alpha_of(a, 1.0); }
P parse_hard_sigmoid(const Attrs& a) {
  P p;
  p.alpha = a.get_float("alpha", 0.2);
  p.beta = a.get_float("beta", 0.5);
  return p;
}
P parse_selu(const Attrs& a) {
  P p;
  p.alpha = a.get_float("alpha", 1.67326319217681884765625);
  p.gamma = a.get_float("gamma", 1.05070102214813232421875);
  return p;
}
P parse_celu(const Attrs& a) {
  P p = alpha_of(a, 1.0);
  LR_CHECK(p.alpha != 0.0, ModelError, "Celu: alpha must not be 0");
  return p;
}
P parse_gelu(const Attrs& a) {
  P p;
  std::string s = a.get_string("approximate", "none");
  LR_CHECK(s == "none" || s == "tanh", ModelError,
           "Gelu: approximate must be \"none\" or \"tanh\", got \"", s, "\"");
  p.mode = s == "tanh" ? 1 : 0;
  return p;
}
P parse_shrink(const Attrs& a) {
  P p;
  p.alpha = a.get_float("lambd", 0.5);
  p.beta = a.get_float("bias", 0.0);
  LR_CHECK(p.alpha >= 0.0, ModelError, "Shrink: lambd must be >= 0, got ", p.alpha);
  return p;
}

void reg(OpRegistry& r, const char* type, double (*fn)(double, const P&),
         P (*parse)(const Attrs&) = nullptr, UnaryInt ik = UnaryInt::None) {
  register_unary(r, UnarySpec{type, fn, parse, ik, false});
}

}  // namespace

void register_op_Relu(OpRegistry& r) { reg(r, "Relu", f_relu, nullptr, UnaryInt::Relu); }
void register_op_LeakyRelu(OpRegistry& r) { reg(r, "LeakyRelu", f_leaky_relu, parse_leaky); }
void register_op_Sigmoid(OpRegistry& r) { reg(r, "Sigmoid", f_sigmoid); }
void register_op_HardSigmoid(OpRegistry& r) {
  reg(r, "HardSigmoid", f_hard_sigmoid, parse_hard_sigmoid);
}
void register_op_HardSwish(OpRegistry& r) { reg(r, "HardSwish", f_hard_swish); }
void register_op_Elu(OpRegistry& r) { reg(r, "Elu", f_elu, parse_alpha1); }
void register_op_Selu(OpRegistry& r) { reg(r, "Selu", f_selu, parse_selu); }
void register_op_Celu(OpRegistry& r) { reg(r, "Celu", f_celu, parse_celu); }
void register_op_Gelu(OpRegistry& r) { reg(r, "Gelu", f_gelu, parse_gelu); }
void register_op_Softplus(OpRegistry& r) { reg(r, "Softplus", f_softplus); }
void register_op_Softsign(OpRegistry& r) { reg(r, "Softsign", f_softsign); }
void register_op_Mish(OpRegistry& r) { reg(r, "Mish", f_mish); }
void register_op_ThresholdedRelu(OpRegistry& r) {
  reg(r, "ThresholdedRelu", f_thresholded_relu, parse_alpha1);
}
void register_op_Shrink(OpRegistry& r) { reg(r, "Shrink", f_shrink, parse_shrink); }
void register_op_Swish(OpRegistry& r) { reg(r, "Swish", f_swish, parse_alpha1); }

}  // namespace loadrun
