// Resize (ONNX, opset 11+ form: X, roi, scales, sizes): nearest and linear
// interpolation over any axes of any rank, each output coordinate mapped back
// to the input by coordinate_transformation_mode (half_pixel,
// half_pixel_symmetric, pytorch_half_pixel, align_corners, asymmetric,
// tf_half_pixel_for_nn). Exactly one of scales / sizes is given; an absent
// input or an empty tensor counts as not given. With scales, out =
// floor(in * scale) and the mapping uses the given scale; with sizes, the
// scale is out / in. Opset 10 Resize and Upsample are rewritten into this
// form by the importer, which sets nearest_mode "simple" (a loadrun-internal
// value: truncate when upsampling, ceil when downsampling, as ONNX Runtime
// does for those old ops). Coordinates are computed in float32 (one step of
// half_pixel_symmetric in double) exactly as ONNX Runtime does, so ties in
// nearest rounding fall the same way.
// Unsupported (UnsupportedError): cubic, tf_crop_and_resize, antialias=1,
// keep_aspect_ratio_policy other than stretch.
// NAIVE: per-axis tables (nearest: one source index; linear: two indices
// and weights, edges clamped), then one pass over the output, summing the
// 2^k corners of the k axes that interpolate. Nearest copies elements of any
// dtype; linear is float32/float64. O(numel(Y) * (rank + 2^k)).
#include <cmath>
#include <cstring>

#include "ops/common.h"

namespace loadrun {

namespace {

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

  explicit ResizeOp(const Attrs& a)
      : mode_s(a.get_string("mode", "nearest")),
        coord_s(a.get_string("coordinate_transformation_mode", "half_pixel")),
        round_s(a.get_string("nearest_mode", "round_prefer_floor")),
        policy(a.get_string("keep_aspect_ratio_policy", "stretch")),
        antialias(a.get_int("antialias", 0)),
        axes(a.get_ints("axes")) {
    if (mode_s == "nearest") mode = Mode::Nearest;
    else if (mode_s == "linear" || mode_s == "bilinear" || mode_s == "trilinear") mode = Mode::Linear;
    else if (mode_s == "cubic" || mode_s == "bicubic") mode = Mode::Cubic;
    else LR_THROW(ModelError, "mode '", mode_s, "' is not one of nearest, linear, cubic");
    if (coord_s == "half_pixel") coord = Coord::HalfPixel;
    else if (coord_s == "half_pixel_symmetric") coord = Coord::HalfPixelSym;
    else if (coord_s == "pytorch_half_pixel") coord = Coord::PytorchHalfPixel;
    else if (coord_s == "align_corners") coord = Coord::AlignCorners;
    else if (coord_s == "asymmetric") coord = Coord::Asymmetric;
    else if (coord_s == "tf_half_pixel_for_nn") coord = Coord::TfHalfPixelNN;
    else if (coord_s == "tf_crop_and_resize") coord = Coord::TfCrop;
    else LR_THROW(ModelError, "coordinate_transformation_mode '", coord_s, "' is not known");
    if (round_s == "round_prefer_floor") round = Round::PreferFloor;
    else if (round_s == "round_prefer_ceil") round = Round::PreferCeil;
    else if (round_s == "floor") round = Round::Floor;
    else if (round_s == "ceil") round = Round::Ceil;
    else if (round_s == "simple") round = Round::Simple;
    else LR_THROW(ModelError, "nearest_mode '", round_s,
                  "' is not one of round_prefer_floor, round_prefer_ceil, floor, ceil");
  }
  std::string param_key() const override {
    std::string r = mode_s + ";" + coord_s + ";" + round_s + ";" + policy + ";a";
    for (int64_t v : axes) r += "," + std::to_string(v);
    return r;
  }

