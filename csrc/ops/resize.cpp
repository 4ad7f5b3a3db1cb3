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
// RESIZE_FAST, the float32 NCHW fast algorithm: resize_fast.cpp.
#include "ops/resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace loadrun {
namespace resize {

ResizeOp::ResizeOp(const Attrs& a)
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

std::string ResizeOp::param_key() const {
  std::string r = mode_s + ";" + coord_s + ";" + round_s + ";" + policy + ";a";
  for (int64_t v : axes) r += "," + std::to_string(v);
  r += str_cat(";", antialias, ";", cubic_a, ";", extrapolation, ";", exclude_outside);
  return r;
}

std::vector<int64_t> ResizeOp::resized_axes(int64_t rank) const {
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

Geometry ResizeOp::geometry(const Shape& in, const Tensor* scales, const Tensor* sizes) const {
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

void ResizeOp::infer(InferCtx& ctx) const {
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

const Tensor* given(const KernCtx& ctx, size_t i) {
  return ctx.has(i) && ctx.input(i).numel() > 0 ? &ctx.input(i) : nullptr;
}

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

namespace {

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

}  // namespace

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

namespace {

const auto kNaive = naive_algo<ResizeOp>(resize_naive);

}  // namespace
}  // namespace resize

void register_op_Resize(OpRegistry& r) {
  register_simple<resize::ResizeOp>(r, "Resize", {&resize::kNaive, resize::resize_fast_algo()},
                                    1, 4);
}

}  // namespace loadrun
