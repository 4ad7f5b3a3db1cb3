// The elementwise kernel table (eltwise.h) of every ISA level this CPU runs
// (each distinct table once: portable, avx2 / neon) against double-precision
// references, so the NEON table is checked under qemu as the AVX2 one is on
// x86: every activation (activation.h's formulas) and unary function on
// lengths around the vector width (1..13, 37, in place and not) over values
// that include +-0, +-inf, NaN, subnormals, kinks and the ranges where exp
// saturates; binary functions bit-exact (NaN and tie rules included) with
// broadcasts on either side; scale+shift, softmax / log-softmax rows, sums
// and NaN-ignoring maxima. Tolerances are eltwise.h's stated bounds with a
// margin: |y - ref| <= rtol |ref| + 1e-37 (results near FLT_MIN may flush).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

#include "expect.h"
#include "kernels/eltwise.h"
#include "kernels/kernel_table.h"

// GCC 12 for aarch64 stops with an internal compiler error
// (vect_transform_reduction) vectorising this file's reference loops; the
// test's own loops need no vectorising.
#if defined(__aarch64__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-vectorize")
#endif

using namespace loadrun;
using namespace loadrun::kernels;

namespace {

int g_checks = 0;
uint32_t g_seed = 7;
float rnd() {
  g_seed = g_seed * 1664525u + 1013904223u;
  return static_cast<float>(g_seed >> 8) / 16777216.f * 2.f - 1.f;
}

const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

// Inputs: special values, then a spread over [-20, 20], some up to +-100.
std::vector<float> inputs() {
  std::vector<float> v = {0.f,   -0.f,   kInf,     -kInf, kNaN,  1e-40f, -1e-40f, 1.f,   -1.f,
                          3.f,   -3.f,   6.f,      0.5f,  -0.5f, 0.625f, -0.625f, 87.5f, -87.5f,
                          88.8f, -88.8f, 1e-20f,   100.f, -100.f, 14.f,  -14.f,   2.5f,  -6.1f,
                          20.f,  -20.f,  12.88f,   -12.88f, 12.9f, -12.9f,  13.2f, -13.2f,
                          1e-45f, -1e-45f, 1.17549435e-38f, -1.17549435e-38f};
  for (int i = 0; i < 200; ++i) v.push_back(20.f * rnd());
  for (int i = 0; i < 40; ++i) v.push_back(100.f * rnd());
  return v;
}

bool close(float got, double want, double rtol, double atol = 1e-37) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  return std::fabs(double(got) - want) <= rtol * std::fabs(want) + atol;
}

void report(bool ok, const char* level, const char* what, int kind, float x, float got,
            double want) {
  ++g_checks;
  if (ok) return;
  if (++g_failures <= 20)
    std::fprintf(stderr, "FAIL %s %s(kind %d) x=%.9g: got %.9g, want %.9g\n", level, what, kind,
                 x, got, want);
}

// Runs f over `x` in chunks of the awkward lengths, out of place and in place.
template <class F>
void chunks(const std::vector<float>& x, std::vector<float>& y, F f) {
  const int64_t lens[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 37};
  size_t off = 0;
  int li = 0;
  y.assign(x.size(), kNaN);
  while (off < x.size()) {
    int64_t n = std::min<int64_t>(lens[li++ % 10], static_cast<int64_t>(x.size() - off));
    if (li % 2) {
      f(x.data() + off, y.data() + off, n);
    } else {
      std::memcpy(y.data() + off, x.data() + off, n * sizeof(float));
      f(y.data() + off, y.data() + off, n);
    }
    off += static_cast<size_t>(n);
  }
}

