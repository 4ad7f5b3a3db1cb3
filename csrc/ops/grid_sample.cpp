// GridSample (ONNX opset 20+; opset 16's bilinear/bicubic are the same as
// linear/cubic): Y[n, c, o...] samples X[n, c] (r spatial dims, any r >= 1)
// at the normalised position grid[n, o..., :], whose last dim lists the
// coordinates fastest-dim first (x = width, then height, then depth).
// A normalised g in [-1, 1] maps to the pixel coordinate
//   align_corners=1: (g + 1) / 2 * (size - 1)
//   align_corners=0: ((g + 1) * size - 1) / 2.
// mode: nearest (round half to even), linear (2 taps per dim) or cubic (4
// taps per dim, Keys kernel with a = -0.75). padding_mode decides what lies
// outside: zeros (taps outside read 0), border (coordinates and taps clamp
// to the edge) or reflection (coordinates and taps reflect off the borders,
// which are the outer pixel edges, or the edge pixel centres when
// align_corners=1). As in ONNX Runtime and the ONNX reference, a coordinate
// outside the borders is padded first, then each tap index again; except
// that cubic mode with border padding clamps only the taps (ONNX Runtime,
// and PyTorch, do so; the reference would clamp the coordinate too, and has
// no conformance case for it).
// float16 computes in float32; weights and sums are in double.
// NAIVE: for each output position, per-dim tap lists (index, weight), then a
// sum over their product; the channel loop reuses the taps.
// O(N * prod(out) * (C * taps^r + r)).
#include <cmath>

#include "ops/common.h"

namespace loadrun {

namespace {

enum class GsMode { Nearest, Linear, Cubic };
enum class GsPad { Zeros, Border, Reflection };

struct GridSampleOp final : Op {
  GsMode mode;
  GsPad pad;
  bool align_corners;
  explicit GridSampleOp(const Attrs& a) : align_corners(a.get_int("align_corners", 0) != 0) {
    std::string m = a.get_string("mode", "linear");
    if (m == "nearest") mode = GsMode::Nearest;
    else if (m == "linear" || m == "bilinear") mode = GsMode::Linear;
    else if (m == "cubic" || m == "bicubic") mode = GsMode::Cubic;
    else LR_THROW(ModelError, "GridSample: mode must be nearest, linear or cubic, got '", m, "'");
    std::string p = a.get_string("padding_mode", "zeros");
    if (p == "zeros") pad = GsPad::Zeros;
    else if (p == "border") pad = GsPad::Border;
    else if (p == "reflection") pad = GsPad::Reflection;
    else LR_THROW(ModelError, "GridSample: padding_mode must be zeros, border or reflection, got '",
                  p, "'");
  }
  std::string param_key() const override {
    return str_cat(static_cast<int>(mode), ";", static_cast<int>(pad), ";", align_corners);
  }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& g = ctx.input(1);
    auto fl = [](DType d) {
      return dtype_is_compute_float(d);
    };
    LR_CHECK(fl(x.dtype), UnsupportedError, "GridSample on ", dtype_name(x.dtype),
             ": supported are float16, float32, float64");
    LR_CHECK(fl(g.dtype), ModelError, "GridSample: grid must be a float tensor, got ",
             dtype_name(g.dtype));
    LR_CHECK(x.ndim() >= 3, ModelError, "GridSample: X must be (N, C, d1..dr), got ",
             shape_str(x.shape));
    const size_t r = x.ndim() - 2;
    LR_CHECK(g.ndim() == r + 2 && g.shape[0] == x.shape[0] &&
                 g.shape.back() == static_cast<int64_t>(r),
             ModelError, "GridSample: grid must be (N, D1_out..Dr_out, ", r, ") for X ",
             shape_str(x.shape), ", got ", shape_str(g.shape));
    Shape os{x.shape[0], x.shape[1]};
    os.insert(os.end(), g.shape.begin() + 1, g.shape.end() - 1);
    ctx.set_output(0, os, x.dtype);
  }

