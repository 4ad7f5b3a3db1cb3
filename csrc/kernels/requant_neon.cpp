// The requantisation row (requant.h) on NEON, one pixel (4 int32) per step:
// the int32 terms wrapping (vaddq, vmlsq), each pair widened to int64 and
// then to double (exact), multiplied and offset in separate instructions
// (built with -ffp-contract=off: no FMLA merges them), clamped to the output
// range and converted by FCVTNS (round to nearest, ties to even: what
// std::nearbyint does in the default mode), then narrowed with saturation,
// which leaves in-range values unchanged.
#include <arm_neon.h>

#include "kernels/requant.h"

namespace loadrun {
namespace kernels {

namespace {

inline int64x2_t requant2(int32x2_t a, float64x2_t mult, float64x2_t yzp, float64x2_t lo,
                          float64x2_t hi) {
  float64x2_t v = vmulq_f64(vcvtq_f64_s64(vmovl_s32(a)), mult);
  v = vaddq_f64(v, yzp);
  v = vminq_f64(vmaxq_f64(v, lo), hi);
  return vcvtnq_s64_f64(v);
}

}  // namespace

void requant_row4_neon(const int32_t* acc, int64_t npix, const int32_t* s, bool s_per_lane,
                       const Requant4& q, uint8_t* out) {
  const int32x4_t bias = vld1q_s32(q.bias), wz = vld1q_s32(q.wz);
  const float64x2_t m01 = vld1q_f64(q.mult), m23 = vld1q_f64(q.mult + 2);
  const float64x2_t yzp = vdupq_n_f64(q.yzp), lo = vdupq_n_f64(q.lo), hi = vdupq_n_f64(q.hi);
  for (int64_t p = 0; p < npix; ++p) {
    int32x4_t a = vaddq_s32(vld1q_s32(acc + p * 4), bias);
    if (s) a = vmlsq_s32(a, wz, s_per_lane ? vld1q_s32(s + p * 4) : vdupq_n_s32(s[p]));
    const int64x2_t r01 = requant2(vget_low_s32(a), m01, yzp, lo, hi);
    const int64x2_t r23 = requant2(vget_high_s32(a), m23, yzp, lo, hi);
    const int32x4_t r = vcombine_s32(vmovn_s64(r01), vmovn_s64(r23));
    const int16x4_t h = vqmovn_s32(r);
    const int16x8_t h2 = vcombine_s16(h, h);
    uint8_t b[8];
    if (q.out_signed)
      vst1_s8(reinterpret_cast<int8_t*>(b), vqmovn_s16(h2));
    else
      vst1_u8(b, vqmovun_s16(h2));
    for (int l = 0; l < 4; ++l) out[p * 4 + l] = b[l];
  }
}

}  // namespace kernels
}  // namespace loadrun
