// DeformConv (ONNX opset 19/22): a convolution whose sampling points move.
// X (N, C, D1..Dk), W (OC, C/group, K1..Kk), offset (N, offset_group *
// prod(K) * k, O1..Ok), optional B (OC) and mask (N, offset_group * prod(K),
// O1..Ok). Output sizes follow
// Conv's (strides, dilations, pads; no auto_pad) and must match offset's.
// For output position o, kernel position j and an input channel c of offset
// group g: the sampling point is, per spatial dim d,
//   p_d = o_d * stride_d - pad_begin_d + j_d * dilation_d + offset[n, (g *
//         prod(K) + j) * k + d, o],
// X[n, c] is read there by multilinear (2-D: bilinear) interpolation with
// zeros outside the input, multiplied by mask[n, g * prod(K) + j, o] (1
// without a mask), and Y[n, oc, o] = B[oc] + sum over c of oc's group and j
// of W[oc, c', j] * that value. Any number of spatial dims >= 1. Types:
// float32, float64; float16 / bfloat16 compute in float32.
// NAIVE: per (n, output position): the sampled, masked values of every input
// channel and kernel position into a column buffer (2^k corner reads each),
// then one dot product per output channel, accumulated in double.
// O(N * prod(O) * prod(K) * (C * 2^k + OC * C/group)), buffer C * prod(K).
#include <cmath>

#include "ops/common.h"
#include "ops/spatial.h"

