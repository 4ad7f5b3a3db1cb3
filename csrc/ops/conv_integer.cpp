// ConvInteger and QLinearConv (ONNX): Conv (groups, strides, dilations,
// pads / auto_pad, any number of spatial dims) on int8 / uint8 input and
// weight with their zero points subtracted, accumulated in 32 bits
// (wrapping). Padding contributes nothing (it stands for the zero point).
//   ConvInteger: Y (int32) = conv(x - x_zero_point, w - w_zero_point);
//   x_zero_point is one value, w_zero_point one value or one per output
//   channel.
//   QLinearConv: acc = conv(x - x_zero_point, w - w_zero_point) + B (int32,
//   one per output channel), Y = saturate(round_half_even(acc * x_scale *
//   w_scale / y_scale) + y_zero_point) in y_zero_point's type; w_scale and
//   w_zero_point per tensor or per output channel, the rest per tensor. The
//   multiplier x_scale * w_scale / y_scale is computed in float32, then
//   acc * multiplier + y_zero_point in double (as onnx's reference).
// NAIVE: for every output element, the sum over the group's input channels
// and the kernel window, skipping taps that fall in the padding.
// O(N*OC*IC/g*prod(kernel)*prod(out)), no workspace.
// INT8_DIRECT_DOT, QLinearConv and ConvInteger (2-D, group 1 or depthwise):
// the int8 direct convolution of ops/qlinear_conv_dot.cpp, input interleaved
// into blocks of 4 channels once per image, output written back to NCHW;
// NAIVE's bytes.
#include <algorithm>
#include <cmath>

#include "ops/common.h"
#include "ops/qlinear_conv_dot.h"
#include "ops/qlinear_requant.h"
#include "ops/spatial.h"

namespace loadrun {

namespace {

bool is_q8(DType dt) { return dt == DType::Int8 || dt == DType::Uint8; }

struct ConvGeo {
  int64_t n, ic, oc, group;
  Shape in, k, out;  // spatial dims
  std::vector<int64_t> strides, dil, pads;
};

ConvGeo conv_geometry(const char* op, const SpatialParams& sp, int64_t group, const Shape& x,
                      const Shape& w) {
  LR_CHECK(x.size() >= 3, ModelError, op, ": input must be at least 3-D (N, C, spatial...), got ",
           shape_str(x));
  LR_CHECK(w.size() == x.size(), ModelError, op, ": weight rank ", w.size(), " != input rank ",
           x.size());
  LR_CHECK(group >= 1, ModelError, op, ": group must be >= 1, got ", group);
  LR_CHECK(x[1] == w[1] * group, ModelError, op, ": input has ", x[1], " channels, weight expects ",
           w[1], " x group ", group);
  LR_CHECK(w[0] % group == 0, ModelError, op, ": output channels ", w[0],
           " not divisible by group ", group);
  ConvGeo g;
  g.n = x[0];
  g.ic = x[1];
  g.oc = w[0];
  g.group = group;
  g.in.assign(x.begin() + 2, x.end());
  g.k.assign(w.begin() + 2, w.end());
  LR_CHECK(sp.kernel.empty() || sp.kernel == g.k, ModelError, op, ": kernel_shape attribute ",
           shape_str(sp.kernel), " disagrees with weight ", shape_str(g.k));
  g.out = sp.resolve(g.in, g.k, &g.pads);
  size_t r = g.in.size();
  g.strides = sp.strides.empty() ? std::vector<int64_t>(r, 1) : sp.strides;
  g.dil = sp.dilations.empty() ? std::vector<int64_t>(r, 1) : sp.dilations;
  return g;
}

Shape out_shape(const ConvGeo& g) {
  Shape s{g.n, g.oc};
  s.insert(s.end(), g.out.begin(), g.out.end());
  return s;
}

// Calls fn(n, oc, out_index, acc) for every output element, acc the int32
// (wrapping) sum of (x - xzp) * (w - wzp(oc)) over the window.
template <typename Fn>
void int_conv(const ConvGeo& g, const Tensor& x, const Tensor& w, int64_t xzp,
              const Tensor* wzp_t, Fn fn) {
  const size_t r = g.in.size();
  const int64_t icg = g.ic / g.group, ocg = g.oc / g.group;
  const int64_t in_sz = shape_numel(g.in), k_sz = shape_numel(g.k), out_sz = shape_numel(g.out);
  std::vector<int64_t> oc_coord(r), kc(r);
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t oc = 0; oc < g.oc; ++oc) {
      const int64_t grp = oc / ocg;
      const int64_t wzp = wzp_t ? wzp_t->get_i64(wzp_t->numel() == 1 ? 0 : oc) : 0;
      for (int64_t o = 0; o < out_sz; ++o) {
        int64_t orem = o;
        for (size_t d = r; d-- > 0;) {
          oc_coord[d] = orem % g.out[d];
          orem /= g.out[d];
        }
        uint32_t acc = 0;
        for (int64_t kf = 0; kf < k_sz; ++kf) {
          // input offset of this tap within a channel plane, or -1 in the padding
          int64_t off = 0, rem = kf;
          for (size_t d = r; d-- > 0;) {
            kc[d] = rem % g.k[d];
            rem /= g.k[d];
          }
          for (size_t d = 0; d < r && off >= 0; ++d) {
            int64_t p = oc_coord[d] * g.strides[d] - g.pads[d] + kc[d] * g.dil[d];
            off = (p < 0 || p >= g.in[d]) ? -1 : off * g.in[d] + p;
          }
          if (off < 0) continue;
          for (int64_t icl = 0; icl < icg; ++icl) {
            int64_t xv = x.get_i64((n * g.ic + grp * icg + icl) * in_sz + off) - xzp;
            int64_t wv = w.get_i64((oc * icg + icl) * k_sz + kf) - wzp;
            acc += static_cast<uint32_t>(xv * wv);
          }
        }
        fn(n, oc, o, static_cast<int32_t>(acc));
      }
    }
  }
}

