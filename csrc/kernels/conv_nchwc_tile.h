// The NCHWc convolution kernels (conv_nchwc.h) written once over a b-lane
// vector type V, which each ISA's translation unit supplies (portable: an
// array of b floats; AVX2: __m256 / __m128; NEON: one or two float32x4_t).
// Include only from conv_nchwc*.cpp, after defining V.
//
// V provides: B (lanes), kT and kNb (dense tile: pixels x oc blocks), kDwT
// (depthwise tile pixels), type R and zero / load / bcast (one float to all
// lanes) / store / fma(a, b, c) = a*b + c / add / band(v, mask) (lanes
// outside the mask -> 0) / mask(lanes) / act(ep, v).
//
// Dense tile: acc[o][t] for kNb blocks x kT pixels starts at the bias; per
// input lane l and tap (i, j): one weight vector per block and one broadcast
// per pixel. Depthwise tile: acc[t] over kDwT pixels, one weight vector per
// tap; with kw == 3, dilation 1 and stride 1 or 2 a kernel row's input
// vectors are loaded once ((kDwT - 1) * s + 3 loads for 3 * kDwT FMAs).
#pragma once
#include <algorithm>
#include <cstdint>

#include "kernels/conv_nchwc.h"

namespace loadrun {
namespace kernels {
namespace nchwc {

// Full unrolling of the loops over a tile's registers: with a loop left
// rolled, an accumulator indexed by its counter lives in memory.
#define LR_NCHWC_UNROLL _Pragma("GCC unroll 16")

// The output columns [lo, hi) whose whole window lies inside the input row
// (no column check needed).
inline void interior_cols(const NchwcGeo& g, int64_t* lo, int64_t* hi) {
  int64_t a = (g.pw + g.sw - 1) / g.sw;  // first ow with ow*sw - pw >= 0
  a = std::min(a, g.ow);
  const int64_t last = g.iw - 1 - (g.kw - 1) * g.dw + g.pw;  // ow*sw <= last
  int64_t b = last < 0 ? 0 : last / g.sw + 1;
  b = std::min(b, g.ow);
  *lo = a;
  *hi = std::max(a, b);
}

// The kernel rows [i0, i1) whose input row is inside the input for output row oh.
inline void tap_rows(const NchwcGeo& g, int64_t oh, int64_t* i0, int64_t* i1) {
  const int64_t r0 = oh * g.sh - g.ph;
  int64_t a = 0, b = g.kh;
  while (a < b && r0 + a * g.dh < 0) ++a;
  while (b > a && r0 + (b - 1) * g.dh >= g.ih) --b;
  *i0 = a;
  *i1 = b;
}

// The bias of output block ob as a vector (zeros past oc or without bias),
// and the mask of its real lanes.
template <class V>
inline typename V::R block_bias(const NchwcGeo& g, const float* bias, int64_t ob) {
  float t[V::B];
  for (int l = 0; l < V::B; ++l) {
    const int64_t c = ob * V::B + l;
    t[l] = bias && c < g.oc ? bias[c] : 0.f;
  }
  return V::load(t);
}
template <class V>
inline typename V::R block_mask(const NchwcGeo& g, int64_t ob) {
  return V::mask(static_cast<int>(std::min<int64_t>(V::B, g.oc - ob * V::B)));
}

// Stores n pixels' vectors v (+ masked residual, activation) from output
// offset off on (consecutive pixels). Not inlined: the activation switch is
// large, and one call per tile row costs little.
template <class V>
__attribute__((noinline)) void store_tile(const typename V::R* v, int n, typename V::R m,
                                          const float* res, int64_t off, const Epilogue& ep,
                                          float* y) {
  for (int t = 0; t < n; ++t, off += V::B) {
    typename V::R r = v[t];
    if (res) r = V::add(r, V::band(V::load(res + off), m));
    V::store(y + off, V::act(ep, r));
  }
}

// The tiles are not inlined: inlined into the row drivers, GCC spilled three
// of the twelve accumulators to the stack (the drivers' values compete for
// registers); a call per tile costs nothing next to its FMAs.
template <class V, int NB, int T, bool kChecked>
__attribute__((noinline)) void dense_tile(const NchwcGeo& g, const float* x, const float* wp,
                                          int64_t ob, int64_t oh, int64_t ow0, int64_t i0,
                                          int64_t i1, const typename V::R* bias,
                                          const typename V::R* mask, const float* res,
                                          const Epilogue& ep, float* y) {
  using R = typename V::R;
  constexpr int B = V::B;
  R acc[NB][T];
  LR_NCHWC_UNROLL
  for (int o = 0; o < NB; ++o)
    LR_NCHWC_UNROLL
    for (int t = 0; t < T; ++t) acc[o][t] = bias[o];
  const int64_t taps = g.kh * g.kw, wob = g.icb * taps * B * B;  // floats per oc block
  const float* wb = wp + ob * wob;
  const int64_t c0 = ow0 * g.sw - g.pw, r0 = oh * g.sh - g.ph, xstep = g.sw * B;
  for (int64_t cb = 0; cb < g.icb; ++cb) {
    const int lanes = static_cast<int>(std::min<int64_t>(B, g.ic - cb * B));
    const float* xc = x + cb * g.ih * g.iw * B;
    const float* wc = wb + cb * taps * B * B;
    for (int64_t i = i0; i < i1; ++i) {
      const float* xr = xc + (r0 + i * g.dh) * g.iw * B;
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t col = c0 + j * g.dw;
        // Checked: bit t set when pixel t's column is inside the input (a
        // pixel outside reads nothing at this tap).
        unsigned inside = (1u << T) - 1;
        if constexpr (kChecked) {
          inside = 0;
          for (int t = 0; t < T; ++t)
            if (col + t * g.sw >= 0 && col + t * g.sw < g.iw) inside |= 1u << t;
          if (!inside) continue;
        }
        const float* wq = wc + (i * g.kw + j) * B * B;
        // No lambda here: a captured acc stays in memory (GCC spills it).
        if (!kChecked || inside == (1u << T) - 1) {  // every pixel inside: no checks
          const float* xp = xr + col * B;
          for (int l = 0; l < lanes; ++l) {
            R w[NB];
            LR_NCHWC_UNROLL
            for (int o = 0; o < NB; ++o) w[o] = V::load(wq + o * wob + l * B);
            LR_NCHWC_UNROLL
            for (int t = 0; t < T; ++t) {
              const R xv = V::bcast(xp + t * xstep + l);
              LR_NCHWC_UNROLL
              for (int o = 0; o < NB; ++o) acc[o][t] = V::fma(xv, w[o], acc[o][t]);
            }
          }
          continue;
        }
        for (int l = 0; l < lanes; ++l) {
          R w[NB];
          LR_NCHWC_UNROLL
          for (int o = 0; o < NB; ++o) w[o] = V::load(wq + o * wob + l * B);
          LR_NCHWC_UNROLL
          for (int t = 0; t < T; ++t) {
            if (!(inside >> t & 1)) continue;
            const R xv = V::bcast(xr + (col + t * g.sw) * B + l);
            LR_NCHWC_UNROLL
            for (int o = 0; o < NB; ++o) acc[o][t] = V::fma(xv, w[o], acc[o][t]);
          }
        }
      }
    }
  }
  LR_NCHWC_UNROLL
  for (int o = 0; o < NB; ++o) {
    R out[T];  // a copy: acc itself must not have its address taken
    LR_NCHWC_UNROLL
    for (int t = 0; t < T; ++t) out[t] = V::band(acc[o][t], mask[o]);
    store_tile<V>(out, T, mask[o], res, (((ob + o) * g.oh + oh) * g.ow + ow0) * B, ep, y);
  }
}

// The tile of n pixels (1 <= n <= T) at ow0.
template <class V, int NB, bool kChecked, int T>
inline void dense_tile_n(int64_t n, const NchwcGeo& g, const float* x, const float* wp,
                         int64_t ob, int64_t oh, int64_t ow0, int64_t i0, int64_t i1,
                         const typename V::R* bias, const typename V::R* mask, const float* res,
                         const Epilogue& ep, float* y) {
  if (n == T)
    dense_tile<V, NB, T, kChecked>(g, x, wp, ob, oh, ow0, i0, i1, bias, mask, res, ep, y);
  else if constexpr (T > 1)
    dense_tile_n<V, NB, kChecked, T - 1>(n, g, x, wp, ob, oh, ow0, i0, i1, bias, mask, res, ep,
                                         y);
}

// Pixels [a, b) of row oh in tiles of at most kT, as even as possible (7:
// 4 + 3, not 6 + 1, so no tile is left with a few accumulator chains).
template <class V, int NB, bool kChecked>
inline void dense_span(const NchwcGeo& g, const float* x, const float* wp, int64_t ob, int64_t oh,
                       int64_t a, int64_t b, int64_t i0, int64_t i1, const typename V::R* bias,
                       const typename V::R* mask, const float* res, const Epilogue& ep,
                       float* y) {
  const int64_t n = b - a;
  if (n <= 0) return;
  const int64_t tiles = (n + V::kT - 1) / V::kT;
  for (int64_t k = 0, ow = a; k < tiles; ++k) {
    const int64_t sz = n / tiles + (k < n % tiles ? 1 : 0);
    dense_tile_n<V, NB, kChecked, V::kT>(sz, g, x, wp, ob, oh, ow, i0, i1, bias, mask, res, ep, y);
    ow += sz;
  }
}

template <class V, int NB>
inline void dense_rows(const NchwcGeo& g, const float* x, const float* wp, const float* bias_p,
                       const float* res, const Epilogue& ep, float* y, int64_t ob, int64_t oh0,
                       int64_t oh1) {
  using R = typename V::R;
  R bias[NB], mask[NB];
  LR_NCHWC_UNROLL
  for (int o = 0; o < NB; ++o) {
    bias[o] = block_bias<V>(g, bias_p, ob + o);
    mask[o] = block_mask<V>(g, ob + o);
  }
  // Checked pixels [0, a) and [b, ow), unchecked [a, b) inside [lo, hi).
  // A border run takes a whole tile of kT when it can (the border pixels
  // and their interior neighbours); a narrow row is checked throughout.
  int64_t lo, hi, a, b;
  interior_cols(g, &lo, &hi);
  if (g.ow <= 2 * V::kT) {
    a = b = g.ow;
  } else {
    a = lo == 0 ? 0 : std::max<int64_t>(lo, V::kT);
    b = a > hi ? a : hi == g.ow ? g.ow : std::max(a, std::min(hi, g.ow - V::kT));
  }
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    int64_t i0, i1;
    tap_rows(g, oh, &i0, &i1);
    dense_span<V, NB, true>(g, x, wp, ob, oh, 0, a, i0, i1, bias, mask, res, ep, y);
    dense_span<V, NB, false>(g, x, wp, ob, oh, a, b, i0, i1, bias, mask, res, ep, y);
    dense_span<V, NB, true>(g, x, wp, ob, oh, b, g.ow, i0, i1, bias, mask, res, ep, y);
  }
}

// 1x1, stride 1, no pads: the rows [oh0, oh1) are one run of positions
// (a GEMM of the oc blocks over the pixels), tiled across row ends, so
// narrow maps (7x7) have no per-row remainder tiles.
template <class V, int NB>
inline void dense_pointwise(const NchwcGeo& g, const float* x, const float* wp,
                            const float* bias_p, const float* res, const Epilogue& ep, float* y,
                            int64_t ob, int64_t oh0, int64_t oh1) {
  using R = typename V::R;
  R bias[NB], mask[NB];
  for (int o = 0; o < NB; ++o) {
    bias[o] = block_bias<V>(g, bias_p, ob + o);
    mask[o] = block_mask<V>(g, ob + o);
  }
  NchwcGeo f = g;  // the maps as one row
  f.ih = 1, f.iw = g.ih * g.iw, f.oh = 1, f.ow = g.oh * g.ow;
  dense_span<V, NB, false>(f, x, wp, ob, 0, oh0 * g.ow, oh1 * g.ow, 0, 1, bias, mask, res, ep, y);
}

// ConvNchwcFn for the dense conv.
template <class V>
void dense(const NchwcGeo& g, const float* x, const float* wp, const float* bias,
           const float* res, const Epilogue& ep, float* y, int64_t ob0, int64_t ob1, int64_t oh0,
           int64_t oh1) {
  const bool pointwise = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 &&
                         g.pw == 0 && g.ih == g.oh && g.iw == g.ow;
  int64_t ob = ob0;
  for (; ob <= ob1 - V::kNb; ob += V::kNb) {
    if (pointwise)
      dense_pointwise<V, V::kNb>(g, x, wp, bias, res, ep, y, ob, oh0, oh1);
    else
      dense_rows<V, V::kNb>(g, x, wp, bias, res, ep, y, ob, oh0, oh1);
  }
  for (; ob < ob1; ++ob) {
    if (pointwise)
      dense_pointwise<V, 1>(g, x, wp, bias, res, ep, y, ob, oh0, oh1);
    else
      dense_rows<V, 1>(g, x, wp, bias, res, ep, y, ob, oh0, oh1);
  }
}

// Depthwise tile: T pixels of block cb's row oh from ow0. kS3 = 1 or 2:
// kw == 3, dw == 1 and stride kS3, each input vector of the row loaded once
// and fed to the (up to 3) pixels whose window holds it, so only one input
// vector is live (T accumulators + 3 weights + 1 input); kS3 = 0: any
// kernel, one load per tap and pixel. kChecked: column bounds per tap (T == 1).
template <class V, int T, bool kChecked, int kS3>
__attribute__((noinline)) void dw_tile(const NchwcGeo& g, const float* xc, const float* wc,
                                       int64_t oh, int64_t ow0, int64_t i0, int64_t i1,
                                       typename V::R bias, typename V::R mask, const float* res,
                                       const Epilogue& ep, float* y, int64_t cb) {
  using R = typename V::R;
  constexpr int B = V::B;
  R acc[T];
  LR_NCHWC_UNROLL
  for (int t = 0; t < T; ++t) acc[t] = V::zero();
  const int64_t c0 = ow0 * g.sw - g.pw, r0 = oh * g.sh - g.ph, xstep = g.sw * B;
  for (int64_t i = i0; i < i1; ++i) {
    const float* xr = xc + (r0 + i * g.dh) * g.iw * B;
    const float* wr = wc + i * g.kw * B;
    if constexpr (kS3 > 0) {
      const R w[3] = {V::load(wr), V::load(wr + B), V::load(wr + 2 * B)};
      const float* xp = xr + c0 * B;
      LR_NCHWC_UNROLL
      for (int q = 0; q < (T - 1) * kS3 + 3; ++q) {
        const R xv = V::load(xp + q * B);
        LR_NCHWC_UNROLL
        for (int j = 0; j < 3; ++j) {
          const int d = q - j;  // = t * kS3 for the pixel t that reads column q at tap j
          if (d >= 0 && d % kS3 == 0 && d / kS3 < T) acc[d / kS3] = V::fma(xv, w[j], acc[d / kS3]);
        }
      }
    } else {
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t col = c0 + j * g.dw;
        if (kChecked && (col < 0 || col >= g.iw)) continue;
        const R w = V::load(wr + j * B);
        const float* xp = xr + col * B;
        LR_NCHWC_UNROLL
        for (int t = 0; t < T; ++t) acc[t] = V::fma(V::load(xp + t * xstep), w, acc[t]);
      }
    }
  }
  R out[T];
  LR_NCHWC_UNROLL
  for (int t = 0; t < T; ++t) out[t] = V::add(V::band(acc[t], mask), bias);
  store_tile<V>(out, T, mask, res, ((cb * g.oh + oh) * g.ow + ow0) * B, ep, y);
}

