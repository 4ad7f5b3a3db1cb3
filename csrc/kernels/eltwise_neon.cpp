// The NEON table of eltwise.h (aarch64): the activations through the one
// vector definition (activation_neon.h), the other unary functions (exp,
// log, erf from vmath_neon.h; sqrt, reciprocal, neg, abs, square), binary
// functions with the portable table's NaN and tie rules, scale+shift, row
// softmax, sums and maxima, 4 floats per step with the tail through a small
// buffer; layer-norm rows (the portable two-pass mean / centred variance,
// with vector partial sums), pooling taps along a row of outputs (stride 1
// and 2 as whole vectors: vld2q splits a stride-2 row; other strides
// scalar), and 32-bit transposes in 4x4 register blocks (moved as integer
// words, so any bit pattern survives). Accuracy: the same formulas as the
// AVX2 table, so the bounds stated in eltwise.h hold.
#include <arm_neon.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/activation_neon.h"
#include "kernels/eltwise.h"
#include "kernels/vmath_neon.h"

namespace loadrun {
namespace kernels {

namespace {

// y[i] = f(x[i]) 4 lanes at a time; the last 1-3 through a buffer.
template <class F>
inline void map4(const float* x, float* y, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, f(vld1q_f32(x + i)));
  if (i < n) {
    float t[4] = {0.f, 0.f, 0.f, 0.f};
    std::memcpy(t, x + i, static_cast<size_t>(n - i) * sizeof(float));
    vst1q_f32(t, f(vld1q_f32(t)));
    std::memcpy(y + i, t, static_cast<size_t>(n - i) * sizeof(float));
  }
}

void act(Act a, const float* x, float* y, int64_t n, float p0, float p1) {
  const float32x4_t v0 = vdupq_n_f32(p0), v1 = vdupq_n_f32(p1);
  with_act(a, [&](auto c) {
    map4(x, y, n, [v0, v1](float32x4_t v) { return neon::activate4(decltype(c)::value, v, v0, v1); });
  });
}

void unary(UnaryKind k, const float* x, float* y, int64_t n, float p0, float p1) {
  Act a = Act::kNone;
  if (unary_activation(k, &a)) return act(a, x, y, n, p0, p1);
  switch (k) {
    case UnaryKind::Exp: map4(x, y, n, vmn::exp_f4); break;
    case UnaryKind::Log: map4(x, y, n, vmn::log_f4); break;
    case UnaryKind::Erf: map4(x, y, n, vmn::erf_f4); break;
    case UnaryKind::Sqrt: map4(x, y, n, [](float32x4_t v) { return vsqrtq_f32(v); }); break;
    case UnaryKind::Reciprocal:
      map4(x, y, n, [](float32x4_t v) { return vdivq_f32(vdupq_n_f32(1.f), v); });
      break;
    case UnaryKind::Neg: map4(x, y, n, [](float32x4_t v) { return vnegq_f32(v); }); break;
    case UnaryKind::Abs: map4(x, y, n, [](float32x4_t v) { return vabsq_f32(v); }); break;
    case UnaryKind::Square: map4(x, y, n, [](float32x4_t v) { return vmulq_f32(v, v); }); break;
    case UnaryKind::Copy:
      if (x != y) std::memmove(y, x, static_cast<size_t>(n) * sizeof(float));
      break;
    default: break;  // the activations, above
  }
}

// y[i] = f(a[sa*i], b[sb*i]) (sa, sb in {0, 1}).
template <class F>
inline void bin4(const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n,
                 F f) {
  const float32x4_t a0 = vdupq_n_f32(a[0]), b0 = vdupq_n_f32(b[0]);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    vst1q_f32(y + i, f(sa ? vld1q_f32(a + i) : a0, sb ? vld1q_f32(b + i) : b0));
  if (i < n) {
    float ta[4] = {0.f, 0.f, 0.f, 0.f}, tb[4] = {0.f, 0.f, 0.f, 0.f}, ty[4];
    for (int64_t j = i; j < n; ++j) {
      ta[j - i] = a[sa * j];
      tb[j - i] = b[sb * j];
    }
    vst1q_f32(ty, f(vld1q_f32(ta), vld1q_f32(tb)));
    for (int64_t j = i; j < n; ++j) y[j] = ty[j - i];
  }
}

inline uint32x4_t isnan4(float32x4_t v) { return vmvnq_u32(vceqq_f32(v, v)); }

void binary(BinaryKind k, const float* a, int64_t sa, const float* b, int64_t sb, float* y,
            int64_t n) {
  if (n <= 0) return;
  switch (k) {
    case BinaryKind::Add: bin4(a, sa, b, sb, y, n, [](float32x4_t u, float32x4_t v) { return vaddq_f32(u, v); }); break;
    case BinaryKind::Sub: bin4(a, sa, b, sb, y, n, [](float32x4_t u, float32x4_t v) { return vsubq_f32(u, v); }); break;
    case BinaryKind::Mul: bin4(a, sa, b, sb, y, n, [](float32x4_t u, float32x4_t v) { return vmulq_f32(u, v); }); break;
    case BinaryKind::Div: bin4(a, sa, b, sb, y, n, [](float32x4_t u, float32x4_t v) { return vdivq_f32(u, v); }); break;
    case BinaryKind::Max:  // u NaN: u; v NaN or u < v: v; else u (ties: a)
      bin4(a, sa, b, sb, y, n, [](float32x4_t u, float32x4_t v) {
        float32x4_t r = vbslq_f32(vorrq_u32(vcltq_f32(u, v), isnan4(v)), v, u);
        return vbslq_f32(isnan4(u), u, r);
      });
      break;
    case BinaryKind::Min:  // u NaN: u; v NaN or v < u: v; else u
      bin4(a, sa, b, sb, y, n, [](float32x4_t u, float32x4_t v) {
        float32x4_t r = vbslq_f32(vorrq_u32(vcltq_f32(v, u), isnan4(v)), v, u);
        return vbslq_f32(isnan4(u), u, r);
      });
      break;
    case BinaryKind::PRelu:  // u < 0 ? v * u : u
      bin4(a, sa, b, sb, y, n, [](float32x4_t u, float32x4_t v) {
        return vbslq_f32(vcltq_f32(u, vdupq_n_f32(0.f)), vmulq_f32(v, u), u);
      });
      break;
  }
}

void scale_shift(const float* x, float* y, int64_t n, float a, float b) {
  const float32x4_t av = vdupq_n_f32(a), bv = vdupq_n_f32(b);
  map4(x, y, n, [av, bv](float32x4_t v) { return vfmaq_f32(bv, av, v); });
}

float sum(const float* x, int64_t n) {
  float32x4_t s0 = vdupq_n_f32(0.f), s1 = s0;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    s0 = vaddq_f32(s0, vld1q_f32(x + i));
    s1 = vaddq_f32(s1, vld1q_f32(x + i + 4));
  }
  float s = vaddvq_f32(vaddq_f32(s0, s1));
  for (; i < n; ++i) s += x[i];
  return s;
}

// Maximum ignoring NaN (FMAXNM returns the number), -inf when empty or all NaN.
float max(const float* x, int64_t n) {
  const float ninf = -std::numeric_limits<float>::infinity();
  float32x4_t m0 = vdupq_n_f32(ninf), m1 = m0;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    m0 = vmaxnmq_f32(m0, vld1q_f32(x + i));
    m1 = vmaxnmq_f32(m1, vld1q_f32(x + i + 4));
  }
  float m = vmaxnmvq_f32(vmaxnmq_f32(m0, m1));
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

void softmax_row(const float* x, float* y, int64_t n, bool log) {
  if (n == 0) return;
  float mx = max(x, n);
  if (!(mx > -std::numeric_limits<float>::infinity())) mx = x[0];  // all -inf or NaN: as NAIVE
  const float32x4_t mv = vdupq_n_f32(mx);
  float32x4_t acc = vdupq_n_f32(0.f);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t e = vmn::exp_f4(vsubq_f32(vld1q_f32(x + i), mv));
    if (!log) vst1q_f32(y + i, e);
    acc = vaddq_f32(acc, e);
  }
  float s = vaddvq_f32(acc);
  if (i < n) {
    float t[4] = {0.f, 0.f, 0.f, 0.f};
    const int64_t r = n - i;
    std::memcpy(t, x + i, static_cast<size_t>(r) * sizeof(float));
    vst1q_f32(t, vmn::exp_f4(vsubq_f32(vld1q_f32(t), mv)));
    for (int64_t j = 0; j < r; ++j) {
      if (!log) y[i + j] = t[j];
      s += t[j];
    }
  }
  if (log) {
    const float32x4_t ls = vdupq_n_f32(mx + std::log(s));
    map4(x, y, n, [ls](float32x4_t v) { return vsubq_f32(v, ls); });
    return;
  }
  const float32x4_t rv = vdupq_n_f32(1.f / s);
  map4(y, y, n, [rv](float32x4_t v) { return vmulq_f32(v, rv); });
}