void check_per_oc(const char* op, const char* what, const Layout& p, int64_t oc) {
  LR_CHECK(p.numel() == 1 || (p.ndim() == 1 && p.shape[0] == oc), ModelError, op, ": ", what,
           " of shape ", shape_str(p.shape), " is neither one value nor one per ", oc,
           " output channels");
}

// ------------------------------------------------------------------ ConvInteger
struct ConvIntegerOp final : Op {
  SpatialParams sp;
  int64_t group;
  explicit ConvIntegerOp(const Attrs& a) : sp(SpatialParams::from_attrs(a)), group(a.get_int("group", 1)) {}
  std::string param_key() const override { return sp.key() + ";g" + std::to_string(group); }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& w = ctx.input(1);
    LR_CHECK(is_q8(x.dtype) && is_q8(w.dtype), UnsupportedError, "ConvInteger on ",
             dtype_name(x.dtype), " x ", dtype_name(w.dtype), ": supported are int8 and uint8");
    ConvGeo g = conv_geometry("ConvInteger", sp, group, x.shape, w.shape);
    if (ctx.has(2)) {
      LR_CHECK(ctx.input(2).dtype == x.dtype && ctx.input(2).numel() == 1, ModelError,
               "ConvInteger: x_zero_point must be one value of x's dtype");
    }
    if (ctx.has(3)) {
      LR_CHECK(ctx.input(3).dtype == w.dtype, ModelError, "ConvInteger: w_zero_point must have w's dtype");
      check_per_oc("ConvInteger", "w_zero_point", ctx.input(3), g.oc);
    }
    ctx.set_output(0, out_shape(g), DType::Int32);
  }
};

void conv_integer_naive(const ConvIntegerOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  ConvGeo g = conv_geometry("ConvInteger", op.sp, op.group, x.shape(), w.shape());
  int64_t xzp = ctx.has(2) ? ctx.input(2).get_i64(0) : 0;
  const Tensor* wzp = ctx.has(3) ? &ctx.input(3) : nullptr;
  int32_t* y = ctx.output(0).ptr<int32_t>();
  const int64_t out_sz = shape_numel(g.out);
  int_conv(g, x, w, xzp, wzp, [&](int64_t n, int64_t oc, int64_t o, int32_t acc) {
    y[(n * g.oc + oc) * out_sz + o] = acc;
  });
}

