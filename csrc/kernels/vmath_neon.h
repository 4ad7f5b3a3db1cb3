// NEON (AArch64 Advanced SIMD) vector math for 4 floats at a time: exp, log,
// tanh, sigmoid, erf, erfc (for |x| >= 1) and Gelu, used by
// activation_neon.h and eltwise_neon.cpp. Include only from *_neon.cpp files
// (aarch64 builds only).
//
// The same methods, polynomial coefficients and special-value handling as
// vmath_avx2.h (see there for the derivations and the design accuracy), with
// AArch64's FMA (vfmaq), round-to-nearest (vrndnq) and exact division
// (vdivq); so an x86 and an ARM build agree to the last bit or two.
// NEON's vmaxq/vminq propagate NaN (AVX2's return the second operand); every
// function below ends with the NaN input passed through explicitly, so the
// clamps in between do not matter for NaN.
#pragma once
#include <arm_neon.h>

namespace loadrun {
namespace kernels {
namespace vmn {

inline float32x4_t set1(float v) { return vdupq_n_f32(v); }

// Polynomial c[0] + c[1] t + ... in t (Horner with FMA).
template <int N>
inline float32x4_t horner(float32x4_t t, const float (&c)[N]) {
  float32x4_t acc = set1(c[N - 1]);
  for (int i = N - 2; i >= 0; --i) acc = vfmaq_f32(set1(c[i]), acc, t);
  return acc;
}

// m ? a : b, lane by lane.
inline float32x4_t select(uint32x4_t m, float32x4_t a, float32x4_t b) { return vbslq_f32(m, a, b); }

inline uint32x4_t isnan_mask(float32x4_t x) { return vmvnq_u32(vceqq_f32(x, x)); }

inline float32x4_t sign_bit(float32x4_t x) {
  return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(x), vdupq_n_u32(0x80000000u)));
}
inline float32x4_t or_bits(float32x4_t a, float32x4_t b) {
  return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b)));
}

// 2^n for integer n in [-126, 127].
inline float32x4_t pow2i(int32x4_t n) {
  return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n, vdupq_n_s32(127)), 23));
}

// exp(x) without the special cases: x must be in [-87.34, 88.73].
inline float32x4_t exp_core(float32x4_t x) {
  static const float P[] = {0.4999999403953552f, 0.1666652113199234f, 0.04166838899254799f,
                            0.008368710987269878f, 0.0013814604608342052f};
  float32x4_t n = vrndnq_f32(vmulq_f32(x, set1(1.44269504088896341f)));
  float32x4_t r = vfmsq_f32(x, n, set1(0.693359375f));
  r = vfmsq_f32(r, n, set1(-2.12194440e-4f));
  float32x4_t p = horner(r, P);
  p = vfmaq_f32(vaddq_f32(r, set1(1.f)), vmulq_f32(r, r), p);
  int32x4_t ni = vcvtq_s32_f32(n);  // n is integral already
  int32x4_t n1 = vshrq_n_s32(ni, 1);
  int32x4_t n2 = vsubq_s32(ni, n1);
  return vmulq_f32(vmulq_f32(p, pow2i(n1)), pow2i(n2));
}

constexpr float kExpHi = 88.72283935546875f;   // ln(FLT_MAX), rounded down
constexpr float kExpLo = -87.33654022216797f;  // ln(FLT_MIN), rounded up

inline float32x4_t exp_f4(float32x4_t x) {
  float32x4_t xc = vminq_f32(vmaxq_f32(x, set1(kExpLo)), set1(kExpHi));
  float32x4_t y = exp_core(xc);
  y = select(vcgtq_f32(x, set1(kExpHi)), set1(__builtin_inff()), y);
  y = select(vcltq_f32(x, set1(kExpLo)), set1(0.f), y);
  return select(isnan_mask(x), x, y);
}

