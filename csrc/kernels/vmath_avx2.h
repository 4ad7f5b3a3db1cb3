// AVX2+FMA vector math for 8 floats at a time: exp, log, tanh, sigmoid, erf
// and erfc (for |x| >= 1), and the two GELU forms, used by
// activation_avx2.h and eltwise_avx2.cpp. Include only from *_avx2.cpp files
// (the only ones compiled with -mavx2 -mfma).
//
// Method and design accuracy (float32 results, relative error against a
// double reference; the polynomial coefficients were fitted for this file by
// iteratively reweighted least squares towards minimax relative error; the
// tested bounds are in eltwise.h):
// - exp: x = n ln2 + r, |r| <= ln2/2 (Cody-Waite, ln2 in two parts),
//   e^r = 1 + r + r^2 P4(r), scaled by 2^n in two steps (so n = 128 and
//   n = -126 both work). <= 3e-7 for x in [-87.33, 88.72]; above +inf,
//   below 0 (true results there are subnormal, < 1.2e-38), NaN stays NaN.
//   exp_shifter: the same on [-87.33, 88] without special cases, n from a
//   shifter addition (no round/convert), for the GELU tanh form, and
//   exp_nonpos_ps for x <= 0 (softmax).
// - log: x = 2^e m, m in [sqrt(1/2), sqrt 2), f = m - 1,
//   log(1 + f) = f - f^2/2 + f^3 P7(f), plus e ln2 in two parts; subnormal
//   inputs are scaled by 2^23 first. <= 3e-7; log(0) = -inf, log(x < 0) =
//   NaN, log(inf) = inf.
// - tanh: |x| < 0.625: x + x^3 P4(x^2); else sign(x) (1 - e) / (1 + e) with
//   e = exp(-2|x|). <= 5e-7.
// - erf: |x| < 1: x P5(x^2); else sign(x) (1 - erfc(|x|)) with
//   erfc(a) = exp(-a^2) R8(1 / (a + 2)), a^2 carried exactly (FMA) into the
//   exponential; a is clamped at 10 (erfc(10) < 2^-149). erf <= 3e-7,
//   erfc (a >= 1) <= 1e-6 relative.
// - gelu (erf form): x Phi(x) from Phi(-|x|) = exp(-x^2/2) S10(1 / (2 + |x|))
//   for every x, no branch (see gelu_ps). <= 3.6e-7.
// - gelu (tanh form): x / (1 + exp(-2u)), one division (see gelu_tanh_ps).
#pragma once
#include <immintrin.h>

namespace loadrun {
namespace kernels {
namespace vm {

inline __m256 set1(float v) { return _mm256_set1_ps(v); }

// Polynomial c[0] + c[1] t + ... in t (Horner with FMA).
template <int N>
inline __m256 horner(__m256 t, const float (&c)[N]) {
  __m256 acc = set1(c[N - 1]);
  for (int i = N - 2; i >= 0; --i) acc = _mm256_fmadd_ps(acc, t, set1(c[i]));
  return acc;
}

inline __m256 isnan_mask(__m256 x) { return _mm256_cmp_ps(x, x, _CMP_UNORD_Q); }

inline __m256 abs_ps(__m256 x) {
  return _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)));
}
inline __m256 sign_bit(__m256 x) {
  return _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(static_cast<int>(0x80000000u))));
}

// 2^n for integer n in [-126, 127] (as int32 lanes).
inline __m256 pow2i(__m256i n) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23));
}

