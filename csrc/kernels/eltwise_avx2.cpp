// The AVX2+FMA table of eltwise.h (this file is compiled with -mavx2 -mfma;
// it runs only from the avx2 kernel table). 8 floats per vector,
// tails through an 8-float buffer so every element takes the vector path
// (same results whatever the length). Transcendental functions: vmath_avx2.h.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/eltwise.h"
#include "kernels/activation_avx2.h"
#include "kernels/simd_avx2.h"
#include "kernels/vmath_avx2.h"

namespace loadrun {
namespace kernels {

namespace {

using vm::set1;

// y[i] = f(x[i]) 8 at a time; the tail goes through a padded buffer.
template <class F>
inline void map8(const float* x, float* y, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256 a = f(_mm256_loadu_ps(x + i)), b = f(_mm256_loadu_ps(x + i + 8));
    __m256 c = f(_mm256_loadu_ps(x + i + 16)), d = f(_mm256_loadu_ps(x + i + 24));
    _mm256_storeu_ps(y + i, a);
    _mm256_storeu_ps(y + i + 8, b);
    _mm256_storeu_ps(y + i + 16, c);
    _mm256_storeu_ps(y + i + 24, d);
  }
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
  if (i < n) {
    alignas(32) float buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(buf, x + i, static_cast<size_t>(n - i) * sizeof(float));
    _mm256_store_ps(buf, f(_mm256_load_ps(buf)));
    std::memcpy(y + i, buf, static_cast<size_t>(n - i) * sizeof(float));
  }
}

// activation_avx2.h's definition, folded per activation.
void act(Act act, const float* x, float* y, int64_t n, float p0, float p1) {
  const __m256 a = set1(p0), b = set1(p1);
  with_act(act, [&](auto c) {
    map8(x, y, n, [a, b](__m256 v) { return avx2::activate8(decltype(c)::value, v, a, b); });
  });
}

void unary(UnaryKind k, const float* x, float* y, int64_t n, float p0, float p1) {
  Act a = Act::kNone;
  if (unary_activation(k, &a)) return act(a, x, y, n, p0, p1);
  const __m256 one = set1(1.f);
  switch (k) {
    case UnaryKind::Exp: map8(x, y, n, vm::exp_ps); break;
    case UnaryKind::Log: map8(x, y, n, vm::log_ps); break;
    case UnaryKind::Erf: map8(x, y, n, vm::erf_ps); break;
    case UnaryKind::Sqrt: map8(x, y, n, [](__m256 v) { return _mm256_sqrt_ps(v); }); break;
    case UnaryKind::Reciprocal: map8(x, y, n, [one](__m256 v) { return _mm256_div_ps(one, v); }); break;
    case UnaryKind::Neg: map8(x, y, n, [](__m256 v) { return _mm256_xor_ps(v, set1(-0.f)); }); break;
    case UnaryKind::Abs: map8(x, y, n, vm::abs_ps); break;
    case UnaryKind::Square: map8(x, y, n, [](__m256 v) { return _mm256_mul_ps(v, v); }); break;
    case UnaryKind::Copy:
      if (x != y) std::memmove(y, x, static_cast<size_t>(n) * sizeof(float));
      break;
    default: break;  // the activations, above
  }
}

struct AddF { static __m256 f(__m256 u, __m256 v) { return _mm256_add_ps(u, v); } };
struct SubF { static __m256 f(__m256 u, __m256 v) { return _mm256_sub_ps(u, v); } };
struct MulF { static __m256 f(__m256 u, __m256 v) { return _mm256_mul_ps(u, v); } };
struct DivF { static __m256 f(__m256 u, __m256 v) { return _mm256_div_ps(u, v); } };
// PRelu: u < 0 ? v * u : u (a NaN u is not < 0 and stays).
struct PReluF {
  static __m256 f(__m256 u, __m256 v) {
    return _mm256_blendv_ps(u, _mm256_mul_ps(v, u), _mm256_cmp_ps(u, _mm256_setzero_ps(), _CMP_LT_OQ));
  }
};
// Max/Min as the NAIVE kernel: a NaN a wins, then a NaN b, else b if it is
// strictly greater (smaller), else a. max_ps(b, a) = b > a ? b : a, and it
// returns a when either is NaN; the blend fixes a NaN b.
struct MaxF {
  static __m256 f(__m256 u, __m256 v) {
    return _mm256_blendv_ps(_mm256_max_ps(v, u), v, vm::isnan_mask(v));
  }
};
struct MinF {
  static __m256 f(__m256 u, __m256 v) {
    return _mm256_blendv_ps(_mm256_min_ps(v, u), v, vm::isnan_mask(v));
  }
};

template <class F>
void bin(const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n) {
  if (sa && sb) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      _mm256_storeu_ps(y + i, F::f(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
      _mm256_storeu_ps(y + i + 8, F::f(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8)));
    }
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, F::f(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    if (i < n) {
      alignas(32) float ba[8] = {0}, bb[8] = {0};
      std::memcpy(ba, a + i, static_cast<size_t>(n - i) * sizeof(float));
      std::memcpy(bb, b + i, static_cast<size_t>(n - i) * sizeof(float));
      _mm256_store_ps(ba, F::f(_mm256_load_ps(ba), _mm256_load_ps(bb)));
      std::memcpy(y + i, ba, static_cast<size_t>(n - i) * sizeof(float));
    }
  } else if (sa) {
    const __m256 bv = _mm256_set1_ps(b[0]);
    map8(a, y, n, [bv](__m256 u) { return F::f(u, bv); });
  } else if (sb) {
    const __m256 av = _mm256_set1_ps(a[0]);
    map8(b, y, n, [av](__m256 v) { return F::f(av, v); });
  } else {
    alignas(32) float r[8];
    _mm256_store_ps(r, F::f(_mm256_set1_ps(a[0]), _mm256_set1_ps(b[0])));
    std::fill(y, y + n, r[0]);
  }
}

void binary(BinaryKind k, const float* a, int64_t sa, const float* b, int64_t sb, float* y,
            int64_t n) {
  switch (k) {
    case BinaryKind::Add: bin<AddF>(a, sa, b, sb, y, n); break;
    case BinaryKind::Sub: bin<SubF>(a, sa, b, sb, y, n); break;
    case BinaryKind::Mul: bin<MulF>(a, sa, b, sb, y, n); break;
    case BinaryKind::Div: bin<DivF>(a, sa, b, sb, y, n); break;
    case BinaryKind::Max: bin<MaxF>(a, sa, b, sb, y, n); break;
    case BinaryKind::Min: bin<MinF>(a, sa, b, sb, y, n); break;
    case BinaryKind::PRelu: bin<PReluF>(a, sa, b, sb, y, n); break;
  }
}

void scale_shift(const float* x, float* y, int64_t n, float a, float b) {
  const __m256 av = set1(a), bv = set1(b);
  map8(x, y, n, [av, bv](__m256 v) { return _mm256_fmadd_ps(av, v, bv); });
}

using avx2::hmax8;
using avx2::hsum8;

float sum(const float* x, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + i + 24));
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
  float s = hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < n; ++i) s += x[i];
  return s;
}