// The portable layer_norm_row's arithmetic (mean m0 of the sum, then the
// centred sums sd and sq with the correction c = sd / n), 4 lanes at a time.
void layer_norm_row(const float* x, float* y, int64_t n, const float* scale, const float* bias,
                    double eps, float* mean_out, float* inv_out) {
  const float m0 = n ? sum(x, n) / static_cast<float>(n) : 0.f;
  const float32x4_t mv = vdupq_n_f32(m0);
  float32x4_t vd = vdupq_n_f32(0.f), vq = vd;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t d = vsubq_f32(vld1q_f32(x + i), mv);
    vd = vaddq_f32(vd, d);
    vq = vfmaq_f32(vq, d, d);
  }
  float sd = vaddvq_f32(vd), sq = vaddvq_f32(vq);
  for (; i < n; ++i) {
    const float d = x[i] - m0;
    sd += d;
    sq += d * d;
  }
  const double dn = n ? static_cast<double>(n) : 1.0;
  const double c = sd / dn;
  const double var = std::max(0.0, (static_cast<double>(sq) - sd * c) / dn);
  const float inv = static_cast<float>(1.0 / std::sqrt(var + eps));
  const float cf = static_cast<float>(c);
  const float32x4_t cv = vdupq_n_f32(cf), iv = vdupq_n_f32(inv);
  for (i = 0; i + 4 <= n; i += 4) {
    float32x4_t v = vmulq_f32(vmulq_f32(vsubq_f32(vsubq_f32(vld1q_f32(x + i), mv), cv), iv),
                              vld1q_f32(scale + i));
    if (bias) v = vaddq_f32(v, vld1q_f32(bias + i));
    vst1q_f32(y + i, v);
  }
  for (; i < n; ++i) {
    const float v = ((x[i] - m0) - cf) * inv * scale[i];
    y[i] = bias ? v + bias[i] : v;
  }
  *mean_out = static_cast<float>(m0 + c);
  *inv_out = inv;
}

