// ConvNCHWc (ops/conv_nchwc.h): parsing, shape inference and the NAIVE
// algorithm. NAIVE: for every real output channel and position, the sum
// over the group's real input channels and the taps inside the input, read
// through the blocked index; then bias, residual and the fused activation.
// Padded output lanes get act(0). O(N*OC*IC/g*KH*KW*OH*OW), no workspace.
#include "ops/conv_nchwc.h"

#include "ops/common.h"

namespace loadrun {

ConvNchwcOp::ConvNchwcOp(const Attrs& a) : conv(a), block(a.get_int(kBlockAttr, 0)) {
  LR_CHECK(block == 4 || block == 8, ModelError, "ConvNCHWc: block must be 4 or 8, got ", block);
}

std::string ConvNchwcOp::param_key() const {
  return conv.param_key() + ";b" + std::to_string(block);
}

void ConvNchwcOp::infer(InferCtx& ctx) const {
  const Layout& x = ctx.input(0);
  const Layout& w = ctx.input(1);
  LR_CHECK(x.ndim() == 5 && x.shape[4] == block, ModelError, "ConvNCHWc: input must be [N, C/",
           block, ", H, W, ", block, "], got ", shape_str(x.shape));
  LR_CHECK(x.dtype == DType::Float32 && w.dtype == DType::Float32, UnsupportedError,
           "ConvNCHWc: float32 only, got ", dtype_name(x.dtype));
  LR_CHECK(w.ndim() == 4, ModelError, "ConvNCHWc: weight must be 4-D, got ", shape_str(w.shape));
  const int64_t ic = w.shape[1] * conv.group, oc = w.shape[0];
  LR_CHECK(x.shape[1] == nchwc_blocks(ic, block), ModelError, "ConvNCHWc: input has ",
           x.shape[1], " channel blocks, weight expects ", ic, " channels");
  LR_CHECK(conv.group == 1 || (conv.group == ic && oc == ic), UnsupportedError,
           "ConvNCHWc: group must be 1 or depthwise, got ", conv.group);
  if (ctx.has(2)) {
    const Layout& b = ctx.input(2);
    LR_CHECK(b.ndim() == 1 && b.shape[0] == oc && b.dtype == DType::Float32, ModelError,
             "ConvNCHWc: bias shape ", shape_str(b.shape), " does not match ", oc,
             " output channels");
  }
  std::vector<int64_t> k{w.shape[2], w.shape[3]};
  LR_CHECK(conv.sp.kernel.empty() || conv.sp.kernel == k, ModelError, "kernel_shape attribute ",
           shape_str(conv.sp.kernel), " disagrees with weight ", shape_str(k));
  std::vector<int64_t> o = conv.sp.resolve({x.shape[2], x.shape[3]}, k, nullptr);
  Shape os{x.shape[0], nchwc_blocks(oc, block), o[0], o[1], block};
  LR_CHECK(conv.residual == ctx.has(3), ModelError,
           "ConvNCHWc takes at most 3 inputs (a 4th only as a fused residual)");
  if (conv.residual)
    LR_CHECK(ctx.input(3).shape == os && ctx.input(3).dtype == DType::Float32, ModelError,
             "ConvNCHWc: residual shape ", shape_str(ctx.input(3).shape), " is not the output's ",
             shape_str(os));
  ctx.set_output(0, os, x.dtype);
}

const ConvNchwcOp& as_conv_nchwc(const Op& op) { return static_cast<const ConvNchwcOp&>(op); }

ConvNchwcGeo conv_nchwc_geometry(const ConvNchwcOp& op, const Shape& x, const Shape& w,
                                 const Shape& y) {
  ConvNchwcGeo geo;
  geo.b = op.block;
  geo.icb = x[1];
  geo.ocb = y[1];
  const int64_t ic = w[1] * op.conv.group;
  // conv_geometry reads NCHW shapes: give it the real channel counts.
  geo.g = conv_geometry(op.conv, {x[0], ic, x[2], x[3]}, w, {y[0], w[0], y[2], y[3]});
  return geo;
}

bool conv_nchwc_geometry(const ConvNchwcOp& op, const InLayouts& in, const OutLayouts& out,
                         ConvNchwcGeo* geo) {
  if (in.size() < 2 || !in[0] || !in[1] || out.empty()) return false;
  if (in[0]->dtype != DType::Float32 || in[1]->dtype != DType::Float32) return false;
  if (in.size() > 2 && in[2] && in[2]->dtype != DType::Float32) return false;
  if (!in[0]->is_contiguous() || !in[1]->is_contiguous() || !out[0].is_contiguous()) return false;
  if (in.size() > 3 && in[3] && !in[3]->is_contiguous()) return false;
  *geo = conv_nchwc_geometry(op, in[0]->shape, in[1]->shape, out[0].shape);
  return true;
}

namespace {

void conv_nchwc_naive(const ConvNchwcOp& op, const KernCtx& ctx) {
  const ConvNchwcGeo geo = conv_nchwc_geometry(op, ctx.input(0).shape(), ctx.input(1).shape(),
                                               ctx.output(0).shape());
  const ConvGeo& g = geo.g;
  const int64_t b = geo.b;
  const float* x = ctx.input(0).ptr<float>();
  const float* w = ctx.input(1).ptr<float>();
  const float* bias = ctx.has(2) ? ctx.input(2).ptr<float>() : nullptr;
  const float* res = op.conv.residual ? ctx.input(3).ptr<float>() : nullptr;
  float* y = ctx.output(0).ptr<float>();
  const int64_t icg = g.ic / g.group, ocg = g.oc / g.group;
  auto xat = [&](int64_t n, int64_t c, int64_t h, int64_t wi) {
    return x[(((n * geo.icb + c / b) * g.ih + h) * g.iw + wi) * b + c % b];
  };
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t ocb = 0; ocb < geo.ocb; ++ocb)
      for (int64_t oh = 0; oh < g.oh; ++oh)
        for (int64_t ow = 0; ow < g.ow; ++ow)
          for (int64_t lane = 0; lane < b; ++lane) {
            const int64_t oc = ocb * b + lane;
            const int64_t yi = (((n * geo.ocb + ocb) * g.oh + oh) * g.ow + ow) * b + lane;
            float acc = 0.f;
            if (oc < g.oc) {
              const int64_t grp = oc / ocg;
              acc = bias ? bias[oc] : 0.f;
              for (int64_t icl = 0; icl < icg; ++icl)
                for (int64_t kh = 0; kh < g.kh; ++kh) {
                  const int64_t ih = oh * g.sh - g.ph + kh * g.dh;
                  if (ih < 0 || ih >= g.ih) continue;
                  for (int64_t kw = 0; kw < g.kw; ++kw) {
                    const int64_t iw = ow * g.sw - g.pw + kw * g.dw;
                    if (iw < 0 || iw >= g.iw) continue;
                    acc += w[((oc * icg + icl) * g.kh + kh) * g.kw + kw] *
                           xat(n, grp * icg + icl, ih, iw);
                  }
                }
              if (res) acc += res[yi];
            }
            y[yi] = conv_activate(op.conv, acc);
          }
}

const auto kNaive = naive_algo<ConvNchwcOp>(conv_nchwc_naive);

}  // namespace

void register_op_ConvNCHWc(OpRegistry& r) {
  std::vector<const Algo*> algos{&kNaive};
  for (const Algo* a : conv_nchwc_fast_algos()) algos.push_back(a);
  OpDef d;
  d.type = "ConvNCHWc";
  d.domain = "loadrun";
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<ConvNchwcOp>(a); };
  d.algos = std::move(algos);
  d.min_inputs = 2;
  d.max_inputs = 4;
  r.add(std::move(d));
}

}  // namespace loadrun