  // Reflect v into [lo, hi] (repeatedly, by the nearer border).
  static double reflect(double v, double lo, double hi) {
    double range = hi - lo;
    if (range <= 0) return lo;
    if (v < lo) {
      double d = lo - v;
      int64_t k = static_cast<int64_t>(d / range);
      double rem = d - static_cast<double>(k) * range;
      return k % 2 == 0 ? lo + rem : hi - rem;
    }
    if (v > hi) {
      double d = v - hi;
      int64_t k = static_cast<int64_t>(d / range);
      double rem = d - static_cast<double>(k) * range;
      return k % 2 == 0 ? hi - rem : lo + rem;
    }
    return v;
  }
  double lo_border(int64_t size) const { return align_corners ? 0.0 : -0.5; }
  double hi_border(int64_t size) const {
    return align_corners ? static_cast<double>(size - 1) : static_cast<double>(size) - 0.5;
  }
  // Index actually read for tap i along a dim of `size`; -1 reads zero.
  int64_t tap_index(int64_t i, int64_t size) const {
    switch (pad) {
      case GsPad::Zeros: return i >= 0 && i < size ? i : -1;
      case GsPad::Border: return i < 0 ? 0 : (i >= size ? size - 1 : i);
      case GsPad::Reflection: {
        double v = reflect(static_cast<double>(i), lo_border(size), hi_border(size));
        int64_t k = static_cast<int64_t>(v);
        return k < 0 ? 0 : (k >= size ? size - 1 : k);
      }
    }
    return -1;
  }
};

double cubic_w(double t) {  // Keys kernel, a = -0.75
  const double a = -0.75;
  t = std::fabs(t);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

struct Tap {
  int64_t idx;  // -1: reads zero
  double w;
};

template <typename T>
void grid_sample_t(const GridSampleOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const Tensor& gt = ctx.input(1);
  Tensor& yt = ctx.output(0);
  const Shape& xs = xt.shape();
  const size_t r = xs.size() - 2;
  const int64_t n = xs[0], c = xs[1];
  const int64_t in_plane = dims_product(xs, 2, xs.size());
  const int64_t out_plane = dims_product(gt.shape(), 1, gt.ndim() - 1);
  Shape xst = contiguous_strides(Shape(xs.begin() + 2, xs.end()));
  const T* x = xt.ptr<T>();
  T* y = yt.ptr<T>();
  std::vector<std::vector<Tap>> taps(r);
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t o = 0; o < out_plane; ++o) {
      for (size_t d = 0; d < r; ++d) {
        // grid lists x (last dim) first.
        double g = gt.get_f64((b * out_plane + o) * static_cast<int64_t>(r) +
                              static_cast<int64_t>(r - 1 - d));
        int64_t size = xs[2 + d];
        // In float32, as the ONNX reference and ONNX Runtime compute it.
        float gf = static_cast<float>(g), sf = static_cast<float>(size);
        double v = op.align_corners ? (gf + 1.0f) / 2.0f * (sf - 1.0f)
                                    : ((gf + 1.0f) * sf - 1.0f) / 2.0f;
        if (op.mode == GsMode::Nearest) v = std::nearbyint(v);
        double lo = op.lo_border(size), hi = op.hi_border(size);
        if (v < lo || v > hi) {
          if (op.pad == GsPad::Border && op.mode != GsMode::Cubic)
            v = v < 0 ? 0 : (v > size - 1 ? size - 1 : v);
          else if (op.pad == GsPad::Reflection) v = GridSampleOp::reflect(v, lo, hi);
        }
        std::vector<Tap>& t = taps[d];
        t.clear();
        if (op.mode == GsMode::Nearest) {
          t.push_back({op.tap_index(static_cast<int64_t>(v), size), 1.0});
        } else if (op.mode == GsMode::Linear) {
          double f = std::floor(v);
          int64_t i0 = static_cast<int64_t>(f);
          double frac = v - f;
          t.push_back({op.tap_index(i0, size), 1 - frac});
          t.push_back({op.tap_index(i0 + 1, size), frac});
        } else {
          double f = std::floor(v);
          int64_t i0 = static_cast<int64_t>(f);
          double frac = v - f;
          for (int64_t k = -1; k <= 2; ++k)
            t.push_back({op.tap_index(i0 + k, size), cubic_w(frac - static_cast<double>(k))});
        }
      }
      for (int64_t ch = 0; ch < c; ++ch) {
        const T* xp = x + (b * c + ch) * in_plane;
        double acc = 0;
        std::vector<size_t> k(r, 0);
        while (true) {
          double w = 1;
          int64_t off = 0;
          bool zero = false;
          for (size_t d = 0; d < r; ++d) {
            const Tap& tp = taps[d][k[d]];
            w *= tp.w;
            if (tp.idx < 0) zero = true;
            else off += tp.idx * xst[d];
          }
          if (!zero && w != 0) acc += w * static_cast<double>(xp[off]);
          size_t d = r;
          while (d-- > 0) {
            if (++k[d] < taps[d].size()) break;
            k[d] = 0;
          }
          if (d == static_cast<size_t>(-1)) break;
        }
        y[(b * c + ch) * out_plane + o] = static_cast<T>(acc);
      }
    }
  }
}

void grid_sample_naive(const GridSampleOp& op, const KernCtx& ctx) {
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    LR_DISPATCH_FLOAT(c.input(0).dtype(), "GridSample", grid_sample_t<T>(op, c));
  });
}

const auto kNaive = naive_algo<GridSampleOp>(grid_sample_naive);

}  // namespace

void register_op_GridSample(OpRegistry& r) {
  register_simple<GridSampleOp>(r, "GridSample", {&kNaive}, 2, 2);
}

}  // namespace loadrun
