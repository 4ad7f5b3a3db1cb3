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
// tf_crop_and_resize maps output i to roi_start * (in - 1) + i * (roi_end -
// roi_start) * (in - 1) / (out - 1) (the roi's midpoint when out is 1), the
// roi input holding the starts then the ends of the resized axes; a source
// coordinate outside [0, in - 1] gives extrapolation_value. align_corners
// and tf_crop_and_resize use the integer output length, as the spec text and
// ONNX Runtime do (the ONNX reference uses in * scale, which differs for
// scales that do not give a whole length).
// linear and cubic (Keys kernel with cubic_coeff_a) read taps at integer
// offsets around the source coordinate, taps outside the input taking the
// edge value, or, with exclude_outside=1, dropped and the rest renormalised.
// antialias=1 stretches the kernel by 1 / scale when an axis shrinks (its
// weights kernel((j - x) * scale) then normalised to sum 1).
// keep_aspect_ratio_policy not_larger / not_smaller (sizes only) use one
// scale for every resized axis, the min / max of sizes / in, and output
// lengths round(scale * in), halves up.
// NAIVE: per-axis tables (nearest: one source index; linear/cubic: a list
// of (index, weight) taps, edges clamped), then one pass over the output,
// summing over the product of the taps of all axes (axes that are not
// resized have one tap). Nearest copies elements of any dtype; linear and
// cubic are float16 (computed in float32), float32 and float64.
// O(numel(Y) * (rank + taps^k)) for k interpolating axes.
// RESIZE_FAST (float32 NCHW, N and C unchanged, nearest or linear, no
// antialias / exclude_outside / tf_crop_and_resize): the same per-axis
// mapping as NAIVE (source() and nearest() / interp_taps()), tabled once per
// output row and column; nearest then gathers each output row from its source
// row (copying the previous output row when both map to the same one), linear
// blends the two horizontally interpolated source rows it needs (kept in a
// two-row cache) by the row weights. O(numel(Y)); where the given scales
// would move N or C it runs NAIVE's loops. The output rows of all planes
// are split over the step's threads.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/parallel_split.h"
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
  double cubic_a, extrapolation;
  bool exclude_outside;

  explicit ResizeOp(const Attrs& a)
      : mode_s(a.get_string("mode", "nearest")),
        coord_s(a.get_string("coordinate_transformation_mode", "half_pixel")),
        round_s(a.get_string("nearest_mode", "round_prefer_floor")),
        policy(a.get_string("keep_aspect_ratio_policy", "stretch")),
        antialias(a.get_int("antialias", 0)),
        axes(a.get_ints("axes")),
        cubic_a(a.get_float("cubic_coeff_a", -0.75)),
        extrapolation(a.get_float("extrapolation_value", 0.0)),
        exclude_outside(a.get_int("exclude_outside", 0) != 0) {
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
    LR_CHECK(policy == "stretch" || policy == "not_larger" || policy == "not_smaller", ModelError,
             "keep_aspect_ratio_policy '", policy,
             "' is not one of stretch, not_larger, not_smaller");
    LR_CHECK(antialias == 0 || antialias == 1, ModelError, "antialias must be 0 or 1, got ",
             antialias);
  }
  std::string param_key() const override {
    std::string r = mode_s + ";" + coord_s + ";" + round_s + ";" + policy + ";a";
    for (int64_t v : axes) r += "," + std::to_string(v);
    r += str_cat(";", antialias, ";", cubic_a, ";", extrapolation, ";", exclude_outside);
    return r;
  }

  // The resized axes, normalised, in the order scales / sizes / roi list them.
  std::vector<int64_t> resized_axes(int64_t rank) const {
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
    return ax;
  }

  // scales / sizes: the tensors when given (non-empty), else nullptr.
  Geometry geometry(const Shape& in, const Tensor* scales, const Tensor* sizes) const {
    int64_t rank = static_cast<int64_t>(in.size());
    LR_CHECK((scales != nullptr) != (sizes != nullptr), ModelError,
             "exactly one of scales and sizes must be given (non-empty), found ",
             scales ? "both" : "neither");
    std::vector<int64_t> ax = resized_axes(rank);
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
    if (sizes && policy != "stretch" && !ax.empty()) {
      // One scale for all resized axes: the smallest (not_larger) or largest.
      float s = g.scales[ax[0]];
      for (int64_t a : ax)
        s = policy == "not_larger" ? std::min(s, g.scales[a]) : std::max(s, g.scales[a]);
      for (int64_t a : ax) {
        g.scales[a] = s;
        g.out[a] = static_cast<int64_t>(std::floor(s * static_cast<float>(in[a]) + 0.5f));
      }
    }
    return g;
  }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(coord != Coord::TfHalfPixelNN || mode == Mode::Nearest, ModelError,
             "coordinate_transformation_mode tf_half_pixel_for_nn is only for mode nearest");
    LR_CHECK(mode == Mode::Nearest || dtype_is_compute_float(x.dtype),
             UnsupportedError, "Resize mode ", mode_s, " on dtype ", dtype_name(x.dtype),
             " is not supported (float16, bfloat16, float32, float64 are)");
    LR_CHECK(mode != Mode::Nearest || coord != Coord::TfCrop || x.dtype != DType::Bool,
             UnsupportedError, "Resize tf_crop_and_resize on bool is not supported");
    bool has_scales = ctx.has(2) && ctx.input(2).numel() > 0;
    bool has_sizes = ctx.has(3) && ctx.input(3).numel() > 0;
    if (coord == Coord::TfCrop && ctx.has(1) && ctx.input(1).numel() > 0) {
      int64_t want = 2 * static_cast<int64_t>(resized_axes(static_cast<int64_t>(x.ndim())).size());
      LR_CHECK(ctx.input(1).numel() == want, ModelError, "roi has ", ctx.input(1).numel(),
               " values, expected ", want, " (starts then ends of the resized axes)");
    }
    const Tensor* scales = has_scales ? &ctx.value(2, "Resize scales") : nullptr;
    const Tensor* sizes = has_sizes ? &ctx.value(3, "Resize sizes") : nullptr;
    Geometry g = geometry(x.shape, scales, sizes);
    ctx.set_output(0, g.out, x.dtype);
  }

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

