// The portable table of eltwise.h: plain float loops the compiler may
// vectorise for the baseline ISA, transcendental functions from the C
// library (in float), no per-element indirection (the NAIVE kernels call a
// double-precision function through a pointer per element and index
// broadcasts with a division per dim).
#include <algorithm>
#include <cstdint>
#include <cmath>
#include <limits>

#include "kernels/eltwise.h"

namespace loadrun {
namespace kernels {

namespace {

template <class F>
void map(const float* x, float* y, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

// activation.h's definition, folded per activation.
void act(Act a, const float* x, float* y, int64_t n, float p0, float p1) {
  with_act(a, [&](auto c) {
    map(x, y, n, [p0, p1](float v) { return activate(decltype(c)::value, v, p0, p1); });
  });
}

void unary(UnaryKind k, const float* x, float* y, int64_t n, float p0, float p1) {
  Act a = Act::kNone;
  if (unary_activation(k, &a)) return act(a, x, y, n, p0, p1);
  switch (k) {
    case UnaryKind::Exp: map(x, y, n, [](float v) { return std::exp(v); }); break;
    case UnaryKind::Log: map(x, y, n, [](float v) { return std::log(v); }); break;
    case UnaryKind::Erf: map(x, y, n, [](float v) { return std::erf(v); }); break;
    case UnaryKind::Sqrt: map(x, y, n, [](float v) { return std::sqrt(v); }); break;
    case UnaryKind::Reciprocal: map(x, y, n, [](float v) { return 1.f / v; }); break;
    case UnaryKind::Neg: map(x, y, n, [](float v) { return -v; }); break;
    case UnaryKind::Abs: map(x, y, n, [](float v) { return std::fabs(v); }); break;
    case UnaryKind::Square: map(x, y, n, [](float v) { return v * v; }); break;
    case UnaryKind::Copy:
      if (x != y) std::copy(x, x + n, y);
      break;
    default: break;  // the activations, above
  }
}

template <class F>
void bin(const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n, F f) {
  if (sa && sb) {
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[i], b[i]);
  } else if (sa) {
    const float bv = b[0];
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[i], bv);
  } else if (sb) {
    const float av = a[0];
    for (int64_t i = 0; i < n; ++i) y[i] = f(av, b[i]);
  } else {
    const float v = f(a[0], b[0]);
    for (int64_t i = 0; i < n; ++i) y[i] = v;
  }
}

void binary(BinaryKind k, const float* a, int64_t sa, const float* b, int64_t sb, float* y,
            int64_t n) {
  switch (k) {
    case BinaryKind::Add: bin(a, sa, b, sb, y, n, [](float u, float v) { return u + v; }); break;
    case BinaryKind::Sub: bin(a, sa, b, sb, y, n, [](float u, float v) { return u - v; }); break;
    case BinaryKind::Mul: bin(a, sa, b, sb, y, n, [](float u, float v) { return u * v; }); break;
    case BinaryKind::Div: bin(a, sa, b, sb, y, n, [](float u, float v) { return u / v; }); break;
    case BinaryKind::Max:
      bin(a, sa, b, sb, y, n, [](float u, float v) { return u != u ? u : (v != v || u < v ? v : u); });
      break;
    case BinaryKind::Min:
      bin(a, sa, b, sb, y, n, [](float u, float v) { return u != u ? u : (v != v || v < u ? v : u); });
      break;
    case BinaryKind::PRelu: bin(a, sa, b, sb, y, n, [](float u, float v) { return u < 0.f ? v * u : u; }); break;
  }
}

void scale_shift(const float* x, float* y, int64_t n, float a, float b) {
  for (int64_t i = 0; i < n; ++i) y[i] = a * x[i] + b;
}

void softmax_row(const float* x, float* y, int64_t n, bool log) {
  if (n == 0) return;
  float mx = x[0];
  for (int64_t i = 1; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  float sum = 0.f;
  if (log) {
    for (int64_t i = 0; i < n; ++i) sum += std::exp(x[i] - mx);
    const float ls = mx + std::log(sum);
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] - ls;
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    float e = std::exp(x[i] - mx);
    y[i] = e;
    sum += e;
  }
  const float r = 1.f / sum;
  for (int64_t i = 0; i < n; ++i) y[i] *= r;
}

// Corrected two-pass statistics, as the AVX2 row (eltwise_avx2.cpp): the
// deviations from the float mean m0 give its correction c, so no term rounds
// on the mean's scale when |mean| >> spread.
void layer_norm_row(const float* x, float* y, int64_t n, const float* scale, const float* bias,
                    double eps, float* mean_out, float* inv_out) {
  float s = 0.f;
  for (int64_t i = 0; i < n; ++i) s += x[i];
  const float m0 = n ? s / static_cast<float>(n) : 0.f;
  float sd = 0.f, sq = 0.f;
  for (int64_t i = 0; i < n; ++i) {
    float d = x[i] - m0;
    sd += d;
    sq += d * d;
  }
  const double dn = n ? static_cast<double>(n) : 1.0;
  const double c = sd / dn;
  const double var = std::max(0.0, (static_cast<double>(sq) - sd * c) / dn);
  const float inv = static_cast<float>(1.0 / std::sqrt(var + eps));
  const float cf = static_cast<float>(c);
  for (int64_t i = 0; i < n; ++i) {
    float v = ((x[i] - m0) - cf) * inv * scale[i];
    y[i] = bias ? v + bias[i] : v;
  }
  *mean_out = static_cast<float>(m0 + c);
  *inv_out = inv;
}

float sum(const float* x, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // 8 partial sums: fewer roundings, vectorisable
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += x[i + j];
  float s = 0.f;
  for (; i < n; ++i) s += x[i];
  for (int j = 0; j < 8; ++j) s += acc[j];
  return s;
}

float max(const float* x, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

void row_max_tap(float* acc, const float* x, int64_t stride, int64_t n) {
  for (int64_t o = 0; o < n; ++o) {
    float v = x[o * stride];
    acc[o] = v > acc[o] ? v : acc[o];
  }
}

void row_sum_tap(float* acc, const float* x, int64_t stride, int64_t n) {
  for (int64_t o = 0; o < n; ++o) acc[o] += x[o * stride];
}

void transpose32(const float* srcf, int64_t lds, float* dstf, int64_t ldd, int64_t rows,
                 int64_t cols) {
  // Moved as 32-bit words: the elements may be integers whose bits spell a
  // signalling NaN, which a float copy could quiet on some targets.
  const uint32_t* src = reinterpret_cast<const uint32_t*>(srcf);
  uint32_t* dst = reinterpret_cast<uint32_t*>(dstf);
  constexpr int64_t B = 16;  // tiles keep both sides' lines in cache
  for (int64_t r0 = 0; r0 < rows; r0 += B) {
    const int64_t r1 = std::min(rows, r0 + B);
    for (int64_t c0 = 0; c0 < cols; c0 += B) {
      const int64_t c1 = std::min(cols, c0 + B);
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t r = r0; r < r1; ++r) dst[c * ldd + r] = src[r * lds + c];
    }
  }
}

const EltwiseImpl kPortable{"portable", unary, act, binary,      scale_shift, softmax_row,
                            layer_norm_row, sum, max,         row_max_tap, row_sum_tap,
                            transpose32};

}  // namespace

const EltwiseImpl& eltwise_portable_impl() { return kPortable; }

}  // namespace kernels
}  // namespace loadrun
