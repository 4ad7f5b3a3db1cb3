// The requantisation of ONNX QLinearConv (and of the ops that must give its
// results bit for bit, such as QLinearConvNCHW44): acc (int32) ->
// saturate(round_half_even(acc * multiplier) + y_zero_point) with the
// multiplier x_scale * w_scale[oc] / y_scale computed in float32 and the
// rest in double, as onnx's reference does. The product and the sum must
// round separately: CMakeLists.txt builds the files that include this
// (*qlinear*, *_integer, quantize_linear, requant*) with -ffp-contract=off,
// so no target contracts them into an FMA. kernels/requant.h is the vector
// form of the same arithmetic.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/tensor.h"

namespace loadrun {

struct QLinearRequant {
  float x_scale = 1.f, y_scale = 1.f;
  const float* w_scale = nullptr;  // one, or one per output channel
  bool w_scale_per_oc = false;
  double y_zero_point = 0;
  bool out_signed = false;  // int8 output, else uint8
  double lo = 0, hi = 255;

  // x_scale, w_scale, y_scale and y_zero_point tensors (QLinearConv inputs
  // 1, 4, 6, 7); the output's dtype is y_zero_point's.
  QLinearRequant(const Tensor& xs, const Tensor& ws, const Tensor& ys, const Tensor& yzp)
      : x_scale(xs.ptr<float>()[0]),
        y_scale(ys.ptr<float>()[0]),
        w_scale(ws.ptr<float>()),
        w_scale_per_oc(ws.numel() != 1),
        y_zero_point(static_cast<double>(yzp.get_i64(0))),
        out_signed(yzp.dtype() == DType::Int8),
        lo(out_signed ? -128 : 0),
        hi(out_signed ? 127 : 255) {}

  float multiplier(int64_t oc) const {
    return x_scale * w_scale[w_scale_per_oc ? oc : 0] / y_scale;
  }
  // The output value (in [lo, hi]) of acc with multiplier(oc) = mult.
  double value(int32_t acc, float mult) const {
    return std::clamp(std::nearbyint(static_cast<double>(acc) * mult + y_zero_point), lo, hi);
  }
  // The output byte (int8 or uint8 bits) of acc.
  uint8_t byte(int32_t acc, float mult) const {
    double v = value(acc, mult);
    return out_signed ? static_cast<uint8_t>(static_cast<int8_t>(v)) : static_cast<uint8_t>(v);
  }
};

}  // namespace loadrun