// acc = f(acc, x[o * stride]) for o < n; f on 4 lanes (fv) and on one (fs).
// Stride 1 and 2 load whole vectors (a stride-2 block of 4 outputs reads 8
// floats, so the block ending at the row's last output goes scalar).
template <class FV, class FS>
inline void row_tap(float* acc, const float* x, int64_t stride, int64_t n, FV fv, FS fs) {
  int64_t o = 0;
  if (stride == 1) {
    for (; o + 4 <= n; o += 4) vst1q_f32(acc + o, fv(vld1q_f32(acc + o), vld1q_f32(x + o)));
  } else if (stride == 2) {
    for (; o + 4 < n; o += 4) vst1q_f32(acc + o, fv(vld1q_f32(acc + o), vld2q_f32(x + 2 * o).val[0]));
  }
  for (; o < n; ++o) acc[o] = fs(acc[o], x[o * stride]);
}

void row_max_tap(float* acc, const float* x, int64_t stride, int64_t n) {
  // v > a ? v : a, as the portable tap: a NaN tap value is skipped, a NaN acc stays.
  row_tap(acc, x, stride, n,
          [](float32x4_t a, float32x4_t v) { return vbslq_f32(vcgtq_f32(v, a), v, a); },
          [](float a, float v) { return v > a ? v : a; });
}

