// DEPTHWISE_DIRECT: float32 depthwise Conv (group == input channels ==
// output channels), square 3x3 or 5x5 window, stride 1 or 2 (both axes the
// same), dilation 1, any pads. Per image and channel, the input plane is
// copied into a zero-padded plane in workspace (for stride 2, split into
// even and odd columns), then kernels/dwconv.h computes the output plane row
// by row with bias and the fused activation (AVX2+FMA where the CPU has it).
// Cost: k*k multiply-adds per output plus one copy of the input; workspace
// one or two padded planes. A depthwise conv as a GEMM has one output row
// per group, which no GEMM runs well: this is MobileNet's middle conv.
#include <algorithm>

#include "kernels/dwconv.h"
#include "ops/common.h"
#include "ops/conv.h"

namespace loadrun {

namespace {

bool fits(const ConvGeo& g) {
  return g.group == g.ic && g.oc == g.ic && g.kh == g.kw && (g.kh == 3 || g.kh == 5) &&
         g.sh == g.sw && (g.sh == 1 || g.sh == 2) && g.dh == 1 && g.dw == 1;
}

// Padded plane(s) of channel x (see dwconv.h): rows r <-> ih = r - ph;
// stride 1: column q <-> iw = q - pw; stride 2: E column q <-> iw = 2q - pw,
// O column q <-> iw = 2q + 1 - pw.
void pad_plane(const ConvGeo& g, const float* x, int64_t rows, int64_t ld, float* p0, float* p1) {
  for (int64_t r = 0; r < rows; ++r) {
    int64_t ih = r - g.ph;
    float* e = p0 + r * ld;
    float* o = p1 ? p1 + r * ld : nullptr;
    if (ih < 0 || ih >= g.ih) {
      std::fill(e, e + ld, 0.f);
      if (o) std::fill(o, o + ld, 0.f);
      continue;
    }
    const float* xr = x + ih * g.iw;
    if (g.sw == 1) {
      int64_t lo = std::min(g.pw, ld), hi = std::min(g.pw + g.iw, ld);
      std::fill(e, e + lo, 0.f);
      std::copy(xr, xr + (hi - lo), e + lo);
      std::fill(e + hi, e + ld, 0.f);
    } else {
      // E[q] = x[2q - pw], O[q] = x[2q + 1 - pw], for the q that land inside:
      // [qa, qb) where both do (a vector deinterleave), then the edges.
      int64_t qa = std::min((g.pw + 1) / 2, ld), qb = std::min(ld, (g.iw + g.pw) / 2);
      qb = std::max(qa, qb);
      std::fill(e, e + qa, 0.f);
      std::fill(o, o + qa, 0.f);
      std::fill(e + qb, e + ld, 0.f);
      std::fill(o + qb, o + ld, 0.f);
      if (qb > qa) kernels::deinterleave(xr + 2 * qa - g.pw, qb - qa, e + qa, o + qa);
      for (int par = 0; par < 2; ++par) {
        float* d = par ? o : e;
        int64_t off = par - g.pw;  // iw = 2q + off
        int64_t q0 = off >= 0 ? 0 : (-off + 1) / 2;
        int64_t q1 = std::min(ld, (g.iw - off + 1) / 2);
        for (int64_t q = q0; q < std::min(q1, qa); ++q) d[q] = xr[2 * q + off];
        for (int64_t q = std::max(q0, qb); q < q1; ++q) d[q] = xr[2 * q + off];
      }
    }
  }
}

class DepthwiseDirect final : public Algo {
 public:
  const char* name() const override { return "DEPTHWISE_DIRECT"; }
  uint32_t attributes() const override { return REPRODUCIBLE; }
  bool usable(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    ConvGeo g;
    return conv_geometry_f32(as_conv(op), in, out, &g) && fits(g);
  }
  size_t workspace(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    ConvGeo g;
    if (!conv_geometry_f32(as_conv(op), in, out, &g) || !fits(g)) return 0;
    int k = static_cast<int>(g.kh), s = static_cast<int>(g.sh);
    int64_t plane = kernels::dwconv_rows(k, s, g.oh) * kernels::dwconv_pitch(k, s, g.ow);
    return static_cast<size_t>(plane * s) * sizeof(float);
  }
  void exec(const Op& op_, const KernCtx& ctx) const override {
    const ConvOp& op = as_conv(op_);
    const Tensor& xt = ctx.input(0);
    const Tensor& wt = ctx.input(1);
    Tensor& yt = ctx.output(0);
    ConvGeo g = conv_geometry(op, xt.shape(), wt.shape(), yt.shape());
    const float* x = xt.ptr<float>();
    const float* w = wt.ptr<float>();
    const float* bias = ctx.has(2) ? ctx.input(2).ptr<float>() : nullptr;
    float* y = yt.ptr<float>();
    int k = static_cast<int>(g.kh), s = static_cast<int>(g.sh);
    int64_t rows = kernels::dwconv_rows(k, s, g.oh), ld = kernels::dwconv_pitch(k, s, g.ow);
    float* p0 = static_cast<float*>(ctx.workspace);
    float* p1 = s == 2 ? p0 + rows * ld : nullptr;
    kernels::Epilogue ep = op.epilogue(nullptr);
    for (int64_t n = 0; n < g.n; ++n) {
      for (int64_t c = 0; c < g.ic; ++c) {
        pad_plane(g, x + (n * g.ic + c) * g.ih * g.iw, rows, ld, p0, p1);
        kernels::dwconv_plane(k, s, p0, p1, ld, w + c * k * k, bias ? bias[c] : 0.f, ep,
                              y + (n * g.oc + c) * g.oh * g.ow, g.oh, g.ow);
      }
    }
  }
};

const DepthwiseDirect kAlgo;

}  // namespace

const Algo* conv_depthwise_direct_algo() { return &kAlgo; }

}  // namespace loadrun