  // scales / sizes: the tensors when given (non-empty), else nullptr.
  Geometry geometry(const Shape& in, const Tensor* scales, const Tensor* sizes) const {
    int64_t rank = static_cast<int64_t>(in.size());
    LR_CHECK((scales != nullptr) != (sizes != nullptr), ModelError,
             "exactly one of scales and sizes must be given (non-empty), found ",
             scales ? "both" : "neither");
    std::vector<int64_t> ax;
    if (axes.empty()) {
      for (int64_t i = 0; i < rank; ++i) ax.push_back(i);
    } else {
      for (int64_t a : axes) {
        int64_t n = normalize_axis(a, rank, "axes value");
        for (int64_t b : ax) LR_CHECK(b != n, ModelError, "axes repeat axis ", a);
        ax.push_back(n);
      }
    }
    const Tensor* given = scales ? scales : sizes;
    LR_CHECK(given->ndim() == 1 && given->numel() == static_cast<int64_t>(ax.size()), ModelError,
             scales ? "scales" : "sizes", " has shape ", shape_str(given->shape()), ", expected {",
             ax.size(), "} (one value per ", axes.empty() ? "input dim" : "axis", ")");
    Geometry g;
    g.out = in;
    g.scales.assign(in.size(), 1.0f);
    for (size_t j = 0; j < ax.size(); ++j) {
      int64_t a = ax[j];
      if (scales) {
        float s = static_cast<float>(scales->get_f64(static_cast<int64_t>(j)));
        LR_CHECK(s > 0, ModelError, "scales must be positive, got ", s, " for axis ", a);
        g.scales[a] = s;
        g.out[a] = static_cast<int64_t>(std::floor(s * static_cast<float>(in[a])));
      } else {
        int64_t n = sizes->get_i64(static_cast<int64_t>(j));
        LR_CHECK(n >= 0, ModelError, "sizes must be >= 0, got ", n, " for axis ", a);
        g.out[a] = n;
        g.scales[a] = in[a] > 0 ? static_cast<float>(n) / static_cast<float>(in[a]) : 1.0f;
      }
    }
    return g;
  }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(mode != Mode::Cubic, UnsupportedError, "Resize mode '", mode_s,
             "' is not supported (nearest and linear are)");
    LR_CHECK(coord != Coord::TfCrop, UnsupportedError,
             "Resize coordinate_transformation_mode tf_crop_and_resize is not supported");
    LR_CHECK(coord != Coord::TfHalfPixelNN || mode == Mode::Nearest, ModelError,
             "coordinate_transformation_mode tf_half_pixel_for_nn is only for mode nearest");
    LR_CHECK(antialias == 0, UnsupportedError, "Resize with antialias=1 is not supported");
    LR_CHECK(mode != Mode::Linear || x.dtype == DType::Float32 || x.dtype == DType::Float64,
             UnsupportedError, "Resize mode linear on dtype ", dtype_name(x.dtype),
             " is not supported (float32, float64 are)");
    bool has_scales = ctx.has(2) && ctx.input(2).numel() > 0;
    bool has_sizes = ctx.has(3) && ctx.input(3).numel() > 0;
    LR_CHECK(!has_sizes || policy == "stretch", UnsupportedError,
             "Resize keep_aspect_ratio_policy '", policy, "' is not supported (only stretch)");
    const Tensor* scales = has_scales ? &ctx.value(2, "Resize scales") : nullptr;
    const Tensor* sizes = has_sizes ? &ctx.value(3, "Resize sizes") : nullptr;
    Geometry g = geometry(x.shape, scales, sizes);
    ctx.set_output(0, g.out, x.dtype);
  }

