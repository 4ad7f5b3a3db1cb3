// The requantisation row (requant.h) on AVX2, two pixels (8 int32) per step:
// the int32 terms in one YMM (vpaddd, vpmulld: wrapping as the portable
// row), then each half widened to 4 doubles (vcvtdq2pd, exact), multiplied
// and offset in separate instructions (this file is built with
// -ffp-contract=off, so no FMA merges them), clamped to the output range
// and converted by vcvtpd2dq, which rounds in the MXCSR mode: nearest-even,
// as std::nearbyint does in the default mode. Clamping before rounding gives
// the same value as after, the bounds being integers. Packing with signed
// or unsigned saturation then narrows in-range values unchanged.
#include <immintrin.h>

#include "kernels/requant.h"

namespace loadrun {
namespace kernels {

namespace {

inline __m128i requant4(__m128i a, __m256d mult, __m256d yzp, __m256d lo, __m256d hi) {
  __m256d v = _mm256_mul_pd(_mm256_cvtepi32_pd(a), mult);
  v = _mm256_add_pd(v, yzp);
  v = _mm256_min_pd(_mm256_max_pd(v, lo), hi);
  return _mm256_cvtpd_epi32(v);
}

}  // namespace

void requant_row4_avx2(const int32_t* acc, int64_t npix, const int32_t* s, bool s_per_lane,
                       const Requant4& q, uint8_t* out) {
  const __m128i bias4 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q.bias));
  const __m128i wz4 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q.wz));
  const __m256i bias = _mm256_set_m128i(bias4, bias4), wz = _mm256_set_m128i(wz4, wz4);
  const __m256d mult = _mm256_loadu_pd(q.mult);
  const __m256d yzp = _mm256_set1_pd(q.yzp), lo = _mm256_set1_pd(q.lo), hi = _mm256_set1_pd(q.hi);
  int64_t p = 0;
  for (; p + 2 <= npix; p += 2) {
    __m256i a = _mm256_add_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + p * 4)), bias);
    if (s) {
      const __m256i sv =
          s_per_lane ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + p * 4))
                     : _mm256_set_m128i(_mm_set1_epi32(s[p + 1]), _mm_set1_epi32(s[p]));
      a = _mm256_sub_epi32(a, _mm256_mullo_epi32(wz, sv));
    }
    const __m128i r0 = requant4(_mm256_castsi256_si128(a), mult, yzp, lo, hi);
    const __m128i r1 = requant4(_mm256_extracti128_si256(a, 1), mult, yzp, lo, hi);
    const __m128i w = _mm_packs_epi32(r0, r1);
    const __m128i b = q.out_signed ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + p * 4), b);
  }
  if (p < npix) requant_row4_portable(acc + p * 4, npix - p, s ? s + (s_per_lane ? p * 4 : p) : nullptr,
                                      s_per_lane, q, out + p * 4);
}

}  // namespace kernels
}  // namespace loadrun