// exp(x) without the special cases: x must be in [-87.34, 88.73].
inline __m256 exp_core(__m256 x) {
  static const float P[] = {0.4999999403953552f, 0.1666652113199234f, 0.04166838899254799f,
                            0.008368710987269878f, 0.0013814604608342052f};
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, set1(1.44269504088896341f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, set1(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, set1(-2.12194440e-4f), r);
  __m256 p = horner(r, P);
  p = _mm256_fmadd_ps(_mm256_mul_ps(r, r), p, _mm256_add_ps(r, set1(1.f)));
  __m256i ni = _mm256_cvtps_epi32(n);
  __m256i n1 = _mm256_srai_epi32(ni, 1);
  __m256i n2 = _mm256_sub_epi32(ni, n1);
  return _mm256_mul_ps(_mm256_mul_ps(p, pow2i(n1)), pow2i(n2));
}

constexpr float kExpHi = 88.72283935546875f;   // ln(FLT_MAX), rounded down
constexpr float kExpLo = -87.33654022216797f;  // ln(FLT_MIN), rounded up

inline __m256 exp_ps(__m256 x) {
  __m256 xc = _mm256_min_ps(_mm256_max_ps(x, set1(kExpLo)), set1(kExpHi));
  __m256 y = exp_core(xc);
  y = _mm256_blendv_ps(y, set1(__builtin_inff()), _mm256_cmp_ps(x, set1(kExpHi), _CMP_GT_OQ));
  y = _mm256_blendv_ps(y, _mm256_setzero_ps(), _mm256_cmp_ps(x, set1(kExpLo), _CMP_LT_OQ));
  return _mm256_blendv_ps(y, x, isnan_mask(x));
}

inline __m256 log_ps(__m256 x) {
  static const float P[] = {0.3333333134651184f,   -0.250008225440979f,  0.20001226663589478f,
                            -0.16623353958129883f, 0.14201776683330536f, -0.13160233199596405f,
                            0.12761467695236206f,  -0.07634225487709045f};
  // Subnormals: scale into the normal range first.
  __m256 den = _mm256_cmp_ps(x, set1(1.17549435e-38f), _CMP_LT_OQ);
  __m256 xs = _mm256_blendv_ps(x, _mm256_mul_ps(x, set1(8388608.f)), den);
  __m256 eadj = _mm256_and_ps(den, set1(-23.f));
  __m256i bits = _mm256_castps_si256(xs);
  __m256i e = _mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127));
  __m256 m = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x7fffff)),
                                                 _mm256_set1_epi32(0x3f800000)));
  __m256 big = _mm256_cmp_ps(m, set1(1.41421356237f), _CMP_GT_OQ);
  m = _mm256_blendv_ps(m, _mm256_mul_ps(m, set1(0.5f)), big);
  __m256 ef = _mm256_add_ps(_mm256_cvtepi32_ps(e), eadj);
  ef = _mm256_add_ps(ef, _mm256_and_ps(big, set1(1.f)));
  __m256 f = _mm256_sub_ps(m, set1(1.f));
  __m256 f2 = _mm256_mul_ps(f, f);
  __m256 p = horner(f, P);
  __m256 r = _mm256_fmadd_ps(_mm256_mul_ps(f2, f), p, _mm256_fnmadd_ps(f2, set1(0.5f), f));
  r = _mm256_fmadd_ps(ef, set1(-2.12194440e-4f), r);
  r = _mm256_fmadd_ps(ef, set1(0.693359375f), r);
  // Special values: 0 -> -inf, < 0 -> NaN, inf -> inf, NaN -> NaN.
  r = _mm256_blendv_ps(r, set1(-__builtin_inff()), _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_EQ_OQ));
  r = _mm256_blendv_ps(r, set1(__builtin_nanf("")), _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ));
  r = _mm256_blendv_ps(r, x, _mm256_cmp_ps(x, set1(__builtin_inff()), _CMP_EQ_OQ));
  return _mm256_blendv_ps(r, x, isnan_mask(x));
}

// 1 / (1 + exp(-x)); exact division.
inline __m256 sigmoid_ps(__m256 x) {
  __m256 e = exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), x));
  return _mm256_div_ps(set1(1.f), _mm256_add_ps(set1(1.f), e));
}

inline __m256 tanh_ps(__m256 x) {
  static const float P[] = {-0.3333328068256378f, 0.13331441581249237f, -0.05373971909284592f,
                            0.020639101043343544f, -0.0057050003670156f};
  __m256 a = abs_ps(x);
  __m256 x2 = _mm256_mul_ps(x, x);
  __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(x2, x), horner(x2, P), x);
  // exp(-2a) clamped below at 0: a is at most 43.7 there, so no overflow.
  __m256 e = exp_core(_mm256_max_ps(_mm256_mul_ps(a, set1(-2.f)), set1(kExpLo)));
  __m256 t = _mm256_div_ps(_mm256_sub_ps(set1(1.f), e), _mm256_add_ps(set1(1.f), e));
  __m256 large = _mm256_or_ps(t, sign_bit(x));
  __m256 y = _mm256_blendv_ps(large, small, _mm256_cmp_ps(a, set1(0.625f), _CMP_LT_OQ));
  return _mm256_blendv_ps(y, x, isnan_mask(x));
}

