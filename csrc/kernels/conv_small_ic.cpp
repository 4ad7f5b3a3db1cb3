// Direct small-input-channel convolution: packing, dispatch and the portable
// kernel (kernels/conv_small_ic.h).
#include "kernels/conv_small_ic.h"

#include <algorithm>

#include "kernels/kernel_table.h"

namespace loadrun {
namespace kernels {

int64_t conv_small_ic_packed_floats(int64_t oc, int64_t ic, int64_t kh, int64_t kw) {
  int64_t ocb = (oc + kSmallIcOcBlock - 1) / kSmallIcOcBlock;
  return ocb * ic * kh * kw * kSmallIcOcBlock;
}

void conv_small_ic_pack(const float* w, int64_t oc, int64_t ic, int64_t kh, int64_t kw,
                        float* wp) {
  int64_t ocb = (oc + kSmallIcOcBlock - 1) / kSmallIcOcBlock, taps = ic * kh * kw;
  for (int64_t b = 0; b < ocb; ++b)
    for (int64_t t = 0; t < taps; ++t)
      for (int j = 0; j < kSmallIcOcBlock; ++j) {
        int64_t o = b * kSmallIcOcBlock + j;
        wp[(b * taps + t) * kSmallIcOcBlock + j] = o < oc ? w[o * taps + t] : 0.f;
      }
}

int64_t conv_small_ic_pitch(int64_t kw, int64_t s, int64_t iw, int64_t pw, int64_t ow) {
  int64_t tiles = (ow + kSmallIcOwTile - 1) / kSmallIcOwTile * kSmallIcOwTile;
  int64_t need = tiles + (kw - 1) / s + 1;
  int64_t input = (pw + iw + s - 1) / s;
  return (std::max(need, input) + 7) / 8 * 8;
}

int64_t conv_small_ic_rows(int64_t kh, int64_t s, int64_t ih, int64_t ph, int64_t oh) {
  return std::max((oh - 1) * s + kh, ph + ih);
}

void conv_small_ic_portable(const SmallIcGeo& g, const float* planes, const float* wp,
                            const Epilogue& ep, float* y) {
  constexpr int B = kSmallIcOcBlock, T = kSmallIcOwTile;
  const int64_t taps = g.ic * g.kh * g.kw, plane = g.rows * g.ld, ohw = g.oh * g.ow;
  int64_t col_off[16];  // tap column j's offset (phase plane, column): no division per tap
  for (int64_t j = 0; j < g.kw; ++j) col_off[j] = (j % g.s) * plane + j / g.s;
  for (int64_t ob = 0; ob * B < g.oc; ++ob) {
    const float* wb = wp + ob * taps * B;
    int64_t nob = std::min<int64_t>(B, g.oc - ob * B);
    for (int64_t oh = 0; oh < g.oh; ++oh) {
      for (int64_t ow0 = 0; ow0 < g.ow; ow0 += T) {
        float acc[B][T] = {};
        const float* wt = wb;
        for (int64_t c = 0; c < g.ic; ++c) {
          for (int64_t i = 0; i < g.kh; ++i) {
            for (int64_t j = 0; j < g.kw; ++j, wt += B) {
              const float* src = planes + c * g.s * plane + (oh * g.s + i) * g.ld + ow0 + col_off[j];
              for (int o = 0; o < B; ++o)
                for (int t = 0; t < T; ++t) acc[o][t] += wt[o] * src[t];
            }
          }
        }
        int64_t nt = std::min<int64_t>(T, g.ow - ow0);
        for (int64_t o = 0; o < nob; ++o) {
          int64_t oc = ob * B + o;
          float* yr = y + oc * ohw + oh * g.ow + ow0;
          const float* rr = ep.residual ? ep.residual + oc * ohw + oh * g.ow + ow0 : nullptr;
          float b = ep.bias ? ep.bias[oc] : 0.f;
          for (int64_t t = 0; t < nt; ++t) {
            float v = acc[o][t] + b;
            if (rr) v += rr[t];
            yr[t] = apply_act(ep, v);
          }
        }
      }
    }
  }
}

void conv_small_ic(const SmallIcGeo& g, const float* planes, const float* wp, const Epilogue& ep,
                   float* y) {
  kernel_table().conv_small_ic.conv(g, planes, wp, ep, y);
}

}  // namespace kernels
}  // namespace loadrun
