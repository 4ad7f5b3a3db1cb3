// NEON NCHWc convolution kernels (conv_nchwc.h): the tile code of
// conv_nchwc_tile.h over float32x4_t for b = 4 (the NCHW44 layout; dense
// tile 2 oc blocks x 8 pixels = 16 of the 32 q registers) and over a pair of
// float32x4_t for b = 8 (2 blocks x 6 pixels = 24 registers).
#include <arm_neon.h>

#include "kernels/activation_neon.h"
#include "kernels/conv_nchwc.h"
#include "kernels/conv_nchwc_tile.h"

namespace loadrun {
namespace kernels {

namespace {

struct V4 {
  static constexpr int B = 4, kT = 8, kNb = 2, kDwT = 8;
  using R = float32x4_t;
  static R zero() { return vdupq_n_f32(0.f); }
  static R load(const float* p) { return vld1q_f32(p); }
  static R bcast(const float* p) { return vld1q_dup_f32(p); }
  static void store(float* p, R v) { vst1q_f32(p, v); }
  static R fma(R a, R b, R c) { return vfmaq_f32(c, a, b); }
  static R add(R a, R b) { return vaddq_f32(a, b); }
  static R band(R a, R m) {
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(m)));
  }
  static R mask(int lanes) {
    const uint32_t idx[4] = {0, 1, 2, 3};
    const uint32_t n = static_cast<uint32_t>(lanes < 0 ? 0 : lanes);
    return vreinterpretq_f32_u32(vcltq_u32(vld1q_u32(idx), vdupq_n_u32(n)));
  }
  static R act(const Epilogue& ep, R v) { return neon::act4(ep, v); }
};

struct V8 {
  static constexpr int B = 8, kT = 6, kNb = 2, kDwT = 6;
  struct R {
    float32x4_t lo, hi;
  };
  static R zero() { return {vdupq_n_f32(0.f), vdupq_n_f32(0.f)}; }
  static R load(const float* p) { return {vld1q_f32(p), vld1q_f32(p + 4)}; }
  static R bcast(const float* p) {
    const float32x4_t v = vld1q_dup_f32(p);
    return {v, v};
  }
  static void store(float* p, R v) {
    vst1q_f32(p, v.lo);
    vst1q_f32(p + 4, v.hi);
  }
  static R fma(R a, R b, R c) { return {vfmaq_f32(c.lo, a.lo, b.lo), vfmaq_f32(c.hi, a.hi, b.hi)}; }
  static R add(R a, R b) { return {vaddq_f32(a.lo, b.lo), vaddq_f32(a.hi, b.hi)}; }
  static R band(R a, R m) { return {V4::band(a.lo, m.lo), V4::band(a.hi, m.hi)}; }
  static R mask(int lanes) { return {V4::mask(lanes), V4::mask(lanes - 4)}; }
  static R act(const Epilogue& ep, R v) { return {neon::act4(ep, v.lo), neon::act4(ep, v.hi)}; }
};

}  // namespace

ConvNchwcImpl conv_nchwc_neon_impl() {
  return {nchwc::dense<V4>, nchwc::dense<V8>, nchwc::depthwise<V4>, nchwc::depthwise<V8>};
}

}  // namespace kernels
}  // namespace loadrun