// exp(-(hi + lo)) for hi + lo = a^2 carried exactly: exp(-hi) (1 - lo).
inline __m256 exp_neg_sq(__m256 a) {
  __m256 hi = _mm256_mul_ps(a, a);
  __m256 lo = _mm256_fmsub_ps(a, a, hi);
  __m256 e = exp_core(_mm256_max_ps(_mm256_sub_ps(_mm256_setzero_ps(), hi), set1(kExpLo)));
  e = _mm256_fnmadd_ps(e, lo, e);
  // exp(-hi) below FLT_MIN: 0 (the clamp above would give FLT_MIN).
  return _mm256_blendv_ps(e, _mm256_setzero_ps(), _mm256_cmp_ps(hi, set1(-kExpLo), _CMP_GT_OQ));
}

// erfc(a) for a >= 1 (a clamped to 10): exp(-a^2) R(1 / (a + 2)).
inline __m256 erfc_big(__m256 a) {
  static const float R[] = {-4.101498234376777e-06f, 0.5643987059593201f, 1.1239650249481201f,
                            2.023717164993286f,      2.528812885284424f,  3.3703198432922363f,
                            1.6055293083190918f,     -23.687606811523438f, 20.709613800048828f};
  __m256 ac = _mm256_min_ps(a, set1(10.f));
  __m256 t = _mm256_div_ps(set1(1.f), _mm256_add_ps(ac, set1(2.f)));
  return _mm256_mul_ps(exp_neg_sq(ac), horner(t, R));
}

// erf(x) = x P(x^2) for |x| < 1.
inline __m256 erf_small(__m256 x) {
  static const float P[] = {1.1283791065216064f,   -0.3761232793331146f, 0.11280184239149094f,
                            -0.02671140432357788f, 0.004917643498629332f, -0.0005631754756905138f};
  return _mm256_mul_ps(x, horner(_mm256_mul_ps(x, x), P));
}

inline __m256 erf_ps(__m256 x) {
  __m256 a = abs_ps(x);
  __m256 big = _mm256_or_ps(_mm256_sub_ps(set1(1.f), erfc_big(a)), sign_bit(x));
  __m256 y = _mm256_blendv_ps(big, erf_small(x), _mm256_cmp_ps(a, set1(1.f), _CMP_LT_OQ));
  return _mm256_blendv_ps(y, x, isnan_mask(x));
}

// GELU, erf form: gelu(x) = x Phi(x), Phi the standard normal
// distribution, from one tail value for every x (no branch on |x|):
//   q = Phi(-|x|) = exp(-x^2 / 2) S(t),  t = 1 / (2 + |x|),
//   gelu(x) = x q for x < 0,  x (1 - q) for x >= 0 (q <= 1/2: no
//   cancellation).
// S(|x|) = erfcx(|x| / sqrt 2) / 2 is smooth and decays as 1 / |x|: a
// degree-10 polynomial in t covers |x| in [0, 12.9] (fitted for this file in
// t = 1 / (1 + |x| / 2) by iteratively reweighted least squares towards
// minimax relative error, coefficients rounded to float one at a time from
// the top with the lower ones refitted, then scaled by 2^k for t = 1 / (2 +
// |x|): 8.7e-9 in exact arithmetic, 2.9e-7 in float, mostly the rounding of
// t).
// exp(-x^2 / 2): h = x^2 = hi + lo exactly (FMA); n = round(-hi / (2 ln2))
// from the float addition of a 1.5 * 2^23 shifter (whose low bits then hold
// n); w = hi + 2 n ln2 (ln2 in two parts, the first product exact) + lo, so
// x^2 / 2 = -n ln2 + w / 2 with |w| <= ln2 and no rounding on the scale of
// x^2; e^(-w/2) by exp_core's degree-6 polynomial with its coefficients
// scaled by (-1/2)^k. 2^n goes into q's exponent field by an integer add
// (n >= -120 keeps q normal), so the exponential costs no multiply.
// Where x^2 > 166 (|x| > 12.88) q is taken as 0: gelu is x there for x > 0,
// and below 4e-37 in magnitude for x < 0. Special values as the scalar
// definition 0.5 x erfc(-x / sqrt 2): gelu(+inf) = inf, gelu(-inf) = NaN
// (-inf * 0), NaN stays NaN. Measured relative error 3.6e-7 (tests: 5e-7).
// Cost: 23 multiply/FMA, 5 add, 1 division and a few logic operations per 8
// floats.
inline __m256 gelu_ps(__m256 x) {
  static const float S[] = {-4.0236009226646274e-06f, 0.39922451972961426f, 0.7893058657646179f, 1.3455983400344849f, -0.8304812908172607f, 9.707548141479492f, -62.33449172973633f, 157.13278198242188f, -208.89892578125f, 148.16744995117188f, -44.63804244995117f};
  static const float E[] = {1.0f, -0.5f, 0.1249999850988388f, -0.020833151414990425f, 0.0026042743120342493f, -0.0002615222183521837f, 2.1585319700534455e-05f};
  const __m256 shifter = set1(12582912.f);  // 1.5 * 2^23
  __m256 hi = _mm256_mul_ps(x, x);
  __m256 lo = _mm256_fmsub_ps(x, x, hi);
  __m256 k = _mm256_fmadd_ps(hi, set1(-0.5f * 1.44269504088896341f), shifter);
  __m256 n = _mm256_sub_ps(k, shifter);
  __m256 w = _mm256_fmadd_ps(n, set1(2.f * 0.693359375f), hi);
  w = _mm256_fmadd_ps(n, set1(2.f * -2.12194440e-4f), w);
  w = _mm256_add_ps(w, lo);
  __m256 p = horner(w, E);  // exp(-w / 2)
  __m256 t = _mm256_div_ps(set1(1.f), _mm256_add_ps(abs_ps(x), set1(2.f)));
  __m256 q = _mm256_mul_ps(p, horner(t, S));
  // q * 2^n: n (two's complement in k's low bits) shifted into the exponent.
  q = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(q),
                                           _mm256_slli_epi32(_mm256_castps_si256(k), 23)));
  // 0 where 2^n would underflow, and for infinities and NaN (NaN compares
  // false): then x (1 - 0) = x, x NaN stays NaN, -inf * 0 = NaN.
  q = _mm256_and_ps(q, _mm256_cmp_ps(hi, set1(166.f), _CMP_LE_OQ));
  __m256 u = _mm256_blendv_ps(_mm256_sub_ps(set1(1.f), q), q, x);  // by x's sign bit
  return _mm256_mul_ps(x, u);
}

