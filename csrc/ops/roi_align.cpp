// RoiAlign (ONNX opset 16; opset 10 is the same with
// coordinate_transformation_mode output_half_pixel, which the importer sets):
// X (N, C, H, W), rois (R, 4) as x1, y1, x2, y2 in input-image coordinates,
// batch_indices (R) int64; Y (R, C, output_height, output_width).
// Each RoI, scaled by spatial_scale (and shifted by -0.5 in half_pixel mode;
// output_half_pixel instead widens RoIs narrower than 1 to 1), is cut into
// output_height x output_width bins; each bin samples a grid of
// sampling_ratio (or, when 0, ceil(bin size)) points per side at the
// sub-cell centres, each point bilinearly interpolated. Points beyond one
// pixel outside the image count as 0; others clamp to the image. mode avg
// averages the points; mode max takes the largest of the four weighted
// corner terms of any point (ONNX Runtime's definition, which the reference
// follows). float16 computes in float32; arithmetic in double.
// NAIVE: per (roi, channel, bin) loops over the sample points.
// O(R * C * out_h * out_w * samples).
#include <algorithm>
#include <cmath>

#include "ops/common.h"

namespace loadrun {

namespace {

struct RoiAlignOp final : Op {
  bool half_pixel, is_max;
  int64_t out_h, out_w, sampling_ratio;
  double spatial_scale;
  explicit RoiAlignOp(const Attrs& a)
      : out_h(a.get_int("output_height", 1)),
        out_w(a.get_int("output_width", 1)),
        sampling_ratio(a.get_int("sampling_ratio", 0)),
        spatial_scale(a.get_float("spatial_scale", 1.0)) {
    std::string ct = a.get_string("coordinate_transformation_mode", "half_pixel");
    LR_CHECK(ct == "half_pixel" || ct == "output_half_pixel", ModelError,
             "RoiAlign: coordinate_transformation_mode must be half_pixel or output_half_pixel, "
             "got '", ct, "'");
    half_pixel = ct == "half_pixel";
    std::string m = a.get_string("mode", "avg");
    LR_CHECK(m == "avg" || m == "max", ModelError, "RoiAlign: mode must be avg or max, got '", m,
             "'");
    is_max = m == "max";
    LR_CHECK(out_h >= 1 && out_w >= 1, ModelError, "RoiAlign: output_height/width must be >= 1");
    LR_CHECK(sampling_ratio >= 0, ModelError, "RoiAlign: sampling_ratio must be >= 0, got ",
             sampling_ratio);
  }
  std::string param_key() const override {
    return str_cat(half_pixel, ";", is_max, ";", out_h, ";", out_w, ";", sampling_ratio, ";",
                   spatial_scale);
  }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& rois = ctx.input(1);
    const Layout& bi = ctx.input(2);
    LR_CHECK(dtype_is_compute_float(x.dtype),
             UnsupportedError, "RoiAlign on ", dtype_name(x.dtype),
             ": supported are float16, bfloat16, float32, float64");
    LR_CHECK(x.ndim() == 4, ModelError, "RoiAlign: X must be (N, C, H, W), got ",
             shape_str(x.shape));
    LR_CHECK(rois.ndim() == 2 && rois.shape[1] == 4 && rois.dtype == x.dtype, ModelError,
             "RoiAlign: rois must be (R, 4) of X's dtype, got ", rois.str());
    LR_CHECK(bi.ndim() == 1 && bi.shape[0] == rois.shape[0] && !dtype_is_float(bi.dtype) &&
                 bi.dtype != DType::Bool,
             ModelError, "RoiAlign: batch_indices must be (", rois.shape[0],
             ") integers, got ", bi.str());
    ctx.set_output(0, {rois.shape[0], x.shape[1], out_h, out_w}, x.dtype);
  }
};

template <typename T>
void roi_align_t(const RoiAlignOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const Tensor& bt = ctx.input(2);
  const int64_t n = xt.shape()[0], c = xt.shape()[1], h = xt.shape()[2], w = xt.shape()[3];
  const int64_t nr = ctx.input(1).shape()[0];
  const T* x = xt.ptr<T>();
  const T* rois = ctx.input(1).ptr<T>();
  T* y = ctx.output(0).ptr<T>();
  const double off = op.half_pixel ? 0.5 : 0.0;
  for (int64_t r = 0; r < nr; ++r) {
    int64_t b = bt.get_i64(r);
    LR_CHECK(b >= 0 && b < n, InputError, "RoiAlign: batch index ", b, " of roi ", r,
             " is outside [0, ", n, ")");
    double x1 = static_cast<double>(rois[r * 4 + 0]) * op.spatial_scale - off;
    double y1 = static_cast<double>(rois[r * 4 + 1]) * op.spatial_scale - off;
    double x2 = static_cast<double>(rois[r * 4 + 2]) * op.spatial_scale - off;
    double y2 = static_cast<double>(rois[r * 4 + 3]) * op.spatial_scale - off;
    double rw = x2 - x1, rh = y2 - y1;
    if (!op.half_pixel) {
      rw = std::max(rw, 1.0);
      rh = std::max(rh, 1.0);
    }
    const double bh = rh / static_cast<double>(op.out_h), bw = rw / static_cast<double>(op.out_w);
    const int64_t gh = op.sampling_ratio > 0 ? op.sampling_ratio
                                             : static_cast<int64_t>(std::ceil(rh / op.out_h));
    const int64_t gw = op.sampling_ratio > 0 ? op.sampling_ratio
                                             : static_cast<int64_t>(std::ceil(rw / op.out_w));
    const double count = static_cast<double>(std::max<int64_t>(gh * gw, 1));
    for (int64_t ch = 0; ch < c; ++ch) {
      const T* xp = x + (b * c + ch) * h * w;
      T* yp = y + (r * c + ch) * op.out_h * op.out_w;
      for (int64_t ph = 0; ph < op.out_h; ++ph) {
        for (int64_t pw = 0; pw < op.out_w; ++pw) {
          double acc = 0;
          bool first = true;
          for (int64_t iy = 0; iy < gh; ++iy) {
            double sy = y1 + ph * bh + (iy + 0.5) * bh / static_cast<double>(gh);
            for (int64_t ix = 0; ix < gw; ++ix) {
              double sx = x1 + pw * bw + (ix + 0.5) * bw / static_cast<double>(gw);
              double terms[4] = {0, 0, 0, 0};
              if (!(sy < -1.0 || sy > h || sx < -1.0 || sx > w)) {
                double yy = std::max(sy, 0.0), xx = std::max(sx, 0.0);
                int64_t y0 = static_cast<int64_t>(yy), x0 = static_cast<int64_t>(xx), y1i, x1i;
                if (y0 >= h - 1) {
                  y0 = y1i = h - 1;
                  yy = static_cast<double>(y0);
                } else {
                  y1i = y0 + 1;
                }
                if (x0 >= w - 1) {
                  x0 = x1i = w - 1;
                  xx = static_cast<double>(x0);
                } else {
                  x1i = x0 + 1;
                }
                double ly = yy - y0, lx = xx - x0, hy = 1 - ly, hx = 1 - lx;
                terms[0] = hy * hx * static_cast<double>(xp[y0 * w + x0]);
                terms[1] = hy * lx * static_cast<double>(xp[y0 * w + x1i]);
                terms[2] = ly * hx * static_cast<double>(xp[y1i * w + x0]);
                terms[3] = ly * lx * static_cast<double>(xp[y1i * w + x1i]);
              }
              if (op.is_max) {
                double v = std::max(std::max(terms[0], terms[1]), std::max(terms[2], terms[3]));
                acc = first ? v : std::max(acc, v);
                first = false;
              } else {
                acc += terms[0] + terms[1] + terms[2] + terms[3];
              }
            }
          }
          yp[ph * op.out_w + pw] = static_cast<T>(op.is_max ? acc : acc / count);
        }
      }
    }
  }
}

void roi_align_naive(const RoiAlignOp& op, const KernCtx& ctx) {
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    LR_DISPATCH_FLOAT(c.input(0).dtype(), "RoiAlign", roi_align_t<T>(op, c));
  });
}

const auto kNaive = naive_algo<RoiAlignOp>(roi_align_naive);

}  // namespace

void register_op_RoiAlign(OpRegistry& r) {
  register_simple<RoiAlignOp>(r, "RoiAlign", {&kNaive}, 3, 3);
}

}  // namespace loadrun
