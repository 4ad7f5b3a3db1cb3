// DEPTHWISE_DIRECT: float32 depthwise Conv (group == input channels ==
// output channels), square 3x3 or 5x5 window, stride 1 or 2 (both axes the
// same), dilation 1, any pads. Per image and channel, the input plane is
// copied into a zero-padded plane in workspace (for stride 2, split into
// even and odd columns), then kernels/dwconv.h computes the output plane row
// by row with bias and the fused activation (AVX2+FMA where the CPU has it).
// The planes are zeroed once per range of planes; each channel only
// overwrites the input's own positions, so its pads are still zero.
// 3x3 skips the copy where the ISA level has a direct kernel
// (kernels/dwconv3x3_direct_avx2.cpp): at stride 2 the deinterleaving copy
// of an input four times the output's size cost more than the convolution,
// and on small planes the per-row copies were most of the time; its
// workspace is one zero row.
// Threads: the planes (image x channel) are shared out over the threads, each
// with its own padded planes (or zero row) in its workspace slot.
// Cost: k*k multiply-adds per output plus one copy of the input (none for
// the direct kernel); workspace one or two padded planes. A depthwise conv as a GEMM has one output row
// per group, which no GEMM runs well: this is MobileNet's middle conv.
#include <algorithm>

#include "kernels/dwconv.h"
#include "kernels/kernel_table.h"
#include "ops/common.h"
#include "ops/conv.h"

namespace loadrun {

namespace {

constexpr int64_t kDwMacsPerRange = 32 * 1024;

bool fits(const ConvGeo& g) {
  return g.group == g.ic && g.oc == g.ic && g.kh == g.kw && (g.kh == 3 || g.kh == 5) &&
         g.sh == g.sw && (g.sh == 1 || g.sh == 2) && g.dh == 1 && g.dw == 1;
}

class DepthwiseDirect final : public ConvAlgo {
 public:
  const char* name() const override { return "DEPTHWISE_DIRECT"; }
  uint32_t attributes() const override { return REPRODUCIBLE; }
  bool usable(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    ConvGeo g;
    return conv_geometry_f32(as_conv(op), in, out, &g) && fits(g) &&
           conv_residual_ok(as_conv(op), in, out);
  }
  size_t workspace(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    ConvGeo g;
    if (!conv_geometry_f32(as_conv(op), in, out, &g) || !fits(g)) return 0;
    int k = static_cast<int>(g.kh), s = static_cast<int>(g.sh);
    if (k == 3 && kernels::kernel_table().dwconv.direct3x3)  // only its zero row
      return static_cast<size_t>(g.iw) * sizeof(float);
    int64_t plane = kernels::dwconv_rows(k, s, g.oh) * kernels::dwconv_pitch(k, s, g.ow);
    return static_cast<size_t>(plane * s) * sizeof(float);
  }
  void run(const ConvCall& c) const override {
    const ConvOp& op = c.op;
    const KernCtx& ctx = c.ctx;
    const Tensor& xt = ctx.input(0);
    const Tensor& wt = ctx.input(1);
    Tensor& yt = ctx.output(0);
    const ConvGeo& g = c.g;  // worked out at bind
    const float* x = xt.ptr<float>();
    const float* w = wt.ptr<float>();
    const float* bias = ctx.has(2) ? ctx.input(2).ptr<float>() : nullptr;
    float* y = yt.ptr<float>();
    int k = static_cast<int>(g.kh), s = static_cast<int>(g.sh);
    int64_t rows = kernels::dwconv_rows(k, s, g.oh), ld = kernels::dwconv_pitch(k, s, g.ow);
    kernels::Epilogue ep = op.epilogue(nullptr);
    const float* res = conv_residual(op, ctx);
    if (res) ep.act = kernels::Act::kNone;  // after the residual, per plane
    // Planes (image x channel) over the threads, each thread with its own
    // padded planes; a range holds about kDwMacsPerRange multiply-adds or more.
    const int64_t planes = g.n * g.ic, macs = g.oh * g.ow * k * k;
    const int64_t grain = std::max<int64_t>(1, kDwMacsPerRange / std::max<int64_t>(macs, 1));
    const kernels::Dwconv3x3DirectFn direct =
        k == 3 ? kernels::kernel_table().dwconv.direct3x3 : nullptr;
    if (direct) {
      parallel_for(
          ctx.comp_node, planes,
          [&](int64_t begin, int64_t end, int tid) {
            float* zero = static_cast<float*>(ctx.thread_workspace(tid));
            std::fill(zero, zero + g.iw, 0.f);
            for (int64_t pl = begin; pl < end; ++pl) {
              const int64_t c = pl % g.ic, off = pl * g.oh * g.ow;  // pl = n * ic + c
              direct(s, x + pl * g.ih * g.iw, g.ih, g.iw, g.ph, g.pw, w + c * 9,
                     bias ? bias[c] : 0.f, ep, y + off, g.oh, g.ow, zero);
              if (res) conv_residual_act(op, res + off, y + off, g.oh * g.ow);
            }
          },
          grain);
      return;
    }
    parallel_for(
        ctx.comp_node, planes,
        [&](int64_t begin, int64_t end, int tid) {
          float* p0 = static_cast<float*>(ctx.thread_workspace(tid));
          float* p1 = s == 2 ? p0 + rows * ld : nullptr;
          std::fill(p0, p0 + rows * ld * s, 0.f);  // the pads stay zero for every plane
          for (int64_t pl = begin; pl < end; ++pl) {
            const int64_t c = pl % g.ic, off = pl * g.oh * g.ow;  // pl = n * ic + c
            kernels::dwconv_fill(s, x + pl * g.ih * g.iw, g.ih, g.iw, g.ph, g.pw, rows, ld, p0,
                                 p1);
            kernels::dwconv_plane(k, s, p0, p1, ld, w + c * k * k, bias ? bias[c] : 0.f, ep,
                                  y + off, g.oh, g.ow);
            if (res) conv_residual_act(op, res + off, y + off, g.oh * g.ow);
          }
        },
        grain);
  }
};

const DepthwiseDirect kAlgo;

}  // namespace

const Algo* conv_depthwise_direct_algo() { return &kAlgo; }

}  // namespace loadrun