void test_acts(const EltwiseImpl& t, const char* level) {
  const std::vector<float> x = inputs();
  std::vector<float> y;
  const Act acts[] = {Act::kRelu,       Act::kRelu6,   Act::kHardSwish, Act::kSigmoid,
                      Act::kClip,       Act::kLeakyRelu, Act::kHardSigmoid, Act::kSwish,
                      Act::kTanh,       Act::kGelu,    Act::kGeluTanh,  Act::kNone};
  for (Act a : acts) {
    float p0 = 0.f, p1 = 0.f;
    if (a == Act::kClip) p0 = -0.5f, p1 = 0.7f;
    if (a == Act::kLeakyRelu) p0 = 0.1f;
    if (a == Act::kHardSigmoid) p0 = 0.2f, p1 = 0.5f;
    if (a == Act::kSwish) p0 = 1.5f;
    chunks(x, y, [&](const float* in, float* out, int64_t n) { t.act(a, in, out, n, p0, p1); });
    for (size_t i = 0; i < x.size(); ++i) {
      const double want = activate<double>(a, x[i], p0, p1);
      double rtol = 1e-6;
      if (a == Act::kGeluTanh) {
        double u = 0.79788456080286535588 * (x[i] + 0.044715 * double(x[i]) * x[i] * x[i]);
        rtol = 1.5e-6 * std::fmax(1.0, std::fabs(2 * u) / 4);
      }
      // Swish rounds p0 x to float before the exponential (exact for SiLU,
      // p0 = 1, the case eltwise.h's bound is for): half an ulp of p0 x.
      if (a == Act::kSwish && std::isfinite(x[i])) rtol += 1.2e-7 * std::fabs(p0 * x[i]);
      // The portable table evaluates the scalar formulas in float: the
      // rounding of the argument of exp / erfc (p0 x, x / sqrt 2) grows the
      // relative error with x^2 in the tails (C library, not our kernels).
      if (std::strcmp(t.name, "portable") == 0 && std::isfinite(x[i]))
        rtol *= std::fmax(1.0, double(x[i]) * x[i]);
      // The AVX2 erf-form GELU returns -0 below x = -12.88, where the result
      // is under 4e-37 in magnitude (eltwise.h).
      const double atol = a == Act::kGelu ? 5e-37 : 1e-37;
      report(close(y[i], want, rtol, atol), level, "act", int(a), x[i], y[i], want);
    }
  }
}

void test_unary(const EltwiseImpl& t, const char* level) {
  std::vector<float> x = inputs();
  std::vector<float> y;
  struct U {
    UnaryKind k;
    double (*f)(double);
  } us[] = {{UnaryKind::Exp, [](double v) { return std::exp(v); }},
            {UnaryKind::Log, [](double v) { return std::log(v); }},
            {UnaryKind::Erf, [](double v) { return std::erf(v); }},
            {UnaryKind::Sqrt, [](double v) { return std::sqrt(v); }},
            {UnaryKind::Reciprocal, [](double v) { return 1.0 / v; }},
            {UnaryKind::Neg, [](double v) { return -v; }},
            {UnaryKind::Abs, [](double v) { return std::fabs(v); }},
            {UnaryKind::Square, [](double v) { return v * v; }},
            {UnaryKind::Copy, [](double v) { return v; }},
            {UnaryKind::Tanh, [](double v) { return std::tanh(v); }},
            {UnaryKind::Relu, [](double v) { return v > 0 || v != v ? v : 0.0; }}};
  for (const U& u : us) {
    chunks(x, y, [&](const float* in, float* out, int64_t n) { t.unary(u.k, in, out, n, 0.f, 0.f); });
    for (size_t i = 0; i < x.size(); ++i) {
      double want = u.f(x[i]);
      // Float results: overflow to inf, underflow to 0 (exp of x < -87.3 may flush).
      if (std::fabs(want) > std::numeric_limits<float>::max()) want = want > 0 ? kInf : -kInf;
      report(close(y[i], want, 1e-6), level, "unary", int(u.k), x[i], y[i], want);
    }
  }
}

// The portable table's definitions (eltwise_portable.cpp), in float.
float binary_ref(BinaryKind k, float u, float v) {
  switch (k) {
    case BinaryKind::Add: return u + v;
    case BinaryKind::Sub: return u - v;
    case BinaryKind::Mul: return u * v;
    case BinaryKind::Div: return u / v;
    case BinaryKind::Max: return u != u ? u : (v != v || u < v ? v : u);
    case BinaryKind::Min: return u != u ? u : (v != v || v < u ? v : u);
    case BinaryKind::PRelu: return u < 0.f ? v * u : u;
  }
  return 0.f;
}