  // Input coordinate of output coordinate i along an axis.
  float source(int64_t i, float scale, int64_t out_len, int64_t in_len) const {
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
      case Coord::TfCrop:
        break;
    }
    return 0.0f;
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

const Tensor* given(const KernCtx& ctx, size_t i) {
  return ctx.has(i) && ctx.input(i).numel() > 0 ? &ctx.input(i) : nullptr;
}

// Walks a multi-index over `shape` in contiguous order.
bool next_index(std::vector<int64_t>& idx, const Shape& shape) {
  for (size_t d = shape.size(); d-- > 0;) {
    if (++idx[d] < shape[d]) return true;
    idx[d] = 0;
  }
  return false;
}

void resize_nearest(const ResizeOp& op, const Geometry& g, const Tensor& xt, Tensor& yt) {
  const Shape& in = xt.shape();
  size_t rank = in.size();
  std::vector<std::vector<int64_t>> src(rank);
  for (size_t a = 0; a < rank; ++a) {
    src[a].resize(g.out[a]);
    for (int64_t i = 0; i < g.out[a]; ++i) {
      int64_t k = op.nearest(op.source(i, g.scales[a], g.out[a], in[a]), g.scales[a]);
      src[a][i] = k < 0 ? 0 : (k >= in[a] ? in[a] - 1 : k);
    }
  }
  if (yt.numel() == 0) return;
  Shape in_strides = contiguous_strides(in);
  size_t es = dtype_size(xt.dtype());
  const uint8_t* x = static_cast<const uint8_t*>(xt.raw());
  uint8_t* y = static_cast<uint8_t*>(yt.raw());
  std::vector<int64_t> idx(rank, 0);
  int64_t o = 0;
  do {
    int64_t off = 0;
    for (size_t a = 0; a < rank; ++a) off += src[a][idx[a]] * in_strides[a];
    std::memcpy(y + o * es, x + off * es, es);
    ++o;
  } while (next_index(idx, g.out));
}

template <typename T>
void resize_linear(const ResizeOp& op, const Geometry& g, const Tensor& xt, Tensor& yt) {
  const Shape& in = xt.shape();
  size_t rank = in.size();
  struct Tap {
    int64_t lo, hi;
    T wlo, whi;
  };
  std::vector<std::vector<Tap>> taps(rank);
  std::vector<size_t> active;  // axes where some output reads two inputs
  for (size_t a = 0; a < rank; ++a) {
    bool two = false;
    taps[a].resize(g.out[a]);
    for (int64_t i = 0; i < g.out[a]; ++i) {
      float s = op.source(i, g.scales[a], g.out[a], in[a]);
      float top = static_cast<float>(in[a] - 1);
      s = s < 0.0f ? 0.0f : (s > top ? top : s);
      int64_t lo = static_cast<int64_t>(s);
      if (lo > in[a] - 1) lo = in[a] - 1;
      int64_t hi = lo + 1 > in[a] - 1 ? in[a] - 1 : lo + 1;
      Tap t{lo, hi, T(1), T(0)};
      if (hi != lo) {
        t.whi = static_cast<T>(s - static_cast<float>(lo));
        t.wlo = static_cast<T>(static_cast<float>(hi) - s);
      }
      if (t.whi != T(0)) two = true;
      taps[a][i] = t;
    }
    if (two) active.push_back(a);
  }
  if (yt.numel() == 0) return;
  Shape in_strides = contiguous_strides(in);
  const T* x = xt.ptr<T>();
  T* y = yt.ptr<T>();
  std::vector<int64_t> idx(rank, 0);
  size_t corners = size_t(1) << active.size();
  int64_t o = 0;
  do {
    int64_t base = 0;
    for (size_t a = 0; a < rank; ++a) base += taps[a][idx[a]].lo * in_strides[a];
    T acc = T(0);
    for (size_t c = 0; c < corners; ++c) {
      T w = T(1);
      int64_t off = base;
      for (size_t j = 0; j < active.size(); ++j) {
        const Tap& t = taps[active[j]][idx[active[j]]];
        if (c >> j & 1) {
          w *= t.whi;
          off += (t.hi - t.lo) * in_strides[active[j]];
        } else {
          w *= t.wlo;
        }
      }
      if (w != T(0)) acc += w * x[off];
    }
    y[o++] = acc;
  } while (next_index(idx, g.out));
}

void resize_naive(const ResizeOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  Tensor& yt = ctx.output(0);
  Geometry g = op.geometry(xt.shape(), given(ctx, 2), given(ctx, 3));
  LR_CHECK(g.out == yt.shape(), InternalError, "Resize output shape changed since compile");
  if (op.mode == Mode::Nearest) {
    resize_nearest(op, g, xt, yt);
    return;
  }
  LR_DISPATCH_FLOAT(xt.dtype(), "Resize", resize_linear<T>(op, g, xt, yt));
}

const auto kNaive = naive_algo<ResizeOp>(resize_naive);

}  // namespace

void register_op_Resize(OpRegistry& r) { register_simple<ResizeOp>(r, "Resize", {&kNaive}, 1, 4); }

}  // namespace loadrun