inline float32x4_t log_f4(float32x4_t x) {
  static const float P[] = {0.3333333134651184f,   -0.250008225440979f,  0.20001226663589478f,
                            -0.16623353958129883f, 0.14201776683330536f, -0.13160233199596405f,
                            0.12761467695236206f,  -0.07634225487709045f};
  // Subnormals: scale into the normal range first.
  uint32x4_t den = vcltq_f32(x, set1(1.17549435e-38f));
  float32x4_t xs = select(den, vmulq_f32(x, set1(8388608.f)), x);
  float32x4_t eadj = select(den, set1(-23.f), set1(0.f));
  uint32x4_t bits = vreinterpretq_u32_f32(xs);
  int32x4_t e = vsubq_s32(vreinterpretq_s32_u32(vshrq_n_u32(bits, 23)), vdupq_n_s32(127));
  float32x4_t m = vreinterpretq_f32_u32(
      vorrq_u32(vandq_u32(bits, vdupq_n_u32(0x7fffff)), vdupq_n_u32(0x3f800000)));
  uint32x4_t big = vcgtq_f32(m, set1(1.41421356237f));
  m = select(big, vmulq_f32(m, set1(0.5f)), m);
  float32x4_t ef = vaddq_f32(vcvtq_f32_s32(e), eadj);
  ef = vaddq_f32(ef, select(big, set1(1.f), set1(0.f)));
  float32x4_t f = vsubq_f32(m, set1(1.f));
  float32x4_t f2 = vmulq_f32(f, f);
  float32x4_t p = horner(f, P);
  float32x4_t r = vfmaq_f32(vfmsq_f32(f, f2, set1(0.5f)), vmulq_f32(f2, f), p);
  r = vfmaq_f32(r, ef, set1(-2.12194440e-4f));
  r = vfmaq_f32(r, ef, set1(0.693359375f));
  // Special values: 0 -> -inf, < 0 -> NaN, inf -> inf, NaN -> NaN.
  r = select(vceqq_f32(x, set1(0.f)), set1(-__builtin_inff()), r);
  r = select(vcltq_f32(x, set1(0.f)), set1(__builtin_nanf("")), r);
  r = select(vceqq_f32(x, set1(__builtin_inff())), x, r);
  return select(isnan_mask(x), x, r);
}

// 1 / (1 + exp(-x)); exact division.
inline float32x4_t sigmoid_f4(float32x4_t x) {
  float32x4_t e = exp_f4(vnegq_f32(x));
  return vdivq_f32(set1(1.f), vaddq_f32(set1(1.f), e));
}

inline float32x4_t tanh_f4(float32x4_t x) {
  static const float P[] = {-0.3333328068256378f, 0.13331441581249237f, -0.05373971909284592f,
                            0.020639101043343544f, -0.0057050003670156f};
  float32x4_t a = vabsq_f32(x);
  float32x4_t x2 = vmulq_f32(x, x);
  float32x4_t small = vfmaq_f32(x, vmulq_f32(x2, x), horner(x2, P));
  // exp(-2a) clamped below at 0: a is at most 43.7 there, so no overflow.
  float32x4_t e = exp_core(vmaxq_f32(vmulq_f32(a, set1(-2.f)), set1(kExpLo)));
  float32x4_t t = vdivq_f32(vsubq_f32(set1(1.f), e), vaddq_f32(set1(1.f), e));
  float32x4_t large = or_bits(t, sign_bit(x));
  float32x4_t y = select(vcltq_f32(a, set1(0.625f)), small, large);
  return select(isnan_mask(x), x, y);
}

// exp(-(hi + lo)) for hi + lo = a^2 carried exactly: exp(-hi) (1 - lo).
inline float32x4_t exp_neg_sq(float32x4_t a) {
  float32x4_t hi = vmulq_f32(a, a);
  float32x4_t lo = vfmaq_f32(vnegq_f32(hi), a, a);  // a*a - hi, one rounding
  float32x4_t e = exp_core(vmaxq_f32(vnegq_f32(hi), set1(kExpLo)));
  e = vfmsq_f32(e, e, lo);
  // exp(-hi) below FLT_MIN: 0 (the clamp above would give FLT_MIN).
  return select(vcgtq_f32(hi, set1(-kExpLo)), set1(0.f), e);
}