// NaN never wins: acc = max_ps(v, acc) = v > acc ? v : acc.
float max(const float* x, int64_t n) {
  const float ninf = -std::numeric_limits<float>::infinity();
  __m256 a0 = set1(ninf), a1 = a0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_max_ps(_mm256_loadu_ps(x + i), a0);
    a1 = _mm256_max_ps(_mm256_loadu_ps(x + i + 8), a1);
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_max_ps(_mm256_loadu_ps(x + i), a0);
  float m = hmax8(_mm256_max_ps(a0, a1));
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

// Sum of the deviations d = x - m and of their squares.
void dev_sums(const float* x, int64_t n, float m, float* sd, float* sq) {
  const __m256 mv = set1(m);
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, q0 = s0, q1 = s0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), mv);
    __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), mv);
    s0 = _mm256_add_ps(s0, d0);
    s1 = _mm256_add_ps(s1, d1);
    q0 = _mm256_fmadd_ps(d0, d0, q0);
    q1 = _mm256_fmadd_ps(d1, d1, q1);
  }
  for (; i + 8 <= n; i += 8) {
    __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), mv);
    s0 = _mm256_add_ps(s0, d0);
    q0 = _mm256_fmadd_ps(d0, d0, q0);
  }
  float s = hsum8(_mm256_add_ps(s0, s1)), q = hsum8(_mm256_add_ps(q0, q1));
  for (; i < n; ++i) {
    float d = x[i] - m;
    s += d;
    q += d * d;
  }
  *sd = s;
  *sq = q;
}

