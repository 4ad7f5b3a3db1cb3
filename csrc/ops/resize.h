// Resize's parsed attributes, output geometry and coordinate mapping
// (output index -> source coordinate -> nearest index or interpolation
// taps), shared by its NAIVE algorithm (resize.cpp, where the op's
// semantics are described) and RESIZE_FAST (resize_fast.cpp), so that both
// map every output coordinate the same way.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "ops/common.h"

namespace loadrun {
// Generic names (Mode, Geometry, Tap, given) kept out of loadrun::.
namespace resize {

enum class Mode { Nearest, Linear, Cubic };
enum class Coord { HalfPixel, HalfPixelSym, PytorchHalfPixel, AlignCorners, Asymmetric, TfHalfPixelNN, TfCrop };
enum class Round { PreferFloor, PreferCeil, Floor, Ceil, Simple };

struct Geometry {
  Shape out;
  std::vector<float> scales;  // per axis of X; 1 where not resized
};

struct ResizeOp final : Op {
  Mode mode;
  Coord coord;
  Round round;
  std::string mode_s, coord_s, round_s, policy;
  int64_t antialias;
  std::vector<int64_t> axes;
  double cubic_a, extrapolation;
  bool exclude_outside;

  explicit ResizeOp(const Attrs& a);
  std::string param_key() const override;
  // The resized axes, normalised, in the order scales / sizes / roi list them.
  std::vector<int64_t> resized_axes(int64_t rank) const;
  // scales / sizes: the tensors when given (non-empty), else nullptr.
  Geometry geometry(const Shape& in, const Tensor* scales, const Tensor* sizes) const;
  void infer(InferCtx& ctx) const override;

  // Input coordinate of output coordinate i along an axis (roi: that axis's
  // start and end, for tf_crop_and_resize).
  float source(int64_t i, float scale, int64_t out_len, int64_t in_len, float r0 = 0.0f,
               float r1 = 1.0f) const {
    float x = static_cast<float>(i);
    switch (coord) {
      case Coord::HalfPixel:
        return (x + 0.5f) / scale - 0.5f;
      case Coord::HalfPixelSym: {
        float adj = static_cast<float>(out_len) / (scale * static_cast<float>(in_len));
        float offset = static_cast<float>(in_len) / 2.0f * (1.0f - adj);
        // The rest in double, then rounded to float, as ONNX Runtime does.
        return static_cast<float>(offset + (x + 0.5) / scale - 0.5);
      }
      case Coord::PytorchHalfPixel:
        return out_len > 1 ? (x + 0.5f) / scale - 0.5f : 0.0f;
      case Coord::AlignCorners:
        return out_len == 1 ? 0.0f
                            : x * static_cast<float>(in_len - 1) / static_cast<float>(out_len - 1);
      case Coord::Asymmetric:
        return x / scale;
      case Coord::TfHalfPixelNN:
        return (x + 0.5f) / scale;
      case Coord::TfCrop: {
        float span = static_cast<float>(in_len - 1);
        return out_len > 1 ? r0 * span + x * (r1 - r0) * span / static_cast<float>(out_len - 1)
                           : 0.5f * (r0 + r1) * span;
      }
    }
    return 0.0f;
  }
  // tf_crop_and_resize: is a source coordinate outside the input?
  bool extrapolates(float s, int64_t in_len) const {
    return coord == Coord::TfCrop && (s < 0.0f || s > static_cast<float>(in_len - 1));
  }

  double kernel(double t) const {
    t = std::fabs(t);
    if (mode == Mode::Linear) return t < 1.0 ? 1.0 - t : 0.0;
    const double a = cubic_a;
    if (t <= 1.0) return ((a + 2) * t - (a + 3)) * t * t + 1;
    if (t < 2.0) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
    return 0.0;
  }

  int64_t nearest(float x, float scale) const {
    float f = std::floor(x);
    bool tie = x == f + 0.5f;
    switch (round) {
      case Round::PreferFloor:
        return static_cast<int64_t>(tie ? f : std::round(x));
      case Round::PreferCeil:
        return static_cast<int64_t>(tie ? f + 1.0f : std::round(x));
      case Round::Floor:
        return static_cast<int64_t>(f);
      case Round::Ceil:
        return static_cast<int64_t>(std::ceil(x));
      case Round::Simple:
        return scale < 1.0f ? static_cast<int64_t>(std::ceil(x)) : static_cast<int64_t>(x);
    }
    return 0;
  }
};

// Input i when given and non-empty, else nullptr (scales, sizes, roi).
const Tensor* given(const KernCtx& ctx, size_t i);

struct Tap {
  int64_t idx;
  double w;
};

// linear / cubic taps of source coordinate s along an axis of length n.
std::vector<Tap> interp_taps(const ResizeOp& op, double s, int64_t n, double scale);

// The NAIVE algorithm (RESIZE_FAST falls back to it).
void resize_naive(const ResizeOp& op, const KernCtx& ctx);

// RESIZE_FAST (resize_fast.cpp).
const Algo* resize_fast_algo();

}  // namespace resize
}  // namespace loadrun