template <class V, int T, int kS3>
inline void dw_run(const NchwcGeo& g, const float* xc, const float* wc, int64_t oh, int64_t a,
                   int64_t b, int64_t i0, int64_t i1, typename V::R bias, typename V::R mask,
                   const float* res, const Epilogue& ep, float* y, int64_t cb) {
  int64_t ow = a;
  for (; ow + T <= b; ow += T)
    dw_tile<V, T, false, kS3>(g, xc, wc, oh, ow, i0, i1, bias, mask, res, ep, y, cb);
  if constexpr (T > 1) {
    if (b - ow >= T / 2 + (T & 1))
      dw_run<V, T / 2 + (T & 1), kS3>(g, xc, wc, oh, ow, b, i0, i1, bias, mask, res, ep, y, cb);
    else if (ow < b)
      dw_run<V, T / 2, kS3>(g, xc, wc, oh, ow, b, i0, i1, bias, mask, res, ep, y, cb);
  }
}

// ConvNchwcFn for the depthwise conv.
template <class V>
void depthwise(const NchwcGeo& g, const float* x, const float* wp, const float* bias,
               const float* res, const Epilogue& ep, float* y, int64_t ob0, int64_t ob1,
               int64_t oh0, int64_t oh1) {
  constexpr int B = V::B;
  int64_t lo, hi;
  interior_cols(g, &lo, &hi);
  const int s3 = g.kw == 3 && g.dw == 1 && g.sw <= 2 ? static_cast<int>(g.sw) : 0;
  for (int64_t cb = ob0; cb < ob1; ++cb) {
    const typename V::R bv = block_bias<V>(g, bias, cb), m = block_mask<V>(g, cb);
    const float* xc = x + cb * g.ih * g.iw * B;
    const float* wc = wp + cb * g.kh * g.kw * B;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
      int64_t i0, i1;
      tap_rows(g, oh, &i0, &i1);
      for (int64_t ow = 0; ow < lo; ++ow)
        dw_tile<V, 1, true, 0>(g, xc, wc, oh, ow, i0, i1, bv, m, res, ep, y, cb);
      if (s3 == 1)
        dw_run<V, V::kDwT, 1>(g, xc, wc, oh, lo, hi, i0, i1, bv, m, res, ep, y, cb);
      else if (s3 == 2)
        dw_run<V, V::kDwT, 2>(g, xc, wc, oh, lo, hi, i0, i1, bv, m, res, ep, y, cb);
      else
        dw_run<V, V::kDwT, 0>(g, xc, wc, oh, lo, hi, i0, i1, bv, m, res, ep, y, cb);
      for (int64_t ow = hi; ow < g.ow; ++ow)
        dw_tile<V, 1, true, 0>(g, xc, wc, oh, ow, i0, i1, bv, m, res, ep, y, cb);
    }
  }
}

}  // namespace nchwc
}  // namespace kernels
}  // namespace loadrun
