// NEON kernel (aarch64) of the direct small-input-channel convolution
// (kernels/conv_small_ic.h): the AVX2 kernel's register tile, 6 output
// channels x 16 columns, in 24 q-register accumulators. Per (ic, kh, kw)
// tap: four 4-float input loads, the tap's 6 packed weights in two
// registers (one 4-float and one 2-float load), and 24 FMAs by lane
// (vfmaq_laneq_f32), so 30 of the 32 vector registers are live. Bias,
// residual and the activation (activation_neon.h) are applied as the tile
// is stored; a tile cut by the row's end is stored through a buffer.
#include <arm_neon.h>

#include <algorithm>
#include <cstring>

#include "kernels/activation_neon.h"
#include "kernels/conv_small_ic.h"

namespace loadrun {
namespace kernels {

namespace {

// One output channel's 16 columns (nt of them kept): + bias, + residual,
// activation, store.
inline void store16(const Epilogue& ep, float b, const float* rr, const float32x4_t* a, float* yr,
                    int64_t nt) {
  const float32x4_t bv = vdupq_n_f32(b);
  float32x4_t v[4];
  if (nt == 16) {
    for (int q = 0; q < 4; ++q) {
      v[q] = vaddq_f32(a[q], bv);
      if (rr) v[q] = vaddq_f32(v[q], vld1q_f32(rr + 4 * q));
      vst1q_f32(yr + 4 * q, neon::act4(ep, v[q]));
    }
    return;
  }
  float t[16] = {};
  if (rr) std::memcpy(t, rr, static_cast<size_t>(nt) * sizeof(float));
  for (int q = 0; q < 4; ++q)
    vst1q_f32(t + 4 * q, neon::act4(ep, vaddq_f32(vaddq_f32(a[q], bv), vld1q_f32(t + 4 * q))));
  std::memcpy(yr, t, static_cast<size_t>(nt) * sizeof(float));
}

// a[q] += x_q * w[L]: one output channel's 16 columns, one tap.
template <int L>
inline void fma_row(float32x4_t* a, float32x4_t x0, float32x4_t x1, float32x4_t x2,
                    float32x4_t x3, float32x4_t w) {
  a[0] = vfmaq_laneq_f32(a[0], x0, w, L);
  a[1] = vfmaq_laneq_f32(a[1], x1, w, L);
  a[2] = vfmaq_laneq_f32(a[2], x2, w, L);
  a[3] = vfmaq_laneq_f32(a[3], x3, w, L);
}
template <int L>
inline void fma_row(float32x4_t* a, float32x4_t x0, float32x4_t x1, float32x4_t x2,
                    float32x4_t x3, float32x2_t w) {
  a[0] = vfmaq_lane_f32(a[0], x0, w, L);
  a[1] = vfmaq_lane_f32(a[1], x1, w, L);
  a[2] = vfmaq_lane_f32(a[2], x2, w, L);
  a[3] = vfmaq_lane_f32(a[3], x3, w, L);
}

}  // namespace

void conv_small_ic_neon(const SmallIcGeo& g, const float* planes, const float* wp,
                        const Epilogue& ep, float* y) {
  constexpr int B = kSmallIcOcBlock, T = kSmallIcOwTile;
  static_assert(B == 6 && T == 16, "the register tile is 6 x 16");
  const int64_t taps = g.ic * g.kh * g.kw, plane = g.rows * g.ld, ohw = g.oh * g.ow;
  int64_t col_off[16];  // tap column j's offset (phase plane, column): no division per tap
  for (int64_t j = 0; j < g.kw; ++j) col_off[j] = (j % g.s) * plane + j / g.s;
  for (int64_t ob = 0; ob * B < g.oc; ++ob) {
    const float* wb = wp + ob * taps * B;
    const int64_t nob = std::min<int64_t>(B, g.oc - ob * B);
    for (int64_t oh = 0; oh < g.oh; ++oh) {
      for (int64_t ow0 = 0; ow0 < g.ow; ow0 += T) {
        float32x4_t acc[B][4];
        for (int o = 0; o < B; ++o)
          for (int q = 0; q < 4; ++q) acc[o][q] = vdupq_n_f32(0.f);
        const float* wt = wb;
        for (int64_t c = 0; c < g.ic; ++c) {
          for (int64_t i = 0; i < g.kh; ++i) {
            const float* row = planes + c * g.s * plane + (oh * g.s + i) * g.ld + ow0;
            for (int64_t j = 0; j < g.kw; ++j, wt += B) {
              const float* src = row + col_off[j];
              const float32x4_t x0 = vld1q_f32(src), x1 = vld1q_f32(src + 4);
              const float32x4_t x2 = vld1q_f32(src + 8), x3 = vld1q_f32(src + 12);
              const float32x4_t w03 = vld1q_f32(wt);
              const float32x2_t w45 = vld1_f32(wt + 4);
              fma_row<0>(acc[0], x0, x1, x2, x3, w03);
              fma_row<1>(acc[1], x0, x1, x2, x3, w03);
              fma_row<2>(acc[2], x0, x1, x2, x3, w03);
              fma_row<3>(acc[3], x0, x1, x2, x3, w03);
              fma_row<0>(acc[4], x0, x1, x2, x3, w45);
              fma_row<1>(acc[5], x0, x1, x2, x3, w45);
            }
          }
        }
        const int64_t nt = std::min<int64_t>(T, g.ow - ow0);
        for (int64_t o = 0; o < nob; ++o) {
          const int64_t oc = ob * B + o, off = oc * ohw + oh * g.ow + ow0;
          store16(ep, ep.bias ? ep.bias[oc] : 0.f, ep.residual ? ep.residual + off : nullptr,
                  acc[o], y + off, nt);
        }
      }
    }
  }
}

}  // namespace kernels
}  // namespace loadrun