void row_sum_tap(float* acc, const float* x, int64_t stride, int64_t n) {
  row_tap(acc, x, stride, n, [](float32x4_t a, float32x4_t v) { return vaddq_f32(a, v); },
          [](float a, float v) { return a + v; });
}

// dst[c * ldd + r] = src[r * lds + c], 4x4 blocks of 32-bit words in
// registers inside 16x16 tiles (both sides' lines stay in cache); the edges
// word by word.
void transpose32(const float* srcf, int64_t lds, float* dstf, int64_t ldd, int64_t rows,
                 int64_t cols) {
  const uint32_t* src = reinterpret_cast<const uint32_t*>(srcf);
  uint32_t* dst = reinterpret_cast<uint32_t*>(dstf);
  constexpr int64_t B = 16;
  for (int64_t r0 = 0; r0 < rows; r0 += B) {
    const int64_t r1 = std::min(rows, r0 + B);
    for (int64_t c0 = 0; c0 < cols; c0 += B) {
      const int64_t c1 = std::min(cols, c0 + B);
      int64_t r = r0;
      for (; r + 4 <= r1; r += 4) {
        int64_t c = c0;
        for (; c + 4 <= c1; c += 4) {
          const uint32_t* s = src + r * lds + c;
          const uint32x4_t a = vld1q_u32(s), b = vld1q_u32(s + lds);
          const uint32x4_t e = vld1q_u32(s + 2 * lds), f = vld1q_u32(s + 3 * lds);
          const uint32x4_t t0 = vtrn1q_u32(a, b), t1 = vtrn2q_u32(a, b);
          const uint32x4_t t2 = vtrn1q_u32(e, f), t3 = vtrn2q_u32(e, f);
          uint32_t* d = dst + c * ldd + r;
          vst1q_u32(d, vreinterpretq_u32_u64(vtrn1q_u64(vreinterpretq_u64_u32(t0),
                                                         vreinterpretq_u64_u32(t2))));
          vst1q_u32(d + ldd, vreinterpretq_u32_u64(vtrn1q_u64(vreinterpretq_u64_u32(t1),
                                                               vreinterpretq_u64_u32(t3))));
          vst1q_u32(d + 2 * ldd, vreinterpretq_u32_u64(vtrn2q_u64(vreinterpretq_u64_u32(t0),
                                                                   vreinterpretq_u64_u32(t2))));
          vst1q_u32(d + 3 * ldd, vreinterpretq_u32_u64(vtrn2q_u64(vreinterpretq_u64_u32(t1),
                                                                   vreinterpretq_u64_u32(t3))));
        }
        for (; c < c1; ++c)
          for (int64_t q = r; q < r + 4; ++q) dst[c * ldd + q] = src[q * lds + c];
      }
      for (; r < r1; ++r)
        for (int64_t c = c0; c < c1; ++c) dst[c * ldd + r] = src[r * lds + c];
    }
  }
}

EltwiseImpl make() {
  EltwiseImpl t = eltwise_portable_impl();
  t.name = "neon";
  t.unary = unary;
  t.act = act;
  t.binary = binary;
  t.scale_shift = scale_shift;
  t.softmax_row = softmax_row;
  t.sum = sum;
  t.max = max;
  t.layer_norm_row = layer_norm_row;
  t.row_max_tap = row_max_tap;
  t.row_sum_tap = row_sum_tap;
  t.transpose32 = transpose32;
  return t;
}

}  // namespace

const EltwiseImpl& eltwise_neon_impl() {
  static const EltwiseImpl impl = make();
  return impl;
}

}  // namespace kernels
}  // namespace loadrun