void softmax_row(const float* x, float* y, int64_t n, bool log) {
  if (n == 0) return;
  float mx = max(x, n);
  if (!(mx > -std::numeric_limits<float>::infinity())) mx = x[0];  // all -inf or NaN: as NAIVE
  const __m256 mv = set1(mx);
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  if (log) {
    for (; i + 8 <= n; i += 8)
      acc = _mm256_add_ps(acc, vm::exp_nonpos_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv)));
    float s = hsum8(acc);
    for (; i < n; ++i) {
      alignas(32) float t[8];
      _mm256_store_ps(t, vm::exp_nonpos_ps(set1(x[i] - mx)));
      s += t[0];
    }
    const __m256 ls = set1(mx + std::log(s));
    map8(x, y, n, [ls](__m256 v) { return _mm256_sub_ps(v, ls); });
    return;
  }
  for (; i + 8 <= n; i += 8) {
    __m256 e = vm::exp_nonpos_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv));
    _mm256_storeu_ps(y + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  float s = hsum8(acc);
  if (i < n) {
    alignas(32) float t[8] = {0};
    const int64_t r = n - i;
    std::memcpy(t, x + i, static_cast<size_t>(r) * sizeof(float));
    _mm256_store_ps(t, vm::exp_nonpos_ps(_mm256_sub_ps(_mm256_load_ps(t), mv)));
    for (int64_t j = 0; j < r; ++j) {
      y[i + j] = t[j];
      s += t[j];
    }
  }
  const __m256 rv = set1(1.f / s);
  map8(y, y, n, [rv](__m256 v) { return _mm256_mul_ps(v, rv); });
}

// Corrected two-pass statistics: m0 = the float mean is off by up to an ulp
// of the mean, a large share of the spread when |mean| >> spread; the
// deviations x - m0 are exact there (Sterbenz), so their sum gives the
// correction c = mean - m0 and var = (sum d^2 - (sum d)^2 / n) / n, and
// each output is ((x - m0) - c) * inv: no term rounds on the mean's scale.
void layer_norm_row(const float* x, float* y, int64_t n, const float* scale, const float* bias,
                    double eps, float* mean_out, float* inv_out) {
  const float m0 = n ? sum(x, n) / static_cast<float>(n) : 0.f;
  float sd = 0.f, sq = 0.f;
  dev_sums(x, n, m0, &sd, &sq);
  const double dn = n ? static_cast<double>(n) : 1.0;
  const double c = sd / dn;
  const double var = std::max(0.0, (static_cast<double>(sq) - sd * c) / dn);
  const float inv = static_cast<float>(1.0 / std::sqrt(var + eps));
  const float cf = static_cast<float>(c);
  const __m256 mv = set1(m0), cv = set1(cf), iv = set1(inv);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_mul_ps(_mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv), cv), iv);
    v = bias ? _mm256_fmadd_ps(v, _mm256_loadu_ps(scale + i), _mm256_loadu_ps(bias + i))
             : _mm256_mul_ps(v, _mm256_loadu_ps(scale + i));
    _mm256_storeu_ps(y + i, v);
  }
  for (; i < n; ++i) {
    float v = ((x[i] - m0) - cf) * inv;
    y[i] = bias ? std::fma(v, scale[i], bias[i]) : v * scale[i];
  }
  *mean_out = static_cast<float>(m0 + c);
  *inv_out = inv;
}

// Even elements x[0], x[2], ..., x[14] of 16.
inline __m256 load_even(const float* x) {
  __m256 lo = _mm256_loadu_ps(x), hi = _mm256_loadu_ps(x + 8);
  __m256 ev = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), _MM_SHUFFLE(3, 1, 2, 0)));
}

