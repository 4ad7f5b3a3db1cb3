// Fast float32 kernels for the non-GEMM operators: elementwise unary and
// binary functions, per-channel scale+shift (BatchNormalization), row
// softmax / layer normalisation, 2-D max/average pooling, plane sums/maxima
// (global pools) and blocked 2-D transposes. Each implementation (portable
// C++, AVX2+FMA) fills one EltwiseImpl table; kernel_table() holds the one
// of the ISA level in use, and the operators' X_FAST algorithms run it
// (LOADRUN_ISA=portable forces the portable one: the tests run both).
//
// Accuracy of the AVX2 transcendental functions (float32; per element
// |y - ref| <= rtol |ref| + 2e-36 against double-precision references over
// the whole float range, +-inf, NaN and subnormals included; checked in
// tests/test_kernels_eltwise.py): exp, log, tanh, sigmoid, erf, Swish
// rtol 3e-7 (measured max 1.2e-7 .. 1.8e-7); Gelu (erf form) 5e-7 (3.6e-7);
// Gelu tanh form 1e-6 * max(1, |2u| / 4) with u = sqrt(2/pi)(x + 0.044715
// x^3) (u is rounded to float before the exponential). Results below 2^-126
// may flush to 0 (exp, sigmoid of x < -87.3), and Gelu (erf form) gives -0
// for x < -12.88, where |gelu| < 4e-37. Special values as the C
// library gives them. HardSwish uses (x + 3) / 6 and HardSigmoid one
// rounding of a x + b (FMA; double on the portable side), so neither cancels
// near its kink. The portable table calls the C library in float.
#pragma once
#include <cstdint>

#include "kernels/activation.h"

namespace loadrun {
namespace kernels {

enum class UnaryKind {
  Relu,
  LeakyRelu,    // p0 = alpha
  Clip,         // p0 = lo, p1 = hi (NaN stays NaN)
  HardSigmoid,  // max(0, min(1, p0 * x + p1))
  HardSwish,    // x * max(0, min(1, x / 6 + 1/2))
  Sigmoid,
  Swish,  // x * sigmoid(p0 * x)
  Tanh,
  Exp,
  Log,
  Erf,
  Gelu,      // 0.5 x (1 + erf(x / sqrt 2))
  GeluTanh,  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  Sqrt,
  Reciprocal,
  Neg,
  Abs,
  Square,  // x * x (Pow with exponent 2)
  Copy,
};

// The activation (activation.h) a unary kind is, if it is one: both tables
// run those through the shared definitions.
inline bool unary_activation(UnaryKind k, Act* a) {
  switch (k) {
    case UnaryKind::Relu: *a = Act::kRelu; return true;
    case UnaryKind::LeakyRelu: *a = Act::kLeakyRelu; return true;
    case UnaryKind::Clip: *a = Act::kClip; return true;
    case UnaryKind::HardSigmoid: *a = Act::kHardSigmoid; return true;
    case UnaryKind::HardSwish: *a = Act::kHardSwish; return true;
    case UnaryKind::Sigmoid: *a = Act::kSigmoid; return true;
    case UnaryKind::Swish: *a = Act::kSwish; return true;
    case UnaryKind::Tanh: *a = Act::kTanh; return true;
    case UnaryKind::Gelu: *a = Act::kGelu; return true;
    case UnaryKind::GeluTanh: *a = Act::kGeluTanh; return true;
    default: return false;
  }
}

// Work of one float32 element of a unary kind, in bytes of memory traffic
// it is worth (8 read and written; the transcendental ones cost several
// times that in arithmetic), for the thread split (parallel_split.h).
inline double unary_cost(UnaryKind k) {
  switch (k) {
    case UnaryKind::Sigmoid:
    case UnaryKind::Swish:
    case UnaryKind::Tanh:
    case UnaryKind::Exp:
    case UnaryKind::Log:
    case UnaryKind::Erf:
    case UnaryKind::Gelu:
    case UnaryKind::GeluTanh: return 48;
    default: return 8;
  }
}

enum class BinaryKind { Add, Sub, Mul, Div, Max, Min, PRelu };  // PRelu: a < 0 ? b * a : a

struct EltwiseImpl {
  const char* name;
  // y[i] = f(x[i]) for i < n; x may equal y.
  void (*unary)(UnaryKind k, const float* x, float* y, int64_t n, float p0, float p1);
  // y[i] = activate(a, x[i], p0, p1) (activation.h) for i < n; x may equal
  // y. The unary activations and every epilogue pass that is not fused into
  // a kernel's store (after a residual, GEMV tails) run through it.
  void (*act)(Act a, const float* x, float* y, int64_t n, float p0, float p1);
  // y[i] = a[sa * i] op b[sb * i] with sa, sb in {0, 1}. Max/Min propagate
  // NaN and on ties return a (as the NAIVE kernels do).
  void (*binary)(BinaryKind k, const float* a, int64_t sa, const float* b, int64_t sb, float* y,
                 int64_t n);
  // y[i] = a * x[i] + b.
  void (*scale_shift)(const float* x, float* y, int64_t n, float a, float b);
  // One row of n: softmax (log_softmax when log) into y.
  void (*softmax_row)(const float* x, float* y, int64_t n, bool log);
  // One row of n: y = (x - mean) * inv * scale + bias (bias may be null),
  // inv = 1 / sqrt(var + eps); writes *mean and *inv.
  void (*layer_norm_row)(const float* x, float* y, int64_t n, const float* scale,
                         const float* bias, double eps, float* mean, float* inv);
  // Sum and maximum (NaN ignored; -inf when empty) of n contiguous floats.
  float (*sum)(const float* x, int64_t n);
  float (*max)(const float* x, int64_t n);
  // acc[o] = max(acc[o], x[o * stride]) (max) or acc[o] += x[o * stride]
  // for o < n: one pooling tap along a row of outputs.
  void (*row_max_tap)(float* acc, const float* x, int64_t stride, int64_t n);
  void (*row_sum_tap)(float* acc, const float* x, int64_t stride, int64_t n);
  // dst[c * ldd + r] = src[r * lds + c] for r < rows, c < cols (4-byte elements).
  void (*transpose32)(const float* src, int64_t lds, float* dst, int64_t ldd, int64_t rows,
                      int64_t cols);
};

const EltwiseImpl& eltwise_portable_impl();
#if defined(LOADRUN_X86_KERNELS)
const EltwiseImpl& eltwise_avx2_impl();
#endif
#if defined(LOADRUN_ARM64_KERNELS)
const EltwiseImpl& eltwise_neon_impl();  // eltwise_neon.cpp
#endif

}  // namespace kernels
}  // namespace loadrun
