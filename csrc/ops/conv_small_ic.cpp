// DIRECT_SMALL_IC: float32 Conv with at most 4 input channels, group 1,
// stride 1 or 2 (both directions equal), dilation 1, kernel up to 11x11 (the
// first layer of most convnets: ResNet's 7x7/2 stem, MobileNet's 3x3/2).
// Per image the input channels are copied once into zero-padded planes
// (split into even/odd columns for stride 2), then a direct kernel
// (kernels/conv_small_ic.h) computes 6 output channels x 16 columns per
// register tile with bias, residual and activation in its store. No im2col:
// IM2COL_GEMM writes kh*kw copies of every input value for a GEMM whose k is
// only ic*kh*kw. Cost: 2*oc*ic*kh*kw*oh*ow flops (plus the padding of oc to
// a multiple of 6). Workspace: the padded planes (ic*s*rows*ld floats) and,
// unprepared, the packed weights; preprocess packs the weights once.
// Threads: per image, the blocks of 6 output channels are shared out over
// the threads (each block's sums are the same whoever computes them).
#include <algorithm>

#include "core/tensor.h"
#include "kernels/conv_small_ic.h"
#include "kernels/dwconv.h"
#include "ops/common.h"
#include "ops/conv.h"

namespace loadrun {

namespace {

constexpr int64_t kSmallIcMacsPerRange = 64 * 1024;

bool fits(const ConvGeo& g) {
  return g.group == 1 && g.ic <= 4 && g.sh == g.sw && (g.sh == 1 || g.sh == 2) && g.dh == 1 &&
         g.dw == 1 && g.kh <= 11 && g.kw <= 11;
}

kernels::SmallIcGeo small_geo(const ConvGeo& g) {
  kernels::SmallIcGeo s;
  s.ic = g.ic;
  s.oc = g.oc;
  s.kh = g.kh;
  s.kw = g.kw;
  s.s = g.sh;
  s.oh = g.oh;
  s.ow = g.ow;
  s.rows = kernels::conv_small_ic_rows(g.kh, g.sh, g.ih, g.ph, g.oh);
  s.ld = kernels::conv_small_ic_pitch(g.kw, g.sw, g.iw, g.pw, g.ow);
  return s;
}

class DirectSmallIc final : public ConvAlgo {
 public:
  const char* name() const override { return "DIRECT_SMALL_IC"; }
  uint32_t attributes() const override { return REPRODUCIBLE; }
  bool usable(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    ConvGeo g;
    return conv_geometry_f32(as_conv(op), in, out, &g) && fits(g) &&
           conv_residual_ok(as_conv(op), in, out);
  }
  size_t workspace(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    ConvGeo g;
    if (!conv_geometry_f32(as_conv(op), in, out, &g) || !fits(g)) return 0;
    kernels::SmallIcGeo s = small_geo(g);
    int64_t floats = g.ic * s.s * s.rows * s.ld +
                     kernels::conv_small_ic_packed_floats(g.oc, g.ic, g.kh, g.kw);
    return static_cast<size_t>(floats) * sizeof(float);
  }
  std::string preprocess_key(const Op&, const InLayouts& in) const override {
    return layout_key(in, 1);
  }
  Prepared preprocess(const Op&, const InLayouts& in,
                       const std::vector<const Tensor*>& values) const override {
    if (values.size() < 2 || !values[1]) return {};
    const Shape& w = in[1]->shape;
    int64_t kh = w.size() == 4 ? w[2] : 1, kw = w.back();
    size_t bytes = kernels::conv_small_ic_packed_floats(w[0], w[1], kh, kw) * sizeof(float);
    std::shared_ptr<uint8_t> buf = alloc_aligned(bytes);
    kernels::conv_small_ic_pack(values[1]->ptr<float>(), w[0], w[1], kh, kw,
                                reinterpret_cast<float*>(buf.get()));
    return {buf, bytes, 1};
  }
  void run(const ConvCall& c) const override {
    const ConvOp& op = c.op;
    const KernCtx& ctx = c.ctx;
    const Tensor& xt = ctx.input(0);
    const Tensor& wt = ctx.input(1);
    Tensor& yt = ctx.output(0);
    const ConvGeo& g = c.g;  // worked out at bind
    kernels::SmallIcGeo s = small_geo(g);
    const float* x = xt.ptr<float>();
    const float* bias = ctx.has(2) ? ctx.input(2).ptr<float>() : nullptr;
    const float* res = conv_residual(op, ctx);
    float* y = yt.ptr<float>();
    float* planes = static_cast<float*>(ctx.workspace);
    int64_t plane = s.rows * s.ld, ohw = g.oh * g.ow;
    const float* wp = static_cast<const float*>(ctx.prepared);
    if (!wp) {
      float* pk = planes + g.ic * s.s * plane;
      kernels::conv_small_ic_pack(wt.ptr<float>(), g.oc, g.ic, g.kh, g.kw, pk);
      wp = pk;
    }
    std::fill(planes, planes + g.ic * s.s * plane, 0.f);  // pads stay zero for every image
    for (int64_t n = 0; n < g.n; ++n) {
      for (int64_t c = 0; c < g.ic; ++c) {
        float* p0 = planes + c * s.s * plane;
        kernels::dwconv_fill(static_cast<int>(s.s), x + (n * g.ic + c) * g.ih * g.iw, g.ih, g.iw,
                             g.ph, g.pw, s.rows, s.ld, p0, s.s == 2 ? p0 + plane : nullptr);
      }
      // Blocks of 6 output channels over the threads (the planes are shared).
      const int64_t blocks = (g.oc + kernels::kSmallIcOcBlock - 1) / kernels::kSmallIcOcBlock;
      const int64_t taps = g.ic * g.kh * g.kw;
      const int64_t block_macs = kernels::kSmallIcOcBlock * taps * ohw;
      const int64_t grain = std::max<int64_t>(1, kSmallIcMacsPerRange / block_macs);
      parallel_for(
          ctx.comp_node, blocks,
          [&](int64_t b0, int64_t b1, int) {
            const int64_t oc0 = b0 * kernels::kSmallIcOcBlock;
            const int64_t oc1 = std::min(g.oc, b1 * kernels::kSmallIcOcBlock);
            kernels::SmallIcGeo sg = s;
            sg.oc = oc1 - oc0;
            const int64_t yoff = (n * g.oc + oc0) * ohw;
            kernels::Epilogue ep = op.epilogue(bias ? bias + oc0 : nullptr,
                                               res ? res + yoff : nullptr, 0);
            kernels::conv_small_ic(sg, planes, wp + oc0 * taps, ep, y + yoff);
          },
          grain);
    }
  }
};

const DirectSmallIc kAlgo;

}  // namespace

const Algo* conv_direct_small_ic_algo() { return &kAlgo; }

}  // namespace loadrun