const Tensor* given(const KernCtx& ctx, size_t i) {
  return ctx.has(i) && ctx.input(i).numel() > 0 ? &ctx.input(i) : nullptr;
}

// Per-axis roi (start, end) for tf_crop_and_resize: (0, 1) where not given.
void roi_of(const ResizeOp& op, const Tensor* roi, size_t rank, std::vector<float>& r0,
            std::vector<float>& r1) {
  r0.assign(rank, 0.0f);
  r1.assign(rank, 1.0f);
  if (op.coord != Coord::TfCrop || !roi) return;
  std::vector<int64_t> ax = op.resized_axes(static_cast<int64_t>(rank));
  LR_CHECK(roi->numel() == static_cast<int64_t>(2 * ax.size()), InputError, "roi has ",
           roi->numel(), " values, expected ", 2 * ax.size());
  for (size_t j = 0; j < ax.size(); ++j) {
    r0[ax[j]] = static_cast<float>(roi->get_f64(static_cast<int64_t>(j)));
    r1[ax[j]] = static_cast<float>(roi->get_f64(static_cast<int64_t>(j + ax.size())));
  }
}

// Writes the double v into element i of t, whatever its (numeric) dtype.
void store_any(Tensor& t, int64_t i, double v) {
  if (dtype_is_float(t.dtype())) {
    store_f64(t, i, v);
    return;
  }
  LR_DISPATCH_NUMERIC(t.dtype(), "Resize", t.ptr<T>()[i] = static_cast<T>(v));
}

// Walks a multi-index over `shape` in contiguous order.
bool next_index(std::vector<int64_t>& idx, const Shape& shape) {
  for (size_t d = shape.size(); d-- > 0;) {
    if (++idx[d] < shape[d]) return true;
    idx[d] = 0;
  }
  return false;
}