// ------------------------------------------------------------------ QLinearConv
struct QLinearConvOp final : Op {
  SpatialParams sp;
  int64_t group;
  explicit QLinearConvOp(const Attrs& a) : sp(SpatialParams::from_attrs(a)), group(a.get_int("group", 1)) {}
  std::string param_key() const override { return sp.key() + ";g" + std::to_string(group); }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& w = ctx.input(3);
    const Layout& yzp = ctx.input(7);
    LR_CHECK(is_q8(x.dtype) && is_q8(w.dtype) && is_q8(yzp.dtype), UnsupportedError,
             "QLinearConv on ", dtype_name(x.dtype), " x ", dtype_name(w.dtype), " -> ",
             dtype_name(yzp.dtype), ": supported are int8 and uint8");
    ConvGeo g = conv_geometry("QLinearConv", sp, group, x.shape, w.shape);
    for (int i : {1, 4, 6})
      LR_CHECK(ctx.input(i).dtype == DType::Float32, ModelError, "QLinearConv: scale (input ", i,
               ") must be float32, got ", dtype_name(ctx.input(i).dtype));
    LR_CHECK(ctx.input(2).dtype == x.dtype && ctx.input(5).dtype == w.dtype, ModelError,
             "QLinearConv: zero points must have their operand's dtype");
    LR_CHECK(ctx.input(1).numel() == 1 && ctx.input(2).numel() == 1 && ctx.input(6).numel() == 1 &&
                 yzp.numel() == 1,
             ModelError, "QLinearConv: x_scale, x_zero_point, y_scale and y_zero_point must be single values");
    check_per_oc("QLinearConv", "w_scale", ctx.input(4), g.oc);
    check_per_oc("QLinearConv", "w_zero_point", ctx.input(5), g.oc);
    if (ctx.has(8)) {
      const Layout& b = ctx.input(8);
      LR_CHECK(b.dtype == DType::Int32 && b.ndim() == 1 && b.shape[0] == g.oc, ModelError,
               "QLinearConv: B must be int32 of shape {", g.oc, "}, got ", dtype_name(b.dtype), " ",
               shape_str(b.shape));
    }
    ctx.set_output(0, out_shape(g), yzp.dtype);
  }
};

void qlinear_conv_naive(const QLinearConvOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(3);
  Tensor& y = ctx.output(0);
  ConvGeo g = conv_geometry("QLinearConv", op.sp, op.group, x.shape(), w.shape());
  const QLinearRequant rq(ctx.input(1), ctx.input(4), ctx.input(6), ctx.input(7));
  const int64_t xzp = ctx.input(2).get_i64(0);
  const int32_t* bias = ctx.has(8) ? ctx.input(8).ptr<int32_t>() : nullptr;
  const int64_t out_sz = shape_numel(g.out);
  uint8_t* yb = static_cast<uint8_t*>(y.raw());
  int_conv(g, x, w, xzp, &ctx.input(5), [&](int64_t n, int64_t oc, int64_t o, int32_t acc) {
    if (bias) acc = static_cast<int32_t>(static_cast<uint32_t>(acc) + static_cast<uint32_t>(bias[oc]));
    yb[(n * g.oc + oc) * out_sz + o] = rq.byte(acc, rq.multiplier(oc));
  });
}

const auto kConvIntegerNaive = naive_algo<ConvIntegerOp>(conv_integer_naive);
const QConvDotAlgo kConvIntegerDot(
    "INT8_DIRECT_DOT", "ConvInteger", /*blocked=*/false,
    [](const Op& op, const SpatialParams** sp, int64_t* group) {
      const auto& o = static_cast<const ConvIntegerOp&>(op);
      *sp = &o.sp;
      *group = o.group;
    },
    QConvDotAlgo::Kind::Integer);
const auto kQLinearConvNaive = naive_algo<QLinearConvOp>(qlinear_conv_naive);
const QConvDotAlgo kQLinearConvDot("INT8_DIRECT_DOT", "QLinearConv", /*blocked=*/false,
                                   [](const Op& op, const SpatialParams** sp, int64_t* group) {
                                     const auto& o = static_cast<const QLinearConvOp&>(op);
                                     *sp = &o.sp;
                                     *group = o.group;
                                   });

}  // namespace

void register_op_ConvInteger(OpRegistry& r) {
  register_simple<ConvIntegerOp>(r, "ConvInteger", {&kConvIntegerNaive, &kConvIntegerDot}, 2, 4);
}
void register_op_QLinearConv(OpRegistry& r) {
  register_simple<QLinearConvOp>(r, "QLinearConv", {&kQLinearConvNaive, &kQLinearConvDot}, 8, 9);
}

}  // namespace loadrun
