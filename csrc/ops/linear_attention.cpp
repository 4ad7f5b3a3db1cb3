// LinearAttention (ONNX, opset 27): linear attention as a recurrence over
// the sequence with a per-KV-head state S of shape (d_k, d_v).
// query (B, T, Hq*d_k), key (B, T, Hkv*d_k), value (B, T, Hkv*d_v) are packed
// 3-D; past_state (B, Hkv, d_k, d_v) is the initial S (zeros when absent).
// For each step t, with k_t, v_t of the KV head:
//   gated / gated_delta: S <- exp(g_t) * S, g_t from decay, which is
//       (B, T, Hkv) (one value per head) or (B, T, Hkv*d_k) (per key row);
//   delta / gated_delta: v_t <- beta_t * (v_t - S^T k_t), beta (B, T, Hkv)
//       or (B, T, 1);
//   then S <- S + k_t v_t^T, and each query head h (reading KV head
//   h / (Hq / Hkv)) outputs scale * q_t^T S (scale 0 means 1/sqrt(d_k)).
// "linear" has neither decay nor beta, "gated" decay only, "delta" beta only,
// "gated_delta" (the default) both; giving a forbidden one is a model error.
// present_state is the final S, in past_state's dtype (query's when absent).
// chunk_size is a speed hint with no effect on results. Types: float32,
// float64, float16 (state and arithmetic in double, rounded on output).
// NAIVE: the recurrence exactly as written, per (batch, KV head), one step
// at a time. O(B * T * (Hkv + Hq) * d_k * d_v); one state of d_k*d_v doubles.
#include <cmath>

#include "ops/elementwise.h"

namespace loadrun {

namespace {

struct LinGeo {
  int64_t B, T, Hq, Hkv, dk, dv;
  bool decay_per_dim = false;
  bool beta_shared = false;
};

struct LinearAttentionOp final : Op {
  int64_t q_heads, kv_heads;
  double scale;
  std::string rule;
  bool gating, delta;
  explicit LinearAttentionOp(const Attrs& a)
      : q_heads(a.require_int("q_num_heads")),
        kv_heads(a.require_int("kv_num_heads")),
        scale(a.get_float("scale", 0.0)),
        rule(a.get_string("update_rule", "gated_delta")) {
    LR_CHECK(rule == "linear" || rule == "gated" || rule == "delta" || rule == "gated_delta",
             ModelError, "LinearAttention: update_rule must be linear, gated, delta or "
             "gated_delta, got \"", rule, "\"");
    LR_CHECK(q_heads > 0 && kv_heads > 0 && q_heads % kv_heads == 0, ModelError,
             "LinearAttention: q_num_heads (", q_heads, ") must be a positive multiple of "
             "kv_num_heads (", kv_heads, ")");
    gating = rule == "gated" || rule == "gated_delta";
    delta = rule == "delta" || rule == "gated_delta";
  }
  std::string param_key() const override {
    return str_cat(q_heads, ";", kv_heads, ";", scale, ";", rule);
  }

  template <typename Ctx, typename GetShape>
  LinGeo geometry(const Ctx& ctx, GetShape shape_of) const {
    const Shape q = shape_of(0), k = shape_of(1), v = shape_of(2);
    LR_CHECK(q.size() == 3 && k.size() == 3 && v.size() == 3, ModelError,
             "LinearAttention: query, key, value must be 3-D (B, T, H*D), got ", shape_str(q),
             ", ", shape_str(k), ", ", shape_str(v));
    LinGeo g;
    g.B = q[0];
    g.T = q[1];
    g.Hq = q_heads;
    g.Hkv = kv_heads;
    LR_CHECK(q[2] % q_heads == 0 && v[2] % kv_heads == 0, ModelError,
             "LinearAttention: query ", shape_str(q), " / value ", shape_str(v),
             " last dims are not multiples of the head counts ", q_heads, " / ", kv_heads);
    g.dk = q[2] / q_heads;
    g.dv = v[2] / kv_heads;
    LR_CHECK(k == Shape({g.B, g.T, kv_heads * g.dk}) && v[0] == g.B && v[1] == g.T, ModelError,
             "LinearAttention: key must be ", shape_str({g.B, g.T, kv_heads * g.dk}),
             " and value (", g.B, ", ", g.T, ", Hkv*d_v), got ", shape_str(k), " and ",
             shape_str(v));
    if (ctx.has(3))
      LR_CHECK(shape_of(3) == Shape({g.B, kv_heads, g.dk, g.dv}), ModelError,
               "LinearAttention: past_state must be ", shape_str({g.B, kv_heads, g.dk, g.dv}),
               ", got ", shape_str(shape_of(3)));
    LR_CHECK(ctx.has(4) == gating, ModelError, "LinearAttention: update_rule ", rule,
             gating ? " requires" : " forbids", " the decay input");
    LR_CHECK(ctx.has(5) == delta, ModelError, "LinearAttention: update_rule ", rule,
             delta ? " requires" : " forbids", " the beta input");
    if (gating) {
      const Shape d = shape_of(4);
      bool ok = d.size() == 3 && d[0] == g.B && d[1] == g.T &&
                (d[2] == kv_heads || d[2] == kv_heads * g.dk);
      LR_CHECK(ok, ModelError, "LinearAttention: decay must be (", g.B, ", ", g.T, ", ", kv_heads,
               " or ", kv_heads * g.dk, "), got ", shape_str(d));
      // With d_k == 1 both readings agree.
      g.decay_per_dim = d[2] != kv_heads;
    }
    if (delta) {
      const Shape b = shape_of(5);
      bool ok = b.size() == 3 && b[0] == g.B && b[1] == g.T && (b[2] == kv_heads || b[2] == 1);
      LR_CHECK(ok, ModelError, "LinearAttention: beta must be (", g.B, ", ", g.T, ", ", kv_heads,
               " or 1), got ", shape_str(b));
      g.beta_shared = b[2] == 1;
    }
    return g;
  }

