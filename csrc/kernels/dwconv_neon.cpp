// Depthwise plane kernel, NEON (see dwconv.h; the same method as
// dwconv_avx2.cpp): per output row, 16 then 4 outputs at a time in
// registers (four accumulators hide the FMA latency in the main loop), each
// tap one unaligned load and one FMA with the weight's vector; bias and
// activation (activation_neon.h) are applied in registers and a row's last
// 1-3 outputs go through a small buffer. Specialised for k = 3, 5 and
// s = 1, 2 so the taps unroll. The padded planes hold dwconv_pitch floats
// per row (whole groups of 8 outputs), so the loads need no bounds checks.
// Stride 2 reads the even/odd column planes dwconv_fill makes with the
// deinterleave below (LD2: one instruction per 8 floats).
#include <arm_neon.h>

#include "kernels/activation_neon.h"
#include "kernels/dwconv.h"

namespace loadrun {
namespace kernels {

namespace {

template <int K, int S>
void plane(const float* p0, const float* p1, int64_t ld, const float* w, float bias,
           const Epilogue& ep, float* y, int64_t oh, int64_t ow) {
  float32x4_t wv[K * K];
  for (int t = 0; t < K * K; ++t) wv[t] = vdupq_n_f32(w[t]);
  const float32x4_t bv = vdupq_n_f32(bias);
  // Tap (i, j) of output c reads row(i)[c + j] (stride 1), or, stride 2,
  // even row(i)[c + j/2] for even j and odd row(i)[c + j/2] for odd j.
  auto tap = [&](const float* const* e, const float* const* o, int i, int j, int64_t c) {
    if (S == 1) return vld1q_f32(e[i] + c + j);
    return vld1q_f32((j % 2 == 0 ? e[i] : o[i]) + c + j / 2);
  };
  for (int64_t r = 0; r < oh; ++r) {
    float* yr = y + r * ow;
    const float* e[K];
    const float* o[K];
    for (int i = 0; i < K; ++i) {
      e[i] = p0 + (r * S + i) * ld;
      o[i] = S == 2 ? p1 + (r * S + i) * ld : nullptr;
    }
    int64_t c = 0;
    for (; c + 16 <= ow; c += 16) {
      float32x4_t a0 = bv, a1 = bv, a2 = bv, a3 = bv;
      for (int i = 0; i < K; ++i)
        for (int j = 0; j < K; ++j) {
          const float32x4_t wt = wv[i * K + j];
          a0 = vfmaq_f32(a0, wt, tap(e, o, i, j, c));
          a1 = vfmaq_f32(a1, wt, tap(e, o, i, j, c + 4));
          a2 = vfmaq_f32(a2, wt, tap(e, o, i, j, c + 8));
          a3 = vfmaq_f32(a3, wt, tap(e, o, i, j, c + 12));
        }
      vst1q_f32(yr + c, neon::act4(ep, a0));
      vst1q_f32(yr + c + 4, neon::act4(ep, a1));
      vst1q_f32(yr + c + 8, neon::act4(ep, a2));
      vst1q_f32(yr + c + 12, neon::act4(ep, a3));
    }
    for (; c < ow; c += 4) {
      float32x4_t a0 = bv;
      for (int i = 0; i < K; ++i)
        for (int j = 0; j < K; ++j) a0 = vfmaq_f32(a0, wv[i * K + j], tap(e, o, i, j, c));
      a0 = neon::act4(ep, a0);
      if (c + 4 <= ow) {
        vst1q_f32(yr + c, a0);
      } else {
        float t[4];
        vst1q_f32(t, a0);
        for (int64_t q = c; q < ow; ++q) yr[q] = t[q - c];
      }
    }
  }
}

}  // namespace

void deinterleave_neon(const float* src, int64_t n, float* even, float* odd) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4x2_t v = vld2q_f32(src + 2 * i);
    vst1q_f32(even + i, v.val[0]);
    vst1q_f32(odd + i, v.val[1]);
  }
  for (; i < n; ++i) {
    even[i] = src[2 * i];
    odd[i] = src[2 * i + 1];
  }
}

void dwconv_plane_neon(int k, int s, const float* p0, const float* p1, int64_t ld, const float* w,
                       float bias, const Epilogue& ep, float* y, int64_t oh, int64_t ow) {
  if (k == 3 && s == 1) return plane<3, 1>(p0, p1, ld, w, bias, ep, y, oh, ow);
  if (k == 3 && s == 2) return plane<3, 2>(p0, p1, ld, w, bias, ep, y, oh, ow);
  if (k == 5 && s == 1) return plane<5, 1>(p0, p1, ld, w, bias, ep, y, oh, ow);
  if (k == 5 && s == 2) return plane<5, 2>(p0, p1, ld, w, bias, ep, y, oh, ow);
  dwconv_plane_portable(k, s, p0, p1, ld, w, bias, ep, y, oh, ow);
}

}  // namespace kernels
}  // namespace loadrun