constexpr float kErfcR[] = {-4.101498234376777e-06f, 0.5643987059593201f, 1.1239650249481201f,
                            2.023717164993286f,      2.528812885284424f,  3.3703198432922363f,
                            1.6055293083190918f,     -23.687606811523438f, 20.709613800048828f};

// erfc(a) for a >= 1 (a clamped to 10): exp(-a^2) R(1 / (a + 2)).
inline float32x4_t erfc_big(float32x4_t a) {
  float32x4_t ac = vminq_f32(a, set1(10.f));
  float32x4_t t = vdivq_f32(set1(1.f), vaddq_f32(ac, set1(2.f)));
  return vmulq_f32(exp_neg_sq(ac), horner(t, kErfcR));
}

// erf(x) = x P(x^2) for |x| < 1.
inline float32x4_t erf_small(float32x4_t x) {
  static const float P[] = {1.1283791065216064f,   -0.3761232793331146f, 0.11280184239149094f,
                            -0.02671140432357788f, 0.004917643498629332f, -0.0005631754756905138f};
  return vmulq_f32(x, horner(vmulq_f32(x, x), P));
}

inline float32x4_t erf_f4(float32x4_t x) {
  float32x4_t a = vabsq_f32(x);
  float32x4_t big = or_bits(vsubq_f32(set1(1.f), erfc_big(a)), sign_bit(x));
  float32x4_t y = select(vcltq_f32(a, set1(1.f)), erf_small(x), big);
  return select(isnan_mask(x), x, y);
}

// 0.5 x erfc(-x / sqrt 2) (gelu(+inf) = inf; gelu(-inf) = NaN), as
// vmath_avx2.h's gelu_ps: exp(-z^2) from the exact x^2.
inline float32x4_t gelu_f4(float32x4_t x) {
  float32x4_t z = vmulq_f32(x, set1(0.70710678118654752f));
  float32x4_t a = vabsq_f32(z);
  float32x4_t ac = vminq_f32(a, set1(10.f));
  float32x4_t xc = vminq_f32(vabsq_f32(x), set1(14.142135f));
  float32x4_t hi = vmulq_f32(xc, xc);
  float32x4_t lo = vfmaq_f32(vnegq_f32(hi), xc, xc);
  float32x4_t hh = vmulq_f32(hi, set1(0.5f)), hl = vmulq_f32(lo, set1(0.5f));
  float32x4_t e = exp_core(vmaxq_f32(vnegq_f32(hh), set1(kExpLo)));
  e = vfmsq_f32(e, e, hl);
  e = select(vcgtq_f32(hh, set1(-kExpLo)), set1(0.f), e);
  float32x4_t t = vdivq_f32(set1(1.f), vaddq_f32(ac, set1(2.f)));
  float32x4_t q = vmulq_f32(e, horner(t, kErfcR));  // erfc(|z|)
  float32x4_t hx = vmulq_f32(x, set1(0.5f));
  // z > 0: 0.5 x (2 - q) = x - 0.5 x q; z < 0: 0.5 x q.
  float32x4_t pos = vfmsq_f32(x, hx, q);
  pos = select(vceqq_f32(x, set1(__builtin_inff())), x, pos);  // +inf
  float32x4_t neg = vmulq_f32(hx, q);
  float32x4_t big = select(vcltq_f32(z, set1(0.f)), neg, pos);
  float32x4_t small = vfmaq_f32(hx, hx, erf_small(z));
  float32x4_t y = select(vcltq_f32(a, set1(1.f)), small, big);
  return select(isnan_mask(x), x, y);
}

}  // namespace vmn
}  // namespace kernels
}  // namespace loadrun
