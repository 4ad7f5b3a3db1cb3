// The activation functions, defined once. `activate` below is the scalar
// definition: the NAIVE algorithms (Conv's fused activation in its own type,
// the standalone activation ops in double), the portable kernel table and
// every scalar tail of a fast kernel use it. Each ISA has one vector
// definition of the same formulas (AVX2: activation_avx2.h), which every
// fused epilogue (SGEMM, depthwise, Winograd, small-IC direct conv) and the
// standalone ops' elementwise kernels share. So a fused Conv gives the same
// result, up to the float rounding of one formula, whichever algorithm
// fast-run picked, and the same as the unfused Conv + activation op.
//
// Formulas (p0, p1: the parameters), chosen for accuracy in float:
//   Relu        x > 0 ? x : +0 (NaN stays NaN)
//   Relu6       min(max(x, 0), 6); Clip: min(max(x, p0), p1) (NaN stays)
//   LeakyRelu   x >= 0 ? x : p0 x
//   HardSigmoid max(0, min(1, p0 x + p1)), one rounding of p0 x + p1
//   HardSwish   x max(0, min(1, (x + 3) / 6)): x + 3 is exact near -3,
//               where x / 6 + 1/2 would cancel
//   Sigmoid     1 / (1 + exp(-x));  Swish: x sigmoid(p0 x) (SiLU: p0 = 1)
//   Tanh        tanh(x)
//   Gelu        0.5 x erfc(-x / sqrt 2) (= 0.5 x (1 + erf(x / sqrt 2)),
//               without the cancellation of 1 + erf for x << 0)
//   GeluTanh    x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3)
//               (= 0.5 x (1 + tanh u))
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace loadrun {
namespace kernels {

enum class Act : uint8_t {
  kNone,
  kRelu,
  kRelu6,
  kHardSwish,
  kSigmoid,
  kClip,       // p0 = lo, p1 = hi
  kLeakyRelu,  // p0 = slope
  kHardSigmoid,  // p0 = alpha, p1 = beta
  kSwish,        // p0 = alpha
  kTanh,
  kGelu,
  kGeluTanh,
};

// Parameters each activation takes (0, 1 or 2).
inline int act_param_count(Act a) {
  switch (a) {
    case Act::kClip:
    case Act::kHardSigmoid: return 2;
    case Act::kLeakyRelu:
    case Act::kSwish: return 1;
    default: return 0;
  }
}

// The name of a fused activation (ops/conv.h kActAttr): the ONNX op's,
// "Relu6" for Clip(0, 6), "GeluTanh" for Gelu(approximate="tanh").
inline bool act_named(const char* s, Act* a) {
  static const struct {
    const char* name;
    Act act;
  } kNames[] = {{"Relu", Act::kRelu},         {"Relu6", Act::kRelu6},
                {"Clip", Act::kClip},         {"HardSwish", Act::kHardSwish},
                {"Sigmoid", Act::kSigmoid},   {"LeakyRelu", Act::kLeakyRelu},
                {"HardSigmoid", Act::kHardSigmoid}, {"Swish", Act::kSwish},
                {"Tanh", Act::kTanh},         {"Gelu", Act::kGelu},
                {"GeluTanh", Act::kGeluTanh}};
  for (const auto& e : kNames)
    if (std::strcmp(e.name, s) == 0) {
      *a = e.act;
      return true;
    }
  return false;
}

namespace act_detail {
template <typename T>
inline T sigmoid(T v) {
  return T(1) / (T(1) + std::exp(-v));
}
template <typename T>
inline T clamp01(T v) {  // NaN -> 1, as min(1, NaN) then max(0, .) in SIMD
  T t = v < T(1) ? v : T(1);
  return t > T(0) ? t : T(0);
}
}  // namespace act_detail

// The scalar definition, in T (float or double).
template <typename T>
inline T activate(Act a, T v, float p0, float p1) {
  using namespace act_detail;
  switch (a) {
    case Act::kNone: return v;
    case Act::kRelu: return v > T(0) || v != v ? v : T(0);
    case Act::kRelu6: return v < T(0) ? T(0) : (v > T(6) ? T(6) : v);
    case Act::kClip: {
      T lo = static_cast<T>(p0), hi = static_cast<T>(p1);
      v = v < lo ? lo : v;
      return v > hi ? hi : v;
    }
    case Act::kLeakyRelu: return v >= T(0) ? v : v * static_cast<T>(p0);
    case Act::kHardSigmoid:
      // The product of two floats is exact in double: one rounding, as an FMA.
      return clamp01(static_cast<T>(static_cast<double>(p0) * v + static_cast<double>(p1)));
    case Act::kHardSwish: return v * clamp01((v + T(3)) * (T(1) / T(6)));
    case Act::kSigmoid: return sigmoid(v);
    case Act::kSwish: return v * sigmoid(static_cast<T>(p0) * v);
    case Act::kTanh: return std::tanh(v);
    case Act::kGelu: return T(0.5) * v * std::erfc(v * T(-0.70710678118654752440));
    case Act::kGeluTanh: {
      T u = T(0.79788456080286535588) * (v + T(0.044715) * v * v * v);
      return v * sigmoid(T(2) * u);
    }
  }
  return v;
}

// Calls f(std::integral_constant<Act, A>{}) for the run-time a, so a loop
// written once is instantiated per activation with its switch folded away.
template <class F>
inline void with_act(Act a, F&& f) {
#define LR_ACT_CASE(k) \
  case Act::k: return f(std::integral_constant<Act, Act::k>{});
  switch (a) {
    LR_ACT_CASE(kNone) LR_ACT_CASE(kRelu) LR_ACT_CASE(kRelu6) LR_ACT_CASE(kHardSwish)
    LR_ACT_CASE(kSigmoid) LR_ACT_CASE(kClip) LR_ACT_CASE(kLeakyRelu) LR_ACT_CASE(kHardSigmoid)
    LR_ACT_CASE(kSwish) LR_ACT_CASE(kTanh) LR_ACT_CASE(kGelu) LR_ACT_CASE(kGeluTanh)
  }
#undef LR_ACT_CASE
}

}  // namespace kernels
}  // namespace loadrun
