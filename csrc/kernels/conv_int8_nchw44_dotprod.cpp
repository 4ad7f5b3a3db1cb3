// NCHW44 int8 direct convolution rows with the ARMv8.2 dot-product
// instructions (conv_int8_nchw44.h), built with -march=armv8.2-a+dotprod on
// aarch64 only and run at the neon_dotprod level. Per tap and input block,
// one 16-byte weight vector ([4 oc][4 ic]) is loaded and dotted (SDOT /
// UDOT) against up to 8 output pixels, each pixel's 4 input bytes broadcast
// to the four 32-bit lanes (one LD1R), for 1 or 2 output blocks at once:
// up to 16 independent accumulators, 8 dot products per weight load and 2
// per input load. Tails of 4 and 1 pixels.
// The sums wrap in 32 bits exactly as the portable kernel's.
#include <arm_neon.h>

#include <cstring>

#include "kernels/conv_int8_nchw44.h"

namespace loadrun {
namespace kernels {

namespace {

struct S8 {
  using Acc = int32x4_t;
  static Acc zero() { return vdupq_n_s32(0); }
  static int8x16_t bcast(const uint8_t* x) {
    uint32_t v;
    std::memcpy(&v, x, 4);
    return vreinterpretq_s8_u32(vdupq_n_u32(v));
  }
  static Acc dot(Acc a, int8x16_t w, int8x16_t x) { return vdotq_s32(a, w, x); }
  static int8x16_t load(const uint8_t* w) { return vld1q_s8(reinterpret_cast<const int8_t*>(w)); }
  static void store(int32_t* p, Acc a) { vst1q_s32(p, a); }
};

struct U8 {
  using Acc = uint32x4_t;
  static Acc zero() { return vdupq_n_u32(0); }
  static uint8x16_t bcast(const uint8_t* x) {
    uint32_t v;
    std::memcpy(&v, x, 4);
    return vreinterpretq_u8_u32(vdupq_n_u32(v));
  }
  static Acc dot(Acc a, uint8x16_t w, uint8x16_t x) { return vdotq_u32(a, w, x); }
  static uint8x16_t load(const uint8_t* w) { return vld1q_u8(w); }
  static void store(int32_t* p, Acc a) { vst1q_s32(p, vreinterpretq_s32_u32(a)); }
};

// acc for pixels ox0 .. ox0+N-1 of row oy, NB output blocks.
template <class T, int N, int NB>
void tile(const ConvInt8Nchw44Geo& g, const uint8_t* xp, const uint8_t* wblock, int64_t oy,
          int64_t ox0, int32_t* acc) {
  typename T::Acc a[NB][N];
  for (int b = 0; b < NB; ++b)
    for (int j = 0; j < N; ++j) a[b][j] = T::zero();
  const int64_t plane = g.rows * g.ld * kNchw44;
  const int64_t step = g.sw * kNchw44;
  const int64_t wstride = g.icb * g.kh * g.kw * kNchw44 * kNchw44;
  const uint8_t* w = wblock;
  for (int64_t ib = 0; ib < g.icb; ++ib)
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      const uint8_t* xrow =
          xp + ib * plane + ((oy * g.sh + ky * g.dh) * g.ld + ox0 * g.sw) * kNchw44;
      for (int64_t kx = 0; kx < g.kw; ++kx, w += kNchw44 * kNchw44) {
        decltype(T::load(w)) wv[NB];
        for (int b = 0; b < NB; ++b) wv[b] = T::load(w + b * wstride);
        const uint8_t* x = xrow + kx * g.dw * kNchw44;
        for (int j = 0; j < N; ++j) {
          const auto xv = T::bcast(x + j * step);
          for (int b = 0; b < NB; ++b) a[b][j] = T::dot(a[b][j], wv[b], xv);
        }
      }
    }
  for (int b = 0; b < NB; ++b)
    for (int j = 0; j < N; ++j) T::store(acc + b * g.ow * kNchw44 + (ox0 + j) * kNchw44, a[b][j]);
}

template <class T, int NB>
void row_nb(const ConvInt8Nchw44Geo& g, const uint8_t* xp, const uint8_t* wblock, int64_t oy,
            int32_t* acc) {
  int64_t ox = 0;
  for (; ox + 8 <= g.ow; ox += 8) tile<T, 8, NB>(g, xp, wblock, oy, ox, acc);
  for (; ox + 4 <= g.ow; ox += 4) tile<T, 4, NB>(g, xp, wblock, oy, ox, acc);
  for (; ox < g.ow; ++ox) tile<T, 1, NB>(g, xp, wblock, oy, ox, acc);
}

template <class T>
void row(const ConvInt8Nchw44Geo& g, const uint8_t* xp, const uint8_t* wblock, int nb, int64_t oy,
         int32_t* acc) {
  if (nb == 2)
    row_nb<T, 2>(g, xp, wblock, oy, acc);
  else
    row_nb<T, 1>(g, xp, wblock, oy, acc);
}

}  // namespace

void conv_int8_nchw44_row_s8_dotprod(const ConvInt8Nchw44Geo& g, const uint8_t* xp,
                                     const uint8_t* wblock, int nb, int64_t oy, int32_t* acc) {
  row<S8>(g, xp, wblock, nb, oy, acc);
}
void conv_int8_nchw44_row_u8_dotprod(const ConvInt8Nchw44Geo& g, const uint8_t* xp,
                                     const uint8_t* wblock, int nb, int64_t oy, int32_t* acc) {
  row<U8>(g, xp, wblock, nb, oy, acc);
}

}  // namespace kernels
}  // namespace loadrun