namespace loadrun {

namespace {

struct DeformConvOp final : Op {
  SpatialParams sp;
  int64_t group, offset_group;
  explicit DeformConvOp(const Attrs& a)
      : sp(SpatialParams::from_attrs(a)),
        group(a.get_int("group", 1)),
        offset_group(a.get_int("offset_group", 1)) {
    LR_CHECK(group >= 1, ModelError, "DeformConv: group must be >= 1, got ", group);
    LR_CHECK(offset_group >= 1, ModelError, "DeformConv: offset_group must be >= 1, got ",
             offset_group);
    LR_CHECK(sp.auto_pad == "NOTSET", ModelError, "DeformConv has no auto_pad");
  }
  std::string param_key() const override {
    return str_cat(sp.key(), ";g", group, ";og", offset_group);
  }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& w = ctx.input(1);
    const Layout& off = ctx.input(2);
    LR_CHECK(x.ndim() >= 3, ModelError, "DeformConv: X must have rank >= 3 (N, C, spatial...), got ",
             shape_str(x.shape));
    LR_CHECK(dtype_is_compute_float(x.dtype), UnsupportedError, "DeformConv on ",
             dtype_name(x.dtype), ": supported are float16, bfloat16, float32, float64");
    const size_t nd = x.ndim() - 2;
    LR_CHECK(w.ndim() == x.ndim(), ModelError, "DeformConv: W rank ", w.ndim(), " != X rank ",
             x.ndim());
    for (size_t i = 1; i < ctx.num_inputs(); ++i) {
      if (!ctx.has(i)) continue;
      LR_CHECK(ctx.input(i).dtype == x.dtype, ModelError, "DeformConv: input ", i, " is ",
               dtype_name(ctx.input(i).dtype), " but X is ", dtype_name(x.dtype));
    }
    const int64_t c = x.shape[1], oc = w.shape[0];
    LR_CHECK(c == w.shape[1] * group, ModelError, "DeformConv: X has ", c,
             " channels, W expects ", w.shape[1], " x group ", group);
    LR_CHECK(oc % group == 0, ModelError, "DeformConv: ", oc,
             " output channels are not divisible by group ", group);
    LR_CHECK(c % offset_group == 0, ModelError, "DeformConv: ", c,
             " channels are not divisible by offset_group ", offset_group);
    std::vector<int64_t> in(x.shape.begin() + 2, x.shape.end());
    std::vector<int64_t> k(w.shape.begin() + 2, w.shape.end());
    LR_CHECK(sp.kernel.empty() || sp.kernel == k, ModelError, "DeformConv: kernel_shape ",
             shape_str(sp.kernel), " disagrees with W ", shape_str(k));
    std::vector<int64_t> out = sp.resolve(in, k, nullptr);
    const int64_t kn = shape_numel(k);
    Shape want_off{x.shape[0], offset_group * kn * static_cast<int64_t>(nd)};
    want_off.insert(want_off.end(), out.begin(), out.end());
    LR_CHECK(off.shape == want_off, ModelError, "DeformConv: offset has shape ",
             shape_str(off.shape), ", expected ", shape_str(want_off));
    if (ctx.has(3)) {
      LR_CHECK(ctx.input(3).shape == Shape({oc}), ModelError, "DeformConv: B has shape ",
               shape_str(ctx.input(3).shape), ", expected {", oc, "}");
    }
    if (ctx.has(4)) {
      Shape want_mask{x.shape[0], offset_group * kn};
      want_mask.insert(want_mask.end(), out.begin(), out.end());
      LR_CHECK(ctx.input(4).shape == want_mask, ModelError, "DeformConv: mask has shape ",
               shape_str(ctx.input(4).shape), ", expected ", shape_str(want_mask));
    }
    Shape os{x.shape[0], oc};
    os.insert(os.end(), out.begin(), out.end());
    ctx.set_output(0, os, x.dtype);
  }
};

template <typename T>
void deform_conv_naive_t(const DeformConvOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const Tensor& wt = ctx.input(1);
  Tensor& yt = ctx.output(0);
  const Shape& xs = xt.shape();
  const Shape& ws = wt.shape();
  const Shape& ys = yt.shape();
  const size_t nd = xs.size() - 2;
  std::vector<int64_t> in(xs.begin() + 2, xs.end()), k(ws.begin() + 2, ws.end()), pads;
  std::vector<int64_t> out = op.sp.resolve(in, k, &pads);
  auto at = [](const std::vector<int64_t>& v, size_t i) { return v.empty() ? int64_t(1) : v[i]; };
  const int64_t N = xs[0], C = xs[1], OC = ys[1];
  const int64_t in_n = dims_product(xs, 2, xs.size()), out_n = dims_product(ys, 2, ys.size());
  const int64_t kn = dims_product(ws, 2, ws.size());
  const int64_t cg = C / op.group, ocg = OC / op.group, c_per_og = C / op.offset_group;
  const T* x = xt.ptr<T>();
  const T* w = wt.ptr<T>();
  const T* off = ctx.input(2).ptr<T>();
  const T* bias = ctx.has(3) ? ctx.input(3).ptr<T>() : nullptr;
  const T* mask = ctx.has(4) ? ctx.input(4).ptr<T>() : nullptr;
  T* y = yt.ptr<T>();
  Shape in_strides = contiguous_strides(Shape(in.begin(), in.end()));

  std::vector<double> col(static_cast<size_t>(C * kn));
  std::vector<int64_t> opos(nd, 0), kpos(nd), lo(nd);
  std::vector<double> p(nd), frac(nd);
  const int64_t corners = int64_t(1) << nd;
  for (int64_t n = 0; n < N; ++n) {
    std::fill(opos.begin(), opos.end(), 0);
    for (int64_t o = 0; o < out_n; ++o) {
      for (int64_t g = 0; g < op.offset_group; ++g) {
        std::fill(kpos.begin(), kpos.end(), 0);
        for (int64_t j = 0; j < kn; ++j) {
          const int64_t oc_base = (n * op.offset_group + g) * kn + j;  // (n, g, j) channel
          for (size_t d = 0; d < nd; ++d) {
            double shift = static_cast<double>(off[(oc_base * nd + d) * out_n + o]);
            p[d] = static_cast<double>(opos[d] * at(op.sp.strides, d) - pads[d] +
                                       kpos[d] * at(op.sp.dilations, d)) + shift;
            if (!(p[d] > -2.0 && p[d] < static_cast<double>(in[d]) + 1.0)) {
              lo[d] = -2, frac[d] = 0.0;  // far outside (or NaN): reads zeros
              continue;
            }
            double f = std::floor(p[d]);
            lo[d] = static_cast<int64_t>(f);
            frac[d] = p[d] - f;
          }
          const double m = mask ? static_cast<double>(mask[oc_base * out_n + o]) : 1.0;
          // Corner weights and offsets (shared by the group's channels).
          double cw[64];
          int64_t coff[64];
          bool cin[64];
          for (int64_t cc = 0; cc < corners; ++cc) {
            double wgt = 1.0;
            int64_t ofs = 0;
            bool inside = true;
            for (size_t d = 0; d < nd && inside; ++d) {
              int64_t hi = (cc >> (nd - 1 - d)) & 1;
              int64_t idx = lo[d] + hi;
              inside = idx >= 0 && idx < in[d];
              wgt *= hi ? frac[d] : 1.0 - frac[d];
              ofs += idx * in_strides[d];
            }
            cin[cc] = inside;
            cw[cc] = wgt;
            coff[cc] = ofs;
          }
          for (int64_t c = g * c_per_og; c < (g + 1) * c_per_og; ++c) {
            const T* xc = x + (n * C + c) * in_n;
            double v = 0;
            for (int64_t cc = 0; cc < corners; ++cc)
              if (cin[cc]) v += cw[cc] * static_cast<double>(xc[coff[cc]]);
            col[c * kn + j] = v * m;
          }
          for (size_t d = nd; d-- > 0;) {
            if (++kpos[d] < k[d]) break;
            kpos[d] = 0;
          }
        }
      }
      for (int64_t oc = 0; oc < OC; ++oc) {
        const int64_t g = oc / ocg;
        double acc = bias ? static_cast<double>(bias[oc]) : 0.0;
        for (int64_t cl = 0; cl < cg; ++cl) {
          const T* wp = w + (oc * cg + cl) * kn;
          const double* cp = col.data() + (g * cg + cl) * kn;
          for (int64_t j = 0; j < kn; ++j) acc += static_cast<double>(wp[j]) * cp[j];
        }
        y[(n * OC + oc) * out_n + o] = static_cast<T>(acc);
      }
      for (size_t d = nd; d-- > 0;) {
        if (++opos[d] < out[d]) break;
        opos[d] = 0;
      }
    }
  }
}

void deform_conv_naive(const DeformConvOp& op, const KernCtx& ctx) {
  LR_CHECK(ctx.input(0).ndim() - 2 <= 6, UnsupportedError,
           "DeformConv on more than 6 spatial dims is not supported");
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    LR_DISPATCH_FLOAT(c.input(0).dtype(), "DeformConv", deform_conv_naive_t<T>(op, c));
  });
}

const auto kNaive = naive_algo<DeformConvOp>(deform_conv_naive);

}  // namespace

void register_op_DeformConv(OpRegistry& r) {
  register_simple<DeformConvOp>(r, "DeformConv", {&kNaive}, 3, 5);
}

}  // namespace loadrun