  void infer(InferCtx& ctx) const override {
    const Layout& q = ctx.input(0);
    LR_CHECK(dtype_is_compute_float(q.dtype),
             UnsupportedError, "LinearAttention on ", dtype_name(q.dtype),
             ": supported are float32, float64, float16 and bfloat16");
    for (size_t i = 1; i < 6; ++i)
      if (ctx.has(i))
        LR_CHECK(ctx.input(i).dtype == q.dtype, UnsupportedError, "LinearAttention: input ", i,
                 " is ", dtype_name(ctx.input(i).dtype), " but query is ", dtype_name(q.dtype),
                 "; only one shared dtype is supported");
    LinGeo g = geometry(ctx, [&](size_t i) { return ctx.input(i).shape; });
    ctx.set_output(0, {g.B, g.T, g.Hq * g.dv}, q.dtype);
    if (ctx.out.size() > 1) ctx.set_output(1, {g.B, g.Hkv, g.dk, g.dv}, q.dtype);
  }
};

template <typename T>
void linear_attention_naive_t(const LinearAttentionOp& op, const KernCtx& ctx) {
  using C = typename Num<T>::C;
  auto ld = [](T x) { return static_cast<double>(Num<T>::ld(x)); };
  LinGeo g = op.geometry(ctx, [&](size_t i) { return ctx.input(i).shape(); });
  const T* q = ctx.input(0).ptr<T>();
  const T* k = ctx.input(1).ptr<T>();
  const T* v = ctx.input(2).ptr<T>();
  const T* past = ctx.has(3) ? ctx.input(3).ptr<T>() : nullptr;
  const T* decay = ctx.has(4) ? ctx.input(4).ptr<T>() : nullptr;
  const T* beta = ctx.has(5) ? ctx.input(5).ptr<T>() : nullptr;
  T* y = ctx.output(0).ptr<T>();
  T* present = ctx.out.size() > 1 ? ctx.output(1).ptr<T>() : nullptr;
  const double scale = op.scale != 0.0 ? op.scale : 1.0 / std::sqrt(static_cast<double>(g.dk));
  const int64_t group = g.Hq / g.Hkv;
  const int64_t decay_w = g.decay_per_dim ? g.Hkv * g.dk : g.Hkv;
  const int64_t beta_w = g.beta_shared ? 1 : g.Hkv;
  std::vector<double> S(static_cast<size_t>(g.dk * g.dv)), vt(static_cast<size_t>(g.dv));
  for (int64_t b = 0; b < g.B; ++b) {
    for (int64_t hk = 0; hk < g.Hkv; ++hk) {
      const int64_t s_off = (b * g.Hkv + hk) * g.dk * g.dv;
      for (int64_t i = 0; i < g.dk * g.dv; ++i) S[i] = past ? ld(past[s_off + i]) : 0.0;
      for (int64_t t = 0; t < g.T; ++t) {
        const int64_t bt = b * g.T + t;
        const T* kt = k + bt * g.Hkv * g.dk + hk * g.dk;
        const T* vr = v + bt * g.Hkv * g.dv + hk * g.dv;
        if (decay) {
          for (int64_t d = 0; d < g.dk; ++d) {
            const int64_t di = g.decay_per_dim ? hk * g.dk + d : hk;
            const double f = std::exp(ld(decay[bt * decay_w + di]));
            for (int64_t m = 0; m < g.dv; ++m) S[d * g.dv + m] *= f;
          }
        }
        for (int64_t m = 0; m < g.dv; ++m) vt[m] = ld(vr[m]);
        if (beta) {
          const double bb = ld(beta[bt * beta_w + (g.beta_shared ? 0 : hk)]);
          for (int64_t m = 0; m < g.dv; ++m) {
            double got = 0;
            for (int64_t d = 0; d < g.dk; ++d) got += S[d * g.dv + m] * ld(kt[d]);
            vt[m] = bb * (vt[m] - got);
          }
        }
        for (int64_t d = 0; d < g.dk; ++d)
          for (int64_t m = 0; m < g.dv; ++m) S[d * g.dv + m] += ld(kt[d]) * vt[m];
        for (int64_t h = hk * group; h < (hk + 1) * group; ++h) {
          const T* qt = q + bt * g.Hq * g.dk + h * g.dk;
          T* yt = y + bt * g.Hq * g.dv + h * g.dv;
          for (int64_t m = 0; m < g.dv; ++m) {
            double acc = 0;
            for (int64_t d = 0; d < g.dk; ++d) acc += ld(qt[d]) * S[d * g.dv + m];
            yt[m] = Num<T>::st(static_cast<C>(scale * acc));
          }
        }
      }
      if (present)
        for (int64_t i = 0; i < g.dk * g.dv; ++i)
          present[s_off + i] = Num<T>::st(static_cast<C>(S[i]));
    }
  }
}

void linear_attention_naive(const LinearAttentionOp& op, const KernCtx& ctx) {
  LR_EW_DISPATCH_FLOAT(ctx.input(0).dtype(), "LinearAttention",
                       linear_attention_naive_t<T>(op, ctx));
}

const auto kNaive = naive_algo<LinearAttentionOp>(linear_attention_naive);

}  // namespace

void register_op_LinearAttention(OpRegistry& r) {
  register_simple<LinearAttentionOp>(r, "LinearAttention", {&kNaive}, 3, 6);
}

}  // namespace loadrun
