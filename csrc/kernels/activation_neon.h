// The vector definition of the activations for NEON (4 floats at a time):
// the same formulas as the scalar `activate` of activation.h, with the
// transcendental functions of vmath_neon.h. Every NEON fused epilogue
// (sgemm_neon.cpp) and the standalone activation ops (eltwise_neon.cpp) use
// it. Include only from *_neon.cpp files.
//
// NaN: NEON's vmaxq/vminq return NaN when either operand is NaN, so a NaN
// value passes through the clamps (Relu6, Clip) as in the scalar definition;
// clamp01 uses the IEEE maxNum/minNum forms (vmaxnmq/vminnmq, which return
// the number) so that NaN -> 1 there, as the scalar clamp01 gives.
#pragma once
#include <arm_neon.h>

#include <cstdint>

#include "kernels/activation.h"
#include "kernels/sgemm.h"
#include "kernels/vmath_neon.h"

namespace loadrun {
namespace kernels {
namespace neon {

// max(0, min(1, t)); NaN -> 1, as the scalar clamp01.
inline float32x4_t clamp01_f4(float32x4_t t) {
  return vmaxnmq_f32(vminnmq_f32(t, vdupq_n_f32(1.f)), vdupq_n_f32(0.f));
}

// activate(a, v, p0, p1) of activation.h on 4 lanes (p0, p1 broadcast).
inline float32x4_t activate4(Act a, float32x4_t v, float32x4_t p0, float32x4_t p1) {
  const float32x4_t zero = vdupq_n_f32(0.f);
  switch (a) {
    case Act::kNone: return v;
    case Act::kRelu:  // v where v > 0 or NaN, else +0
      return vbslq_f32(vcleq_f32(v, zero), zero, v);
    case Act::kRelu6: return vminq_f32(vmaxq_f32(v, zero), vdupq_n_f32(6.f));
    case Act::kClip: return vminq_f32(vmaxq_f32(v, p0), p1);
    case Act::kLeakyRelu: return vbslq_f32(vcgeq_f32(v, zero), v, vmulq_f32(v, p0));
    case Act::kHardSigmoid: return clamp01_f4(vfmaq_f32(p1, p0, v));
    case Act::kHardSwish: {
      float32x4_t t = vmulq_f32(vaddq_f32(v, vdupq_n_f32(3.f)), vdupq_n_f32(1.f / 6.f));
      return vmulq_f32(v, clamp01_f4(t));
    }
    case Act::kSigmoid: return vmn::sigmoid_f4(v);
    case Act::kSwish: return vmulq_f32(v, vmn::sigmoid_f4(vmulq_f32(p0, v)));
    case Act::kTanh: return vmn::tanh_f4(v);
    case Act::kGelu: return vmn::gelu_f4(v);
    case Act::kGeluTanh: {
      float32x4_t v3 = vmulq_f32(vmulq_f32(v, v), v);
      float32x4_t u2 = vmulq_f32(vfmaq_f32(v, v3, vdupq_n_f32(0.044715f)),
                                 vdupq_n_f32(2.f * 0.79788456080286535588f));
      return vmulq_f32(v, vmn::sigmoid_f4(u2));
    }
  }
  return v;
}

// The activation a on n floats from x to y (x may equal y), every element
// through the vector definition (the tail through a 4-float buffer).
inline void act_rows(Act a, const float* x, float* y, int64_t n, float p0, float p1) {
  if (a == Act::kNone) {
    if (x != y)
      for (int64_t j = 0; j < n; ++j) y[j] = x[j];
    return;
  }
  const float32x4_t v0 = vdupq_n_f32(p0), v1 = vdupq_n_f32(p1);
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) vst1q_f32(y + j, activate4(a, vld1q_f32(x + j), v0, v1));
  if (j < n) {
    float t[4] = {0.f, 0.f, 0.f, 0.f};
    for (int64_t i = j; i < n; ++i) t[i - j] = x[i];
    vst1q_f32(t, activate4(a, vld1q_f32(t), v0, v1));
    for (int64_t i = j; i < n; ++i) y[i] = t[i - j];
  }
}

// The epilogue's activation on 4 lanes, and on a row of n floats in place.
inline float32x4_t act4(const Epilogue& ep, float32x4_t v) {
  if (ep.act == Act::kNone) return v;
  return activate4(ep.act, v, vdupq_n_f32(ep.p0), vdupq_n_f32(ep.p1));
}
inline void act_row(const Epilogue& ep, float* p, int64_t n) {
  act_rows(ep.act, p, p, n, ep.p0, ep.p1);
}

}  // namespace neon
}  // namespace kernels
}  // namespace loadrun
