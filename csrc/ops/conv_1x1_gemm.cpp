// CONV1x1_GEMM: a 1x1 float32 Conv is a matrix product per image and group,
// Y_grp[ocg x oh*ow] = W_grp[ocg x icg] * X_grp[icg x ih*iw], with bias and
// the fused activation in the GEMM's epilogue. With stride 1 and no pads the
// input plane IS the right-hand matrix (no copy); otherwise the strided (and
// zero-padded) input positions are first gathered into workspace,
// icg x oh*ow floats. Cost: 2*oc/g*icg*oh*ow flops per image and group.
// Small planes run the GEMM transposed (conv.h). Threads: images x groups
// go one per thread when they share out evenly, else each GEMM splits over
// the threads (conv_split_tasks); scratch is per thread. Preprocess packs the
// weights for the GEMM. The pointwise convs
// of MobileNet and ResNet's bottlenecks and downsamples run here.
#include <algorithm>

#include "ops/common.h"
#include "ops/conv.h"

namespace loadrun {

namespace {

bool direct(const ConvGeo& g) { return g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 && g.oh == g.ih && g.ow == g.iw; }

// in[c][oh][ow] = x[c][oh*sh - ph][ow*sw - pw], 0 outside the input;
// channels over cn's threads (null: this thread).
void gather(const ConvGeo& g, const float* x, float* in, CompNode* cn) {
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(g.oh * g.ow, 1));
  parallel_for(
      cn, g.icg(),
      [&](int64_t c0, int64_t c1, int) {
        for (int64_t c = c0; c < c1; ++c) {
          const float* xp = x + c * g.ih * g.iw;
          for (int64_t oh = 0; oh < g.oh; ++oh) {
            float* d = in + (c * g.oh + oh) * g.ow;
            int64_t ih = oh * g.sh - g.ph;
            if (ih < 0 || ih >= g.ih) {
              std::fill(d, d + g.ow, 0.f);
              continue;
            }
            const float* xr = xp + ih * g.iw;
            for (int64_t ow = 0; ow < g.ow; ++ow) {
              int64_t iw = ow * g.sw - g.pw;
              d[ow] = iw >= 0 && iw < g.iw ? xr[iw] : 0.f;
            }
          }
        }
      },
      grain);
}

class Conv1x1Gemm final : public ConvAlgo {
 public:
  const char* name() const override { return "CONV1x1_GEMM"; }
  uint32_t attributes() const override { return REPRODUCIBLE; }
  bool usable(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    ConvGeo g;
    return conv_geometry_f32(as_conv(op), in, out, &g) && g.kh == 1 && g.kw == 1 &&
           conv_residual_ok(as_conv(op), in, out);
  }
  size_t workspace(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    ConvGeo g;
    if (!conv_geometry_f32(as_conv(op), in, out, &g)) return 0;
    int64_t ohw = g.oh * g.ow;
    int64_t floats = (direct(g) ? 0 : g.icg() * ohw) + (conv_gemm_transposed(ohw) ? ohw * g.ocg() : 0);
    return static_cast<size_t>(floats) * sizeof(float);
  }
  std::string preprocess_key(const Op& op, const InLayouts& in) const override {
    // the packing follows the weights and whether the GEMM runs transposed
    return layout_key(in, 1) + (conv_gemm_transposed(conv_out_hw(as_conv(op), in)) ? "T" : "N");
  }
  Prepared preprocess(const Op& op, const InLayouts& in,
                       const std::vector<const Tensor*>& values) const override {
    if (values.size() < 2 || !values[1]) return {};
    const Shape& w = in[1]->shape;
    const ConvOp& c = as_conv(op);
    return conv_pack_weights(values[1]->ptr<float>(), c.group, w[0] / c.group, w[1],
                             conv_gemm_transposed(conv_out_hw(c, in)));
  }
  bool can_unprepare() const override { return true; }
  Tensor unprepare(const Op& op, const InLayouts& in, const Prepared& p) const override {
    const ConvOp& c = as_conv(op);
    return conv_unpack_weights(p, in[1]->shape, c.group, conv_gemm_transposed(conv_out_hw(c, in)));
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
    int64_t ohw = g.oh * g.ow, icg = g.icg(), ocg = g.ocg();
    bool dir = direct(g), tr = conv_gemm_transposed(ohw);
    const float* res = conv_residual(op, ctx);
    // Task t: image t / group, group t % group; `cn` splits its GEMM (null:
    // the task runs on this thread alone). ws: this thread's scratch.
    auto task = [&](int64_t t, float* ws, CompNode* cn) {
      const int64_t n = t / g.group, grp = t % g.group;
      float* gathered = ws;
      float* scratch = ws + (dir ? 0 : icg * ohw);
      const float* xg = x + (n * g.ic + grp * icg) * g.ih * g.iw;
      const float* b = xg;
      if (!dir) {
        gather(g, xg, gathered, cn);
        b = gathered;
      }
      int64_t yoff = (n * g.oc + grp * ocg) * ohw;
      kernels::Epilogue ep =
          op.epilogue(bias ? bias + grp * ocg : nullptr, res ? res + yoff : nullptr, ohw);
      conv_group_gemm(w, ctx.prepared, tr, grp, ocg, icg, b, ohw, y + yoff, ohw, ohw, ep,
                      scratch, cn);
    };
    const int64_t tasks = g.n * g.group;
    if (!conv_split_tasks(ctx.comp_node, tasks)) {
      for (int64_t t = 0; t < tasks; ++t)
        task(t, static_cast<float*>(ctx.workspace), ctx.comp_node);
      return;
    }
    parallel_for(ctx.comp_node, tasks, [&](int64_t begin, int64_t end, int tid) {
      for (int64_t t = begin; t < end; ++t)
        task(t, static_cast<float*>(ctx.thread_workspace(tid)), nullptr);
    });
  }
};

const Conv1x1Gemm kAlgo;

}  // namespace

const Algo* conv1x1_gemm_algo() { return &kAlgo; }

}  // namespace loadrun