// exp(v) for v in [kExpLo, 88] only (no clamping, no special values): n =
// round(v log2 e) from the float addition of a 1.5 * 2^23 + 127 shifter,
// whose low bits then hold n + 127, 2^n's biased exponent (n in [-126,
// 127]); e^r by exp_core's polynomial in plain Horner form. 13 operations.
inline __m256 exp_shifter(__m256 v) {
  static const float P[] = {1.f, 1.f, 0.4999999403953552f, 0.1666652113199234f,
                            0.04166838899254799f, 0.008368710987269878f, 0.0013814604608342052f};
  const __m256 shifter = set1(12582912.f + 127.f);
  __m256 k = _mm256_fmadd_ps(v, set1(1.44269504088896341f), shifter);
  __m256 n = _mm256_sub_ps(k, shifter);
  __m256 r = _mm256_fnmadd_ps(n, set1(0.693359375f), v);
  r = _mm256_fnmadd_ps(n, set1(-2.12194440e-4f), r);
  return _mm256_mul_ps(horner(r, P), _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(k), 23)));
}

// exp(v) for v <= 0 or NaN (softmax's x - max): exp_shifter on v clamped
// at kExpLo (NaN kept: max_ps returns its second operand), 0 below it (the
// true results there are subnormal), NaN stays NaN. 15 operations against
// exp_ps's 27.
inline __m256 exp_nonpos_ps(__m256 v) {
  __m256 e = exp_shifter(_mm256_max_ps(set1(kExpLo), v));
  return _mm256_and_ps(e, _mm256_cmp_ps(v, set1(kExpLo), _CMP_NLT_UQ));
}

// GELU, tanh form: x sigmoid(2u) = x / (1 + exp(m)), m = -2u = x (a + b x^2)
// with a = -2 sqrt(2/pi), b = 0.044715 a (three roundings in m, as the
// scalar's u). m is clamped to [kExpLo, 88] for the exponential; above 88
// exp(m) is taken as +inf, so x / inf gives -0 for x << 0 and NaN for -inf
// (as the scalar -inf * 0); below, 1 + exp(m) rounds to 1 and y = x (+inf
// included). NaN stays NaN.
inline __m256 gelu_tanh_ps(__m256 x) {
  const float a = -2.f * 0.79788456080286535588f;
  __m256 m = _mm256_mul_ps(x, _mm256_fmadd_ps(_mm256_mul_ps(x, x), set1(0.044715f * a), set1(a)));
  __m256 e = exp_shifter(_mm256_min_ps(_mm256_max_ps(m, set1(kExpLo)), set1(88.f)));
  e = _mm256_blendv_ps(e, set1(__builtin_inff()), _mm256_cmp_ps(m, set1(88.f), _CMP_GT_OQ));
  return _mm256_div_ps(x, _mm256_add_ps(set1(1.f), e));
}

}  // namespace vm
}  // namespace kernels
}  // namespace loadrun
