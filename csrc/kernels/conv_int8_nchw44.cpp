// The portable NCHW44 int8 direct convolution (conv_int8_nchw44.h): weight
// packing for the dot-product layout (dense and depthwise) and one output
// row of one output block in plain C++, 32-bit wrapping sums as the
// dot-product instructions make.
// It is the reference the ISA kernels are tested against and what the
// levels without a dot product run.
#include "kernels/conv_int8_nchw44.h"

namespace loadrun {
namespace kernels {

int64_t conv_int8_nchw44_packed_bytes(int64_t oc, int64_t ic, int64_t kh, int64_t kw) {
  const int64_t ocb = (oc + kNchw44 - 1) / kNchw44, icb = (ic + kNchw44 - 1) / kNchw44;
  return ocb * icb * kh * kw * kNchw44 * kNchw44;
}

void conv_int8_nchw44_pack(const uint8_t* w, bool is_signed, int64_t oc, int64_t ic, int64_t kh,
                           int64_t kw, uint8_t* wp, int32_t* sum_w) {
  const int64_t ocb = (oc + kNchw44 - 1) / kNchw44, icb = (ic + kNchw44 - 1) / kNchw44;
  const int64_t taps = kh * kw;
  uint8_t* out = wp;
  for (int64_t ob = 0; ob < ocb; ++ob)
    for (int64_t ib = 0; ib < icb; ++ib)
      for (int64_t t = 0; t < taps; ++t)
        for (int64_t lo = 0; lo < kNchw44; ++lo)
          for (int64_t li = 0; li < kNchw44; ++li) {
            const int64_t o = ob * kNchw44 + lo, i = ib * kNchw44 + li;
            *out++ = o < oc && i < ic ? w[(o * ic + i) * taps + t] : 0;
          }
  if (!sum_w) return;
  const int64_t per_block = icb * taps * kNchw44 * kNchw44;
  for (int64_t o = 0; o < oc; ++o) {
    const uint8_t* b = wp + (o / kNchw44) * per_block + (o % kNchw44) * kNchw44;
    uint32_t s = 0;
    for (int64_t j = 0; j < icb * taps; ++j)
      for (int64_t li = 0; li < kNchw44; ++li) {
        const uint8_t v = b[j * kNchw44 * kNchw44 + li];
        s += is_signed ? static_cast<uint32_t>(static_cast<int32_t>(static_cast<int8_t>(v))) : v;
      }
    sum_w[o] = static_cast<int32_t>(s);
  }
}

int64_t conv_int8_nchw44_dw_packed_bytes(int64_t oc, int64_t kh, int64_t kw) {
  return (oc + kNchw44 - 1) / kNchw44 * kh * kw * kNchw44 * kNchw44;
}

void conv_int8_nchw44_pack_dw(const uint8_t* w, bool is_signed, int64_t oc, int64_t kh, int64_t kw,
                              uint8_t* wp, int32_t* sum_w) {
  const int64_t ocb = (oc + kNchw44 - 1) / kNchw44, taps = kh * kw;
  uint8_t* out = wp;
  for (int64_t ob = 0; ob < ocb; ++ob)
    for (int64_t t = 0; t < taps; ++t)
      for (int64_t lo = 0; lo < kNchw44; ++lo)
        for (int64_t li = 0; li < kNchw44; ++li) {
          const int64_t o = ob * kNchw44 + lo;
          *out++ = lo == li && o < oc ? w[o * taps + t] : 0;
        }
  if (!sum_w) return;
  for (int64_t o = 0; o < oc; ++o) {
    uint32_t s = 0;
    for (int64_t t = 0; t < taps; ++t) {
      const uint8_t v = w[o * taps + t];
      s += is_signed ? static_cast<uint32_t>(static_cast<int32_t>(static_cast<int8_t>(v))) : v;
    }
    sum_w[o] = static_cast<int32_t>(s);
  }
}

namespace {

template <typename T>
void row_portable(const ConvInt8Nchw44Geo& g, const uint8_t* xp, const uint8_t* wblock,
                  int64_t oy, int32_t* acc) {
  const int64_t plane = g.rows * g.ld * kNchw44;
  for (int64_t ox = 0; ox < g.ow; ++ox) {
    uint32_t s[kNchw44] = {0, 0, 0, 0};
    const uint8_t* w = wblock;
    for (int64_t ib = 0; ib < g.icb; ++ib)
      for (int64_t ky = 0; ky < g.kh; ++ky) {
        const uint8_t* xrow = xp + ib * plane + ((oy * g.sh + ky * g.dh) * g.ld) * kNchw44;
        for (int64_t kx = 0; kx < g.kw; ++kx, w += kNchw44 * kNchw44) {
          const T* x = reinterpret_cast<const T*>(xrow + (ox * g.sw + kx * g.dw) * kNchw44);
          const T* wt = reinterpret_cast<const T*>(w);
          for (int lo = 0; lo < kNchw44; ++lo)
            for (int li = 0; li < kNchw44; ++li)
              s[lo] += static_cast<uint32_t>(static_cast<int32_t>(x[li]) *
                                             static_cast<int32_t>(wt[lo * kNchw44 + li]));
        }
      }
    for (int lo = 0; lo < kNchw44; ++lo) acc[ox * kNchw44 + lo] = static_cast<int32_t>(s[lo]);
  }
}

}  // namespace

void conv_int8_nchw44_row_s8_portable(const ConvInt8Nchw44Geo& g, const uint8_t* xp,
                                      const uint8_t* wblock, int nb, int64_t oy, int32_t* acc) {
  for (int b = 0; b < nb; ++b)
    row_portable<int8_t>(g, xp, wblock + b * g.icb * g.kh * g.kw * kNchw44 * kNchw44, oy,
                         acc + b * g.ow * kNchw44);
}
void conv_int8_nchw44_row_u8_portable(const ConvInt8Nchw44Geo& g, const uint8_t* xp,
                                      const uint8_t* wblock, int nb, int64_t oy, int32_t* acc) {
  for (int b = 0; b < nb; ++b)
    row_portable<uint8_t>(g, xp, wblock + b * g.icb * g.kh * g.kw * kNchw44 * kNchw44, oy,
                          acc + b * g.ow * kNchw44);
}

}  // namespace kernels
}  // namespace loadrun