void resize_nearest(const ResizeOp& op, const Geometry& g, const Tensor* roi, const Tensor& xt,
                    Tensor& yt) {
  const Shape& in = xt.shape();
  size_t rank = in.size();
  std::vector<float> r0, r1;
  roi_of(op, roi, rank, r0, r1);
  std::vector<std::vector<int64_t>> src(rank);  // -1: extrapolate
  for (size_t a = 0; a < rank; ++a) {
    src[a].resize(g.out[a]);
    for (int64_t i = 0; i < g.out[a]; ++i) {
      float s = op.source(i, g.scales[a], g.out[a], in[a], r0[a], r1[a]);
      if (op.extrapolates(s, in[a])) {
        src[a][i] = -1;
        continue;
      }
      int64_t k = op.nearest(s, g.scales[a]);
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
    bool outside = false;
    for (size_t a = 0; a < rank; ++a) {
      int64_t k = src[a][idx[a]];
      if (k < 0) outside = true;
      else off += k * in_strides[a];
    }
    if (outside) store_any(yt, o, op.extrapolation);
    else std::memcpy(y + o * es, x + off * es, es);
    ++o;
  } while (next_index(idx, g.out));
}

struct Tap {
  int64_t idx;
  double w;
};

// linear / cubic taps of source coordinate s along an axis of length n.
std::vector<Tap> interp_taps(const ResizeOp& op, double s, int64_t n, double scale) {
  const double support = op.mode == Mode::Linear ? 1.0 : 2.0;
  const double stretch = op.antialias && scale < 1.0 ? scale : 1.0;  // kernel argument factor
  const double reach = support / stretch;
  std::vector<Tap> taps;
  const int64_t lo = static_cast<int64_t>(std::floor(s - reach));
  const int64_t hi = static_cast<int64_t>(std::ceil(s + reach));
  double sum = 0;
  for (int64_t j = lo; j <= hi; ++j) {
    double w = op.kernel((static_cast<double>(j) - s) * stretch);
    if (w == 0.0) continue;
    taps.push_back({j, w});
    sum += w;
  }
  if (op.antialias && sum != 0.0)
    for (Tap& t : taps) t.w /= sum;
  if (op.exclude_outside) {
    double in_sum = 0;
    std::vector<Tap> kept;
    for (const Tap& t : taps) {
      if (t.idx < 0 || t.idx >= n) continue;
      kept.push_back(t);
      in_sum += t.w;
    }
    if (in_sum != 0.0)
      for (Tap& t : kept) t.w /= in_sum;
    taps.swap(kept);
  }
  for (Tap& t : taps) t.idx = t.idx < 0 ? 0 : (t.idx >= n ? n - 1 : t.idx);
  return taps;
}

template <typename T>
void resize_interp(const ResizeOp& op, const Geometry& g, const Tensor* roi, const Tensor& xt,
                   Tensor& yt) {
  const Shape& in = xt.shape();
  size_t rank = in.size();
  std::vector<float> r0, r1;
  roi_of(op, roi, rank, r0, r1);
  std::vector<std::vector<std::vector<Tap>>> taps(rank);  // axis -> output index -> taps
  std::vector<std::vector<uint8_t>> outside(rank);
  for (size_t a = 0; a < rank; ++a) {
    taps[a].resize(g.out[a]);
    outside[a].assign(g.out[a], 0);
    for (int64_t i = 0; i < g.out[a]; ++i) {
      float s = op.source(i, g.scales[a], g.out[a], in[a], r0[a], r1[a]);
      if (op.extrapolates(s, in[a])) {
        outside[a][i] = 1;
        continue;
      }
      taps[a][i] = interp_taps(op, static_cast<double>(s), in[a], static_cast<double>(g.scales[a]));
    }
  }
  if (yt.numel() == 0) return;
  Shape in_strides = contiguous_strides(in);
  const T* x = xt.ptr<T>();
  T* y = yt.ptr<T>();
  std::vector<int64_t> idx(rank, 0);
  std::vector<size_t> k(rank);
  int64_t o = 0;
  do {
    bool ext = false;
    for (size_t a = 0; a < rank; ++a) ext = ext || outside[a][idx[a]];
    if (ext) {
      y[o++] = static_cast<T>(op.extrapolation);
      continue;
    }
    double acc = 0;
    std::fill(k.begin(), k.end(), 0);
    while (true) {
      double w = 1;
      int64_t off = 0;
      for (size_t a = 0; a < rank; ++a) {
        const Tap& t = taps[a][idx[a]][k[a]];
        w *= t.w;
        off += t.idx * in_strides[a];
      }
      acc += w * static_cast<double>(x[off]);
      size_t a = rank;
      while (a-- > 0) {
        if (++k[a] < taps[a][idx[a]].size()) break;
        k[a] = 0;
      }
      if (a == static_cast<size_t>(-1)) break;
    }
    y[o++] = static_cast<T>(acc);
  } while (next_index(idx, g.out));
}

void resize_naive(const ResizeOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  Tensor& yt = ctx.output(0);
  Geometry g = op.geometry(xt.shape(), given(ctx, 2), given(ctx, 3));
  LR_CHECK(g.out == yt.shape(), InternalError, "Resize output shape changed since compile");
  const Tensor* roi = given(ctx, 1);
  if (op.mode == Mode::Nearest) {
    resize_nearest(op, g, roi, xt, yt);
    return;
  }
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    const Tensor* r = given(c, 1);
    LR_DISPATCH_FLOAT(c.input(0).dtype(), "Resize",
                      resize_interp<T>(op, g, r, c.input(0), c.output(0)));
  });
}