void test_binary(const EltwiseImpl& t, const char* level) {
  const std::vector<float> base = {0.f, -0.f, 1.f, -1.f, kNaN, kInf, -kInf, 2.f, -0.f, 0.f, 3.f};
  std::vector<float> a = base, b = base;
  std::reverse(b.begin(), b.end());
  for (int i = 0; i < 30; ++i) a.push_back(rnd()), b.push_back(i % 3 ? rnd() : a.back());
  const int64_t n = static_cast<int64_t>(a.size());
  const BinaryKind kinds[] = {BinaryKind::Add, BinaryKind::Sub, BinaryKind::Mul, BinaryKind::Div,
                              BinaryKind::Max, BinaryKind::Min, BinaryKind::PRelu};
  for (BinaryKind k : kinds)
    for (int sa = 0; sa < 2; ++sa)
      for (int sb = 0; sb < 2; ++sb)
        for (int64_t len : {int64_t(1), int64_t(3), int64_t(4), int64_t(6), n}) {
          for (int64_t off = 0; off + len <= n; off += len) {
            std::vector<float> y(len + 1, 12345.f);
            t.binary(k, a.data() + off, sa, b.data() + off, sb, y.data(), len);
            for (int64_t i = 0; i <= len; ++i) {
              const float want =
                  i == len ? 12345.f : binary_ref(k, a[off + sa * i], b[off + sb * i]);
              const bool ok = (std::isnan(want) && std::isnan(y[i])) ||
                              std::memcmp(&want, &y[i], sizeof(float)) == 0;
              report(ok, level, "binary", int(k), a[off + sa * i], y[i], want);
            }
          }
        }
}

void test_rows(const EltwiseImpl& t, const char* level) {
  for (int64_t n : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 100}) {
    std::vector<float> x(n), y(n + 1, 12345.f);
    for (float& v : x) v = 8.f * rnd();
    // scale_shift
    t.scale_shift(x.data(), y.data(), n, 1.5f, -0.25f);
    for (int64_t i = 0; i < n; ++i) {
      double want = 1.5 * x[i] - 0.25;
      report(close(y[i], want, 1e-6) || std::fabs(y[i] - want) < 1e-6, level, "scale_shift", 0,
             x[i], y[i], want);
    }
    // softmax and log-softmax
    for (int log = 0; log < 2; ++log) {
      t.softmax_row(x.data(), y.data(), n, log != 0);
      double mx = x[0], s = 0;
      for (float v : x) mx = std::fmax(mx, v);
      for (float v : x) s += std::exp(v - mx);
      for (int64_t i = 0; i < n; ++i) {
        double want = log ? x[i] - mx - std::log(s) : std::exp(x[i] - mx) / s;
        report(std::fabs(y[i] - want) <= 2e-6 * std::fabs(want) + 1e-6, level,
               log ? "log_softmax" : "softmax", int(n), x[i], y[i], want);
      }
      report(y[n] == 12345.f, level, "softmax(overrun)", int(n), 0, y[n], 12345.f);
    }
    // sum, max (NaN ignored)
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += x[i];
    float m;
    float got = t.sum(x.data(), n);
    report(std::fabs(got - s) <= 1e-5 * (8.0 * n), level, "sum", int(n), 0, got, s);
    x[n / 2] = kNaN;
    m = -kInf;
    for (float v : x) m = v > m ? v : m;
    got = t.max(x.data(), n);
    report(got == m, level, "max", int(n), 0, got, m);
  }
  report(t.max(nullptr, 0) == -kInf, level, "max(empty)", 0, 0, t.max(nullptr, 0), -kInf);
}

}  // namespace

int main() {
  std::vector<const EltwiseImpl*> tested;
  for (IsaLevel level : isa_levels_supported()) {
    const EltwiseImpl& t = kernel_table_for(level).eltwise;
    bool seen = false;
    for (const EltwiseImpl* o : tested) seen = seen || (o->act == t.act && o->unary == t.unary);
    if (seen) continue;
    tested.push_back(&t);
    const char* name = isa_level_name(level);
    test_acts(t, name);
    test_unary(t, name);
    test_binary(t, name);
    test_rows(t, name);
    std::printf("%s (%s): tested\n", name, t.name);
  }
  std::printf("%d checks, %d failures\n", g_checks, g_failures);
  return g_failures ? 1 : 0;
}
