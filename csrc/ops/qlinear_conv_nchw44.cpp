// QLinearConvNCHW44 (domain "loadrun", made by passes/convert_layout_int8.cpp):
// ONNX QLinearConv, 2-D, group 1 or depthwise (group = channels, one
// weight channel per output), on an NCHW44 blocked input
// [N, ceil(IC/4), H, W, 4] (int8 or uint8; lanes of channels >= IC hold any
// value and are never read as data), with QLinearConv's other inputs and
// attributes (w the original [OC, IC, KH, KW] int8/uint8 weights, w_scale
// and w_zero_point per tensor or per output channel, optional int32 B), and
// a blocked output [N, ceil(OC/4), OH, OW, 4] whose lanes of channels >= OC
// hold y_zero_point. Results are QLinearConv's bit for bit: the same
// wrapping int32 sums, requantised by the same code (ops/qlinear_requant.h).
// NAIVE: for every output element, the sum over the real input channels and
// the window, skipping padded taps. O(N*OC*IC*KH*KW*OH*OW).
// NCHW44_DOT: the int8 direct convolution of ops/qlinear_conv_dot.cpp
// (dot-product rows, vector requantisation) on the blocked tensors; it is
// also QLinearConv's INT8_DIRECT_DOT on NCHW ones.
#include <algorithm>

#include "kernels/conv_int8_nchw44.h"
#include "ops/common.h"
#include "ops/qlinear_conv_dot.h"
#include "ops/qlinear_requant.h"
#include "ops/spatial.h"

namespace loadrun {

namespace {

constexpr int64_t kB = kernels::kNchw44;

bool is_q8(DType dt) { return dt == DType::Int8 || dt == DType::Uint8; }

struct QLinearConvNchw44Op final : Op {
  SpatialParams sp;
  int64_t group;
  explicit QLinearConvNchw44Op(const Attrs& a)
      : sp(SpatialParams::from_attrs(a)), group(a.get_int("group", 1)) {}
  std::string param_key() const override { return sp.key() + ";g" + std::to_string(group); }

