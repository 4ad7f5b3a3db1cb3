// ATTENTION_TILED, the fast algorithm of the ONNX Attention op (attention.h;
// kernels/attention.h): float32 Attention with Y as its only output, no past
// cache, no nonpad lengths, no window, no softcap; an optional float32
// attn_mask whose last dim is T, or is_causal without a mask; grouped query
// heads. Q, K, V (3-D or 4-D) and the mask are read through strides (query
// heads sharing a KV head: AttentionArgs::kv_group), and the tiled kernel
// runs blocks of query rows of every (b, h) over the step's threads, each
// with its own score tile (kernels::attention_run).
// is_causal: a (Sq, T) bias of 0 / -inf, read by every thread, made once at
// bind (Algo::bind: the plan too, so a run only sets addresses), or per call
// after the first thread's tile by exec (profiling, a call outside a plan).
// A query row whose mask is -inf everywhere gives zeros, as NAIVE (the
// softmax of such a row is NaN).
// Accumulates in float32 through the SGEMM (NAIVE: double): within about
// 1e-5 relative of NAIVE.
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "kernels/attention.h"
#include "ops/attention.h"
#include "runtime/comp_node.h"

namespace loadrun {

namespace {

struct TiledPlan {
  kernels::AttentionArgs a;
  bool causal = false;  // is_causal: the (Sq, T) bias is the mask
  size_t tile_floats = 0;
};

bool attention_tiled_shapes(const AttentionOp& op, const InLayouts& in, size_t n_out,
                            TiledPlan* plan) {
  if (op.flex || op.score_mod || op.prob_mod || op.softcap > 0 || op.mode != 0 || n_out > 1 ||
      op.left != -1 || op.right != -1)
    return false;
  for (size_t i = 0; i < 3; ++i)
    if (!in[i] || in[i]->dtype != DType::Float32) return false;
  for (size_t i = 4; i < in.size(); ++i)
    if (in[i]) return false;  // past cache, nonpad lengths
  const bool has_mask = in.size() > 3 && in[3];
  if (has_mask && (in[3]->dtype != DType::Float32 || op.is_causal)) return false;
  AttnGeo g = op.geometry(in[0]->shape, in[1]->shape, in[2]->shape, nullptr, nullptr);
  if (has_mask && in[3]->shape.back() != g.T) return false;
  TiledPlan p;
  kernels::AttentionArgs& a = p.a;
  a.batch = g.B, a.heads = g.Hq, a.s = g.Sq, a.t = g.T, a.d = g.D, a.dv = g.Dv;
  a.scale = static_cast<float>(op.has_scale ? op.scale : 1.0 / std::sqrt(static_cast<double>(g.D)));
  auto set = [](int64_t* st, int64_t s0, int64_t s1, int64_t s2, int64_t s3) {
    st[0] = s0, st[1] = s1, st[2] = s2, st[3] = s3;
  };
  if (g.three_d) {  // (B, S, H*W): head h at column h*W
    set(a.qs, g.Sq * g.Hq * g.D, g.D, g.Hq * g.D, 1);
    set(a.ks, g.Skv * g.Hkv * g.D, g.D, 1, g.Hkv * g.D);
    set(a.vs, g.Skv * g.Hkv * g.Dv, g.Dv, g.Hkv * g.Dv, 1);
    set(a.os, g.Sq * g.Hq * g.Dv, g.Dv, g.Hq * g.Dv, 1);
  } else {
    set(a.qs, g.Hq * g.Sq * g.D, g.Sq * g.D, g.D, 1);
    set(a.ks, g.Hkv * g.Skv * g.D, g.Skv * g.D, 1, g.D);
    set(a.vs, g.Hkv * g.Skv * g.Dv, g.Skv * g.Dv, g.Dv, 1);
    set(a.os, g.Hq * g.Sq * g.Dv, g.Sq * g.Dv, g.Dv, 1);
  }
  if (has_mask) {
    MaskView mv = mask_view(in[3]->shape);
    set(a.ms, mv.sb, mv.sh, mv.si, mv.sj);
  } else if (op.is_causal) {
    set(a.ms, 0, 0, g.T, 1);
  }
  a.kv_group = g.Hq / g.Hkv;
  a.zero_masked_rows = has_mask;
  p.causal = op.is_causal && !has_mask;
  p.tile_floats = kernels::attention_scratch_floats(a);
  if (!kernels::attention_block_usable(a)) return false;
  if (plan) *plan = p;
  return true;
}

class AttentionTiled final : public Algo {
 public:
  const char* name() const override { return "ATTENTION_TILED"; }
  uint32_t attributes() const override { return REPRODUCIBLE | USABLE_DEPEND_ON_SHAPE; }
  bool usable(const Op& o, const InLayouts& in, const OutLayouts& out) const override {
    for (size_t i = 0; i < 3 && i < in.size(); ++i)
      if (in[i] && in[i]->numel() < 0) return false;
    return in.size() >= 3 &&
           attention_tiled_shapes(static_cast<const AttentionOp&>(o), in, out.size(), nullptr);
  }
  size_t workspace(const Op& o, const InLayouts& in, const OutLayouts& out) const override {
    TiledPlan p;
    if (!attention_tiled_shapes(static_cast<const AttentionOp&>(o), in, out.size(), &p)) return 0;
    // Per thread: the score tile; for exec, slot 0 also holds the causal bias
    // after it (every slot is as large: one workspace size for all).
    size_t causal = p.causal ? static_cast<size_t>(p.a.s * p.a.t) : 0;
    return (p.tile_floats + causal) * sizeof(float);
  }
  // A call outside a plan (profiling): the plan worked out per call, the
  // causal bias written into slot 0's workspace after its tile.
  void exec(const Op& o, const KernCtx& ctx) const override {
    const auto& op = static_cast<const AttentionOp&>(o);
    InLayouts in;
    std::vector<Layout> keep;
    keep.reserve(ctx.in.size());
    for (const Tensor* t : ctx.in) {
      keep.push_back(t ? t->layout() : Layout());
      in.push_back(t ? &keep.back() : nullptr);
    }
    TiledPlan p;
    LR_CHECK(attention_tiled_shapes(op, in, ctx.out.size(), &p), InternalError,
             "ATTENTION_TILED run on shapes it does not take");
    float* bias = nullptr;
    if (p.causal) {
      bias = static_cast<float*>(ctx.thread_workspace(0)) + p.tile_floats;
      fill_causal_bias(p.a.s, p.a.t, bias);
    }
    run(p, bias, ctx);
  }
  // A plan step: the plan and the causal bias worked out once, here; a run
  // only sets the tensors' addresses. The bias lives in the params, so the
  // workspace is the score tiles alone.
  BoundKernel bind(const Op& o, const InLayouts& in, const OutLayouts& out,
                   CompNode& cn) const override {
    BoundKernel k = Algo::bind(o, in, out, cn);
    auto b = std::make_shared<Bound>();
    if (!attention_tiled_shapes(static_cast<const AttentionOp&>(o), in, out.size(), &b->plan))
      return k;  // exec reports it
    if (b->plan.causal) {
      b->causal_bias.resize(static_cast<size_t>(b->plan.a.s * b->plan.a.t));
      fill_causal_bias(b->plan.a.s, b->plan.a.t, b->causal_bias.data());
    }
    k.workspace = b->plan.tile_floats * sizeof(float);
    k.params = std::move(b);
    k.fn = [](const BoundKernel& bk, const KernCtx& ctx) {
      const auto& b = *static_cast<const Bound*>(bk.params.get());
      run(b.plan, b.causal_bias.data(), ctx);
    };
    return k;
  }

 private:
  struct Bound {
    TiledPlan plan;
    std::vector<float> causal_bias;  // (Sq, T) when plan.causal
  };
  // (Sq, T) bias of is_causal: 0 where j <= i, else -inf.
  static void fill_causal_bias(int64_t s, int64_t t, float* bias) {
    const float ninf = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < s; ++i)
      for (int64_t j = 0; j < t; ++j) bias[i * t + j] = j <= i ? 0.f : ninf;
  }
  static void run(const TiledPlan& p, const float* causal_bias, const KernCtx& ctx) {
    kernels::AttentionArgs a = p.a;
    a.q = ctx.input(0).ptr<float>();
    a.k = ctx.input(1).ptr<float>();
    a.v = ctx.input(2).ptr<float>();
    a.mask = p.causal ? causal_bias : ctx.has(3) ? ctx.input(3).ptr<float>() : nullptr;
    a.o = ctx.output(0).ptr<float>();
    kernels::attention_run(a, ctx.comp_node, ctx.workspace, ctx.workspace_stride);
  }
};

const AttentionTiled kTiled;

}  // namespace

const Algo* attention_tiled_algo() { return &kTiled; }

}  // namespace loadrun