const auto kNaive = naive_algo<ResizeOp>(resize_naive);

// Two taps (i0, w0), (i1, w1) per output coordinate along one axis, from the
// same taps NAIVE uses (one tap: w1 = 0).
struct Tap2 {
  int64_t i0, i1;
  float w0, w1;
};

bool linear_table(const ResizeOp& op, const Geometry& g, const Shape& in, size_t a,
                  std::vector<Tap2>& t) {
  t.resize(g.out[a]);
  for (int64_t i = 0; i < g.out[a]; ++i) {
    float s = op.source(i, g.scales[a], g.out[a], in[a]);
    std::vector<Tap> taps = interp_taps(op, static_cast<double>(s), in[a],
                                        static_cast<double>(g.scales[a]));
    if (taps.empty() || taps.size() > 2) return false;
    t[i].i0 = taps[0].idx;
    t[i].w0 = static_cast<float>(taps[0].w);
    t[i].i1 = taps.size() == 2 ? taps[1].idx : taps[0].idx;
    t[i].w1 = taps.size() == 2 ? static_cast<float>(taps[1].w) : 0.f;
  }
  return true;
}

void nearest_table(const ResizeOp& op, const Geometry& g, const Shape& in, size_t a,
                   std::vector<int64_t>& t) {
  t.resize(g.out[a]);
  for (int64_t i = 0; i < g.out[a]; ++i) {
    float s = op.source(i, g.scales[a], g.out[a], in[a]);
    int64_t k = op.nearest(s, g.scales[a]);
    t[i] = k < 0 ? 0 : (k >= in[a] ? in[a] - 1 : k);
  }
}

// Does the mapping along axis a leave every index where it is?
bool identity_axis(const ResizeOp& op, const Geometry& g, const Shape& in, size_t a) {
  if (g.out[a] != in[a]) return false;
  if (op.mode == Mode::Nearest) {
    std::vector<int64_t> t;
    nearest_table(op, g, in, a, t);
    for (int64_t i = 0; i < in[a]; ++i)
      if (t[i] != i) return false;
    return true;
  }
  std::vector<Tap2> t;
  if (!linear_table(op, g, in, a, t)) return false;
  for (int64_t i = 0; i < in[a]; ++i) {
    bool one = (t[i].i0 == i && t[i].w0 == 1.f && t[i].w1 == 0.f) ||
               (t[i].i1 == i && t[i].w1 == 1.f && t[i].w0 == 0.f);
    if (!one) return false;
  }
  return true;
}

// Output rows [begin, end) of all planes (row index = plane * oh + r).
void resize_fast_nearest(const float* x, float* y, int64_t begin, int64_t end, int64_t ih,
                         int64_t iw, int64_t oh, int64_t ow, const std::vector<int64_t>& sh,
                         const std::vector<int64_t>& sw) {
  int64_t r = begin % oh;
  const float* xp = x + (begin / oh) * ih * iw;
  for (int64_t q = begin; q < end; ++q, ++r) {
    if (r == oh) {  // the next plane
      r = 0;
      xp += ih * iw;
    }
    float* yr = y + q * ow;
    if (r > 0 && q > begin && sh[r] == sh[r - 1]) {
      std::memcpy(yr, yr - ow, static_cast<size_t>(ow) * sizeof(float));
      continue;
    }
    const float* xr = xp + sh[r] * iw;
    for (int64_t c = 0; c < ow; ++c) yr[c] = xr[sw[c]];
  }
}