template <class F, class S>
inline void tap(float* acc, const float* x, int64_t stride, int64_t n, F vf, S sf) {
  int64_t o = 0;
  if (stride == 1) {
    for (; o + 8 <= n; o += 8)
      _mm256_storeu_ps(acc + o, vf(_mm256_loadu_ps(x + o), _mm256_loadu_ps(acc + o)));
  } else if (stride == 2) {
    // The 16-float load reads x[2o + 15]; stop while that is still an element
    // the taps read (the last tap reads x[2 (n - 1)]).
    for (; o + 8 <= n - 1; o += 8)
      _mm256_storeu_ps(acc + o, vf(load_even(x + 2 * o), _mm256_loadu_ps(acc + o)));
  }
  for (; o < n; ++o) acc[o] = sf(x[o * stride], acc[o]);
}

void row_max_tap(float* acc, const float* x, int64_t stride, int64_t n) {
  tap(acc, x, stride, n, [](__m256 v, __m256 a) { return _mm256_max_ps(v, a); },
      [](float v, float a) { return v > a ? v : a; });
}

void row_sum_tap(float* acc, const float* x, int64_t stride, int64_t n) {
  tap(acc, x, stride, n, [](__m256 v, __m256 a) { return _mm256_add_ps(a, v); },
      [](float v, float a) { return a + v; });
}


void transpose32(const float* src, int64_t lds, float* dst, int64_t ldd, int64_t rows,
                 int64_t cols) {
  // Edges move as 32-bit words (integer dtypes too; the register shuffles
  // of the 8x8 tiles never change bits).
  const uint32_t* su = reinterpret_cast<const uint32_t*>(src);
  uint32_t* du = reinterpret_cast<uint32_t*>(dst);
  constexpr int64_t B = 32;
  for (int64_t r0 = 0; r0 < rows; r0 += B) {
    const int64_t r1 = std::min(rows, r0 + B);
    for (int64_t c0 = 0; c0 < cols; c0 += B) {
      const int64_t c1 = std::min(cols, c0 + B);
      int64_t r = r0;
      for (; r + 8 <= r1; r += 8) {
        int64_t c = c0;
        for (; c + 8 <= c1; c += 8) {
          const float* s = src + r * lds + c;
          __m256 v0 = _mm256_loadu_ps(s), v1 = _mm256_loadu_ps(s + lds);
          __m256 v2 = _mm256_loadu_ps(s + 2 * lds), v3 = _mm256_loadu_ps(s + 3 * lds);
          __m256 v4 = _mm256_loadu_ps(s + 4 * lds), v5 = _mm256_loadu_ps(s + 5 * lds);
          __m256 v6 = _mm256_loadu_ps(s + 6 * lds), v7 = _mm256_loadu_ps(s + 7 * lds);
          avx2::transpose8(v0, v1, v2, v3, v4, v5, v6, v7);
          float* d = dst + c * ldd + r;
          _mm256_storeu_ps(d, v0);
          _mm256_storeu_ps(d + ldd, v1);
          _mm256_storeu_ps(d + 2 * ldd, v2);
          _mm256_storeu_ps(d + 3 * ldd, v3);
          _mm256_storeu_ps(d + 4 * ldd, v4);
          _mm256_storeu_ps(d + 5 * ldd, v5);
          _mm256_storeu_ps(d + 6 * ldd, v6);
          _mm256_storeu_ps(d + 7 * ldd, v7);
        }
        for (; c < c1; ++c)
          for (int64_t rr = r; rr < r + 8; ++rr) du[c * ldd + rr] = su[rr * lds + c];
      }
      for (; r < r1; ++r)
        for (int64_t c = c0; c < c1; ++c) du[c * ldd + r] = su[r * lds + c];
    }
  }
}

const EltwiseImpl kAvx2{"avx2_fma", unary, act, binary, scale_shift, softmax_row, layer_norm_row,
                        sum,        max,   row_max_tap, row_sum_tap, transpose32};

}  // namespace

const EltwiseImpl& eltwise_avx2_impl() { return kAvx2; }

}  // namespace kernels
}  // namespace loadrun
