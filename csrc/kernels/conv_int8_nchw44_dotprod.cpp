// NCHW44 int8 direct convolution rows with the ARMv8.2 dot-product
// instructions (conv_int8_nchw44.h), built with -march=armv8.2-a+dotprod on
// aarch64 only and run at the neon_dotprod level. Per tap and input block,
// one 16-byte weight vector ([4 oc][4 ic]) is loaded and dotted (SDOT /
// UDOT) against up to 8 output pixels, each pixel's 4 input bytes broadcast
// to the four 32-bit lanes (one LD1R): 8 independent accumulators of the 4
// output channels, 8 dot products per weight load. Tails of 4 and 1 pixels.
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
  static Acc dotw(Acc a, int8x16_t w, const uint8_t* x) {
    uint32_t v;
    std::memcpy(&v, x, 4);
    return vdotq_s32(a, w, vreinterpretq_s8_u32(vdupq_n_u32(v)));
  }
  static int8x16_t load(const uint8_t* w) { return vld1q_s8(reinterpret_cast<const int8_t*>(w)); }
  static void store(int32_t* p, Acc a) { vst1q_s32(p, a); }
};

struct U8 {
  using Acc = uint32x4_t;
  static Acc zero() { return vdupq_n_u32(0); }
  static Acc dotw(Acc a, uint8x16_t w, const uint8_t* x) {
    uint32_t v;
    std::memcpy(&v, x, 4);
    return vdotq_u32(a, w, vreinterpretq_u8_u32(vdupq_n_u32(v)));
  }
  static uint8x16_t load(const uint8_t* w) { return vld1q_u8(w); }
  static void store(int32_t* p, Acc a) { vst1q_s32(p, vreinterpretq_s32_u32(a)); }
};

// acc for pixels ox0 .. ox0+N-1 of row oy.
template <class T, int N>
void tile(const ConvInt8Nchw44Geo& g, const uint8_t* xp, const uint8_t* wblock, int64_t oy,
          int64_t ox0, int32_t* acc) {
  typename T::Acc a[N];
  for (int j = 0; j < N; ++j) a[j] = T::zero();
  const int64_t plane = g.rows * g.ld * kNchw44;
  const int64_t step = g.sw * kNchw44;
  const uint8_t* w = wblock;
  for (int64_t ib = 0; ib < g.icb; ++ib)
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      const uint8_t* xrow =
          xp + ib * plane + ((oy * g.sh + ky * g.dh) * g.ld + ox0 * g.sw) * kNchw44;
      for (int64_t kx = 0; kx < g.kw; ++kx, w += kNchw44 * kNchw44) {
        const auto wv = T::load(w);
        const uint8_t* x = xrow + kx * g.dw * kNchw44;
        for (int j = 0; j < N; ++j) a[j] = T::dotw(a[j], wv, x + j * step);
      }
    }
  for (int j = 0; j < N; ++j) T::store(acc + (ox0 + j) * kNchw44, a[j]);
}

template <class T>
void row(const ConvInt8Nchw44Geo& g, const uint8_t* xp, const uint8_t* wblock, int64_t oy,
         int32_t* acc) {
  int64_t ox = 0;
  for (; ox + 8 <= g.ow; ox += 8) tile<T, 8>(g, xp, wblock, oy, ox, acc);
  for (; ox + 4 <= g.ow; ox += 4) tile<T, 4>(g, xp, wblock, oy, ox, acc);
  for (; ox < g.ow; ++ox) tile<T, 1>(g, xp, wblock, oy, ox, acc);
}

}  // namespace

void conv_int8_nchw44_row_s8_dotprod(const ConvInt8Nchw44Geo& g, const uint8_t* xp,
                                     const uint8_t* wblock, int64_t oy, int32_t* acc) {
  row<S8>(g, xp, wblock, oy, acc);
}
void conv_int8_nchw44_row_u8_dotprod(const ConvInt8Nchw44Geo& g, const uint8_t* xp,
                                     const uint8_t* wblock, int64_t oy, int32_t* acc) {
  row<U8>(g, xp, wblock, oy, acc);
}

}  // namespace kernels
}  // namespace loadrun
