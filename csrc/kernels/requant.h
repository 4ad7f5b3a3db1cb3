// Requantisation of int32 sums to int8/uint8, as ONNX QLinearConv defines it
// (ops/qlinear_requant.h is the scalar form the NAIVE algorithms use):
//   a    = acc + bias[l] - wz[l] * s          (wrapping int32)
//   byte = saturate(round_half_even(double(a) * mult[l] + yzp))
// with the product and the sum rounded separately in double (no fused
// multiply-add: CMakeLists.txt builds every requant*.cpp with
// -ffp-contract=off), so every ISA gives the NAIVE bytes exactly.
// Rows hold pixels of 4 channel lanes, [pixel][4] (NCHW44 blocks, and the
// int8 direct convolution's row sums); l is the lane. s is optional: one
// value per pixel (a window sum shared by the 4 lanes) or one per pixel and
// lane, [pixel][4].
#pragma once
#include <cstdint>

namespace loadrun {
namespace kernels {

struct Requant4 {
  int32_t bias[4];
  int32_t wz[4];     // multiplies s (used only when s is given)
  double mult[4];    // finite (callers use the scalar form otherwise)
  double yzp;
  double lo, hi;     // the output type's range: [-128, 127] or [0, 255]
  bool out_signed;
};

// out[p * 4 + l] for p < npix. s_per_lane: s is [pixel][4], else [pixel].
using RequantRow4Fn = void (*)(const int32_t* acc, int64_t npix, const int32_t* s,
                               bool s_per_lane, const Requant4& q, uint8_t* out);

struct RequantImpl {
  RequantRow4Fn row4;
};

void requant_row4_portable(const int32_t* acc, int64_t npix, const int32_t* s, bool s_per_lane,
                           const Requant4& q, uint8_t* out);
void requant_row4_avx2(const int32_t* acc, int64_t npix, const int32_t* s, bool s_per_lane,
                       const Requant4& q, uint8_t* out);
void requant_row4_neon(const int32_t* acc, int64_t npix, const int32_t* s, bool s_per_lane,
                       const Requant4& q, uint8_t* out);

}  // namespace kernels
}  // namespace loadrun
