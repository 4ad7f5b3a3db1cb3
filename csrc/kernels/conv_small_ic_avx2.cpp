// AVX2+FMA kernel of the direct small-input-channel convolution
// (kernels/conv_small_ic.h): 6 output channels x 16 columns in 12 ymm
// accumulators; per (ic, kh, kw) tap two input loads, six weight broadcasts
// and twelve FMAs.
#include <immintrin.h>

#include <algorithm>

#include "kernels/activation_avx2.h"
#include "kernels/conv_small_ic.h"

namespace loadrun {
namespace kernels {

namespace {

inline void store16(const Epilogue& ep, float b, const float* rr, __m256 a0, __m256 a1, float* yr,
                    int64_t nt) {
  const __m256 bv = _mm256_set1_ps(b);
  a0 = _mm256_add_ps(a0, bv);
  a1 = _mm256_add_ps(a1, bv);
  if (nt == 16) {
    if (rr) {
      a0 = _mm256_add_ps(a0, _mm256_loadu_ps(rr));
      a1 = _mm256_add_ps(a1, _mm256_loadu_ps(rr + 8));
    }
    _mm256_storeu_ps(yr, avx2::act8(ep, a0));
    _mm256_storeu_ps(yr + 8, avx2::act8(ep, a1));
    return;
  }
  const __m256i m0 = avx2::tail_mask(nt), m1 = avx2::tail_mask(nt - 8);
  if (rr) {
    a0 = _mm256_add_ps(a0, _mm256_maskload_ps(rr, m0));
    a1 = _mm256_add_ps(a1, _mm256_maskload_ps(rr + 8, m1));
  }
  _mm256_maskstore_ps(yr, m0, avx2::act8(ep, a0));
  _mm256_maskstore_ps(yr + 8, m1, avx2::act8(ep, a1));
}

}  // namespace

void conv_small_ic_avx2(const SmallIcGeo& g, const float* planes, const float* wp,
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
        __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        const float* wt = wb;
        for (int64_t c = 0; c < g.ic; ++c) {
          for (int64_t i = 0; i < g.kh; ++i) {
            const float* row = planes + c * g.s * plane + (oh * g.s + i) * g.ld + ow0;
            for (int64_t j = 0; j < g.kw; ++j, wt += B) {
              const float* src = row + col_off[j];
              const __m256 x0 = _mm256_loadu_ps(src), x1 = _mm256_loadu_ps(src + 8);
              __m256 w = _mm256_broadcast_ss(wt + 0);
              c00 = _mm256_fmadd_ps(w, x0, c00);
              c01 = _mm256_fmadd_ps(w, x1, c01);
              w = _mm256_broadcast_ss(wt + 1);
              c10 = _mm256_fmadd_ps(w, x0, c10);
              c11 = _mm256_fmadd_ps(w, x1, c11);
              w = _mm256_broadcast_ss(wt + 2);
              c20 = _mm256_fmadd_ps(w, x0, c20);
              c21 = _mm256_fmadd_ps(w, x1, c21);
              w = _mm256_broadcast_ss(wt + 3);
              c30 = _mm256_fmadd_ps(w, x0, c30);
              c31 = _mm256_fmadd_ps(w, x1, c31);
              w = _mm256_broadcast_ss(wt + 4);
              c40 = _mm256_fmadd_ps(w, x0, c40);
              c41 = _mm256_fmadd_ps(w, x1, c41);
              w = _mm256_broadcast_ss(wt + 5);
              c50 = _mm256_fmadd_ps(w, x0, c50);
              c51 = _mm256_fmadd_ps(w, x1, c51);
            }
          }
        }
        const __m256 acc[B][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                                  {c30, c31}, {c40, c41}, {c50, c51}};
        int64_t nt = std::min<int64_t>(T, g.ow - ow0);
        for (int64_t o = 0; o < nob; ++o) {
          int64_t oc = ob * B + o, off = oc * ohw + oh * g.ow + ow0;
          store16(ep, ep.bias ? ep.bias[oc] : 0.f, ep.residual ? ep.residual + off : nullptr,
                  acc[o][0], acc[o][1], y + off, nt);
        }
      }
    }
  }
}

}  // namespace kernels
}  // namespace loadrun