  QConvGeo geometry(const Shape& x, const Shape& w) const {
    return qconv_geometry("QLinearConvNCHW44", sp, group, x, w, /*blocked=*/true);
  }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& w = ctx.input(3);
    const Layout& yzp = ctx.input(7);
    LR_CHECK(is_q8(x.dtype) && is_q8(w.dtype) && is_q8(yzp.dtype), UnsupportedError,
             "QLinearConvNCHW44 on ", dtype_name(x.dtype), " x ", dtype_name(w.dtype), " -> ",
             dtype_name(yzp.dtype), ": supported are int8 and uint8");
    QConvGeo g = geometry(x.shape, w.shape);
    for (int i : {1, 4, 6})
      LR_CHECK(ctx.input(i).dtype == DType::Float32, ModelError,
               "QLinearConvNCHW44: scale (input ", i, ") must be float32");
    LR_CHECK(ctx.input(2).dtype == x.dtype && ctx.input(5).dtype == w.dtype, ModelError,
             "QLinearConvNCHW44: zero points must have their operand's dtype");
    LR_CHECK(ctx.input(1).numel() == 1 && ctx.input(2).numel() == 1 &&
                 ctx.input(6).numel() == 1 && yzp.numel() == 1,
             ModelError,
             "QLinearConvNCHW44: x_scale, x_zero_point, y_scale and y_zero_point must be single "
             "values");
    for (int i : {4, 5}) {
      const Layout& p = ctx.input(i);
      LR_CHECK(p.numel() == 1 || (p.ndim() == 1 && p.shape[0] == g.oc), ModelError,
               "QLinearConvNCHW44: ", i == 4 ? "w_scale" : "w_zero_point", " of shape ",
               shape_str(p.shape), " is neither one value nor one per ", g.oc,
               " output channels");
    }
    if (ctx.has(8)) {
      const Layout& b = ctx.input(8);
      LR_CHECK(b.dtype == DType::Int32 && b.ndim() == 1 && b.shape[0] == g.oc, ModelError,
               "QLinearConvNCHW44: B must be int32 of shape {", g.oc, "}, got ",
               dtype_name(b.dtype), " ", shape_str(b.shape));
    }
    ctx.set_output(0, {g.n, g.ocb, g.oh, g.ow, kB}, yzp.dtype);
  }
};

int64_t wzp_of(const Tensor& t, int64_t oc) { return t.get_i64(t.numel() == 1 ? 0 : oc); }

uint8_t yzp_byte(const Tensor& yzp) { return static_cast<const uint8_t*>(yzp.raw())[0]; }

// ------------------------------------------------------------------ NAIVE
void naive(const QLinearConvNchw44Op& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(3);
  const Tensor& wzp = ctx.input(5);
  const QConvGeo g = op.geometry(x.shape(), w.shape());
  const QLinearRequant rq(ctx.input(1), ctx.input(4), ctx.input(6), ctx.input(7));
  const int64_t xzp = ctx.input(2).get_i64(0);
  const int32_t* bias = ctx.has(8) ? ctx.input(8).ptr<int32_t>() : nullptr;
  uint8_t* y = static_cast<uint8_t*>(ctx.output(0).raw());
  const uint8_t pad_out = yzp_byte(ctx.input(7));
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oc = 0; oc < g.ocb * kB; ++oc)
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          uint8_t* out = y + (((n * g.ocb + oc / kB) * g.oh + oy) * g.ow + ox) * kB + oc % kB;
          if (oc >= g.oc) {
            *out = pad_out;
            continue;
          }
          const int64_t wz = wzp_of(wzp, oc);
          uint32_t acc = 0;
          const int64_t ic0 = g.depthwise ? oc : 0, ic1 = g.depthwise ? oc + 1 : g.ic;
          for (int64_t ic = ic0; ic < ic1; ++ic)
            for (int64_t ky = 0; ky < g.kh; ++ky)
              for (int64_t kx = 0; kx < g.kw; ++kx) {
                int64_t iy = oy * g.sh - g.ph + ky * g.dh, ix = ox * g.sw - g.pw + kx * g.dw;
                if (iy < 0 || iy >= g.ih || ix < 0 || ix >= g.iw) continue;
                int64_t xv =
                    x.get_i64((((n * g.icb + ic / kB) * g.ih + iy) * g.iw + ix) * kB + ic % kB) -
                    xzp;
                const int64_t wrow = g.depthwise ? oc : oc * g.ic + ic;  // w is [OC, IC/group, ...]
                int64_t wv = w.get_i64((wrow * g.kh + ky) * g.kw + kx) - wz;
                acc += static_cast<uint32_t>(xv * wv);
              }
          if (bias) acc += static_cast<uint32_t>(bias[oc]);
          *out = rq.byte(static_cast<int32_t>(acc), rq.multiplier(oc));
        }
}

const auto kNaive = naive_algo<QLinearConvNchw44Op>(naive);

const QConvDotAlgo kDot("NCHW44_DOT", "QLinearConvNCHW44", /*blocked=*/true,
                        [](const Op& op, const SpatialParams** sp, int64_t* group) {
                          const auto& o = static_cast<const QLinearConvNchw44Op&>(op);
                          *sp = &o.sp;
                          *group = o.group;
                        });

}  // namespace

void register_op_QLinearConvNCHW44(OpRegistry& r) {
  OpDef d;
  d.type = "QLinearConvNCHW44";
  d.domain = "loadrun";
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> {
    return std::make_unique<QLinearConvNchw44Op>(a);
  };
  d.algos = {&kNaive, &kDot};
  d.min_inputs = 8;
  d.max_inputs = 9;
  r.add(std::move(d));
}

}  // namespace loadrun
