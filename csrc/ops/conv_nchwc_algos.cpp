// The fast algorithms of ConvNCHWc (ops/conv_nchwc.h), in the order the
// heuristic tries them after NAIVE, and their shared base
// (ops/conv_nchwc_fast.h): geometry at bind, weight packing at preprocess
// (undone exactly by unprepare: the packing is a permutation plus zeros),
// or per call into the shared workspace when the weights were not prepared.
#include <memory>

#include "kernels/conv_nchwc.h"
#include "ops/common.h"
#include "ops/conv_nchwc.h"
#include "ops/conv_nchwc_fast.h"

namespace loadrun {

std::vector<const Algo*> conv_nchwc_fast_algos() {
  return {conv_nchwc_dw_algo(), conv_nchwc_direct_algo()};
}

kernels::NchwcGeo nchwc_kernel_geo(const ConvNchwcGeo& geo) {
  const ConvGeo& g = geo.g;
  kernels::NchwcGeo k;
  k.b = geo.b;
  k.ic = g.ic, k.icb = geo.icb, k.ih = g.ih, k.iw = g.iw;
  k.oc = g.oc, k.ocb = geo.ocb, k.oh = g.oh, k.ow = g.ow;
  k.kh = g.kh, k.kw = g.kw, k.sh = g.sh, k.sw = g.sw, k.dh = g.dh, k.dw = g.dw;
  k.ph = g.ph, k.pw = g.pw;
  return k;
}

namespace {

int64_t packed_floats(bool dw, const kernels::NchwcGeo& g) {
  return dw ? kernels::dwconv_nchwc_packed_floats(g) : kernels::conv_nchwc_packed_floats(g);
}

kernels::NchwcGeo geo_of(const Op& op, const InLayouts& in, const OutLayouts& out, bool* ok) {
  ConvNchwcGeo geo;
  *ok = conv_nchwc_geometry(as_conv_nchwc(op), in, out, &geo);
  return *ok ? nchwc_kernel_geo(geo) : kernels::NchwcGeo{};
}

// The geometry from the input layouts alone (preprocess sees no output).
kernels::NchwcGeo geo_of_inputs(const ConvNchwcOp& op, const InLayouts& in) {
  const Shape& x = in[0]->shape;
  const Shape& w = in[1]->shape;
  std::vector<int64_t> o = op.conv.sp.resolve({x[2], x[3]}, {w[2], w[3]}, nullptr);
  Shape y{x[0], nchwc_blocks(w[0], op.block), o[0], o[1], op.block};
  return nchwc_kernel_geo(conv_nchwc_geometry(op, x, w, y));
}

}  // namespace

bool ConvNchwcFastAlgo::usable(const Op& op, const InLayouts& in, const OutLayouts& out) const {
  ConvNchwcGeo geo;
  const ConvNchwcOp& c = as_conv_nchwc(op);
  if (!conv_nchwc_geometry(c, in, out, &geo) || !fits(geo.g)) return false;
  if (c.conv.residual && (in.size() < 4 || !in[3] || in[3]->dtype != DType::Float32 ||
                          in[3]->shape != out[0].shape))
    return false;
  return true;
}

size_t ConvNchwcFastAlgo::shared_workspace(const Op& op, const InLayouts& in,
                                           const OutLayouts& out, bool prepared) const {
  bool ok;
  const kernels::NchwcGeo g = geo_of(op, in, out, &ok);
  if (!ok || prepared) return 0;
  return static_cast<size_t>(packed_floats(depthwise(), g)) * sizeof(float);
}

Prepared ConvNchwcFastAlgo::preprocess(const Op& op, const InLayouts& in,
                                       const std::vector<const Tensor*>& values) const {
  if (values.size() < 2 || !values[1]) return {};
  const kernels::NchwcGeo g = geo_of_inputs(as_conv_nchwc(op), in);
  const int64_t floats = packed_floats(depthwise(), g);
  std::shared_ptr<float> wp(new float[floats], std::default_delete<float[]>());
  if (depthwise())
    kernels::dwconv_nchwc_pack(g, values[1]->ptr<float>(), wp.get());
  else
    kernels::conv_nchwc_pack(g, values[1]->ptr<float>(), wp.get());
  Prepared p;
  p.data = wp;
  p.bytes = static_cast<size_t>(floats) * sizeof(float);
  p.replaces = 1;
  return p;
}

Tensor ConvNchwcFastAlgo::unprepare(const Op& op, const InLayouts& in,
                                    const Prepared& prepared) const {
  const kernels::NchwcGeo g = geo_of_inputs(as_conv_nchwc(op), in);
  Tensor t(*in[1]);
  float* w = t.ptr<float>();
  const float* wp = static_cast<const float*>(prepared.data.get());
  const int64_t b = g.b, taps = g.kh * g.kw;
  for (int64_t o = 0; o < g.oc; ++o) {
    if (depthwise()) {
      for (int64_t k = 0; k < taps; ++k) w[o * taps + k] = wp[((o / b) * taps + k) * b + o % b];
      continue;
    }
    for (int64_t c = 0; c < g.ic; ++c)
      for (int64_t k = 0; k < taps; ++k)
        w[(o * g.ic + c) * taps + k] =
            wp[(((o / b) * g.icb + c / b) * taps + k) * b * b + (c % b) * b + o % b];
  }
  return t;
}

void ConvNchwcFastAlgo::call(const ConvNchwcOp& op, const kernels::NchwcGeo& g, int64_t n,
                             const KernCtx& ctx) const {
  const float* wp = static_cast<const float*>(ctx.prepared);
  if (!wp) {  // unprepared: pack into the shared workspace
    float* ws = static_cast<float*>(ctx.shared_workspace);
    if (depthwise())
      kernels::dwconv_nchwc_pack(g, ctx.input(1).ptr<float>(), ws);
    else
      kernels::conv_nchwc_pack(g, ctx.input(1).ptr<float>(), ws);
    wp = ws;
  }
  NchwcCall c{g,
              n,
              ctx.input(0).ptr<float>(),
              wp,
              ctx.has(2) ? ctx.input(2).ptr<float>() : nullptr,
              op.conv.residual ? ctx.input(3).ptr<float>() : nullptr,
              ctx.output(0).ptr<float>(),
              op.conv.epilogue(nullptr),
              ctx};
  run(c);
}

void ConvNchwcFastAlgo::exec(const Op& op_, const KernCtx& ctx) const {
  const ConvNchwcOp& op = as_conv_nchwc(op_);
  const ConvNchwcGeo geo = conv_nchwc_geometry(op, ctx.input(0).shape(), ctx.input(1).shape(),
                                               ctx.output(0).shape());
  call(op, nchwc_kernel_geo(geo), geo.g.n, ctx);
}

namespace {
struct BoundGeo {
  kernels::NchwcGeo g;
  int64_t n;
};
}  // namespace

BoundKernel ConvNchwcFastAlgo::bind(const Op& op, const InLayouts& in, const OutLayouts& out,
                                    CompNode& cn) const {
  BoundKernel k = Algo::bind(op, in, out, cn);
  const ConvNchwcGeo geo =
      conv_nchwc_geometry(as_conv_nchwc(op), in[0]->shape, in[1]->shape, out[0].shape);
  k.params = std::make_shared<BoundGeo>(BoundGeo{nchwc_kernel_geo(geo), geo.g.n});
  k.fn = [](const BoundKernel& b, const KernCtx& ctx) {
    const auto& self = static_cast<const ConvNchwcFastAlgo&>(*b.algo);
    const auto* p = static_cast<const BoundGeo*>(b.params.get());
    self.call(as_conv_nchwc(*b.op), p->g, p->n, ctx);
  };
  return k;
}

}  // namespace loadrun