// Output rows [begin, end) of all planes; each output row is the same
// weighted sum of two horizontally interpolated source rows whichever rows
// the two-row cache happens to hold.
void resize_fast_linear(const float* x, float* y, int64_t begin, int64_t end, int64_t ih,
                        int64_t iw, int64_t oh, int64_t ow, const std::vector<Tap2>& th,
                        const std::vector<Tap2>& tw) {
  std::vector<float> buf(static_cast<size_t>(2 * ow));
  float* rows[2] = {buf.data(), buf.data() + ow};
  int64_t have[2] = {-1, -1};  // source row (plane * ih + row) held by rows[k]
  const float* xp = x;
  int64_t base = 0;  // plane * ih of the current plane
  auto horiz = [&](int64_t src, float* dst) {
    const float* xr = xp + src * iw;
    for (int64_t c = 0; c < ow; ++c) dst[c] = tw[c].w0 * xr[tw[c].i0] + tw[c].w1 * xr[tw[c].i1];
  };
  auto get = [&](int64_t src, int64_t keep) -> const float* {
    for (int k = 0; k < 2; ++k)
      if (have[k] == base + src) return rows[k];
    int k = have[0] == base + keep ? 1 : 0;  // do not evict the row still needed
    horiz(src, rows[k]);
    have[k] = base + src;
    return rows[k];
  };
  int64_t r = begin % oh;
  xp = x + (begin / oh) * ih * iw;
  base = (begin / oh) * ih;
  for (int64_t q = begin; q < end; ++q, ++r) {
    if (r == oh) {  // the next plane
      r = 0;
      xp += ih * iw;
      base += ih;
    }
    const Tap2& t = th[r];
    float* yr = y + q * ow;
    if (t.w1 == 0.f) {
      const float* a = get(t.i0, -1);
      for (int64_t c = 0; c < ow; ++c) yr[c] = t.w0 * a[c];
      continue;
    }
    const float* a = get(t.i0, t.i1);
    const float* b = get(t.i1, t.i0);
    for (int64_t c = 0; c < ow; ++c) yr[c] = t.w0 * a[c] + t.w1 * b[c];
  }
}

class ResizeFast final : public Algo {
 public:
  const char* name() const override { return "RESIZE_FAST"; }
  uint32_t attributes() const override { return REPRODUCIBLE; }
  bool usable(const Op& op_, const InLayouts& in, const OutLayouts& out) const override {
    const auto& op = static_cast<const ResizeOp&>(op_);
    if (in.empty() || !in[0] || out.empty()) return false;
    const Layout& x = *in[0];
    const Layout& y = out[0];
    if (x.dtype != DType::Float32 || x.ndim() != 4 || y.ndim() != 4 || x.numel() < 0 ||
        y.numel() < 0)
      return false;
    if (op.mode == Mode::Cubic || op.coord == Coord::TfCrop || op.antialias || op.exclude_outside)
      return false;
    return y.shape[0] == x.shape[0] && y.shape[1] == x.shape[1];
  }
  void exec(const Op& op_, const KernCtx& ctx) const override {
    const auto& op = static_cast<const ResizeOp&>(op_);
    const Tensor& xt = ctx.input(0);
    Tensor& yt = ctx.output(0);
    const Shape& in = xt.shape();
    Geometry g = op.geometry(in, given(ctx, 2), given(ctx, 3));
    LR_CHECK(g.out == yt.shape(), InternalError, "Resize output shape changed since compile");
    if (yt.numel() == 0) return;
    if (!identity_axis(op, g, in, 0) || !identity_axis(op, g, in, 1)) {
      resize_naive(op, ctx);  // scales that move N or C: the general loops
      return;
    }
    const int64_t planes = in[0] * in[1];
    if (op.mode == Mode::Nearest) {
      std::vector<int64_t> sh, sw;
      nearest_table(op, g, in, 2, sh);
      nearest_table(op, g, in, 3, sw);
      kernels::split_items(ctx.comp_node, planes * g.out[2], 8.0 * static_cast<double>(g.out[3]),
                           [&](int64_t b, int64_t e, int) {
                             resize_fast_nearest(xt.ptr<float>(), yt.ptr<float>(), b, e, in[2],
                                                 in[3], g.out[2], g.out[3], sh, sw);
                           });
      return;
    }
    std::vector<Tap2> th, tw;
    if (!linear_table(op, g, in, 2, th) || !linear_table(op, g, in, 3, tw)) {
      resize_naive(op, ctx);
      return;
    }
    kernels::split_items(ctx.comp_node, planes * g.out[2], 24.0 * static_cast<double>(g.out[3]),
                         [&](int64_t b, int64_t e, int) {
                           resize_fast_linear(xt.ptr<float>(), yt.ptr<float>(), b, e, in[2],
                                              in[3], g.out[2], g.out[3], th, tw);
                         });
  }
};

const ResizeFast kResizeFast;

}  // namespace

void register_op_Resize(OpRegistry& r) {
  register_simple<ResizeOp>(r, "Resize", {&kNaive, &kResizeFast}, 1, 4);
}

}  // namespace loadrun
