// Attention (ONNX, opsets 23-25): scaled dot-product attention,
//   Y = softmax(softcap(scale * Q K^T) + bias) V,
// per batch and query head.
// Shapes: 4-D Q (B, Hq, Sq, D), K (B, Hkv, Skv, D), V (B, Hkv, Skv, Dv); or
// 3-D Q (B, Sq, Hq*D), K (B, Skv, Hkv*D), V (B, Skv, Hkv*Dv) with the
// q_num_heads / kv_num_heads attributes (Y is then (B, Sq, Hq*Dv)). Grouped
// query attention: Hq is a multiple of Hkv and query head h reads KV head
// h / (Hq / Hkv). past_key / past_value (B, Hkv, P, D|Dv) are prepended to K
// and V along the sequence (total length T = P + Skv); present_key /
// present_value output that concatenation (always 4-D).
// scale defaults to 1/sqrt(D); softcap > 0 maps a logit s to
// softcap * tanh(s / softcap) before the bias is added.
// The additive bias of (b, h, i, j) is the sum of
//  - attn_mask, broadcast right-aligned to (B, Hq, Sq, T): bool (false ->
//    -inf, true -> 0) or the query's float type (added as is); a last dim
//    shorter than T is padded with -inf (false);
//  - is_causal: -inf unless j <= i + offset;
//  - left_window_size / right_window_size (opset 25, -1 = unbounded): -inf
//    unless offset + i - left <= j <= offset + i + right;
//  - nonpad_kv_seqlen (opset 24, int64 (B,)): -inf for j >= nonpad[b];
// where offset = P with a past cache, nonpad[b] - Sq with nonpad_kv_seqlen,
// else 0. A query row whose bias is -inf everywhere gives a zero row (Y and
// the probabilities), never NaN.
// qk_matmul_output (optional 4th output, (B, Hq, Sq, T)): mode 0 the scaled
// QK^T (as the spec and ONNX Runtime have it; the ONNX reference
// implementation writes it after softcap), 1 after softcap, 2 that plus the
// bias, 3 the softmax probabilities.
// Types: float32, float64, float16 and bfloat16 (computed in float32 or
// wider, rounded on output); softmax_precision is accepted and the softmax
// always runs in double.
// FlexAttention (ai.onnx.preview, version 1), in the same file: 4-D Q, K, V
// only, Y = softmax(scale * Q K^T) V with the same GQA head grouping and no
// bias; without modifiers it runs as an Attention without mask or cache.
// Its score_mod / prob_mod GRAPH attributes each map a (B, Hq, Sq, T) tensor
// to one of the same shape: score_mod the scaled scores before the softmax,
// prob_mod the probabilities after it. With either, the op runs them inside:
// scores = scale * Q K^T rounded to the softmax dtype (softmax_precision,
// else float64 for float64 inputs and float32 otherwise, as the ONNX
// reference has it), score_mod, softmax over the last axis (in double,
// rounded back; a row all -inf gives NaN as Softmax does), prob_mod, then
// Y = P V accumulated in double. The subgraphs may read outer values
// (captures, appended to the node's inputs: see subgraph.h).
// NAIVE: for every (b, h, i): one pass over the T keys computing the dot
// products (in double), softcap and bias; a max / exp / sum softmax over the
// row; then Y's row as the probability-weighted sum of the value rows.
// O(B * Hq * Sq * T * (D + Dv)); five row buffers of T doubles.
// ATTENTION_TILED, the float32 fast algorithm: attention_tiled.cpp.
#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/elementwise.h"

namespace loadrun {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

bool is_float(DType d) { return dtype_is_compute_float(d); }

}  // namespace

AttentionOp::AttentionOp(const Attrs& a)
    : is_causal(a.get_int("is_causal", 0)),
      q_heads(a.get_int("q_num_heads", 0)),
      kv_heads(a.get_int("kv_num_heads", 0)),
      mode(a.get_int("qk_matmul_output_mode", 0)),
      left(a.get_int("left_window_size", -1)),
      right(a.get_int("right_window_size", -1)),
      softmax_precision(a.get_int("softmax_precision", 0)),
      has_scale(a.has("scale")),
      scale(a.get_float("scale", 0.0)),
      softcap(a.get_float("softcap", 0.0)) {
  LR_CHECK(is_causal == 0 || is_causal == 1, ModelError, "Attention: is_causal must be 0 or 1, got ",
           is_causal);
  LR_CHECK(mode >= 0 && mode <= 3, ModelError,
           "Attention: qk_matmul_output_mode must be 0..3, got ", mode);
  LR_CHECK(left >= -1 && right >= -1, ModelError,
           "Attention: left/right_window_size must be -1 or >= 0, got ", left, " and ", right);
  LR_CHECK(softmax_precision == 0 || softmax_precision == 1 || softmax_precision == 10 ||
               softmax_precision == 11 || softmax_precision == 16,
           ModelError, "Attention: softmax_precision must be 1, 10, 11 or 16, got ",
           softmax_precision);
  LR_CHECK(softcap >= 0, ModelError, "Attention: softcap must be >= 0, got ", softcap);
}

std::string AttentionOp::param_key() const {
  return str_cat(flex, ";", is_causal, ";", q_heads, ";", kv_heads, ";", mode, ";", left, ";", right, ";",
                 softmax_precision, ";", has_scale, ";", scale, ";", softcap);
}

AttnGeo AttentionOp::geometry(const Shape& q, const Shape& k, const Shape& v, const Shape* pk,
                              const Shape* pv) const {
  LR_CHECK((q.size() == 3 || q.size() == 4) && k.size() == q.size() && v.size() == q.size(),
           ModelError, "Attention: Q, K, V must all be 3-D or all 4-D, got ", shape_str(q), ", ",
           shape_str(k), ", ", shape_str(v));
  LR_CHECK(!flex || q.size() == 4, ModelError, "FlexAttention: Q, K, V must be 4-D, got ",
           shape_str(q));
  AttnGeo g;
  g.three_d = q.size() == 3;
  g.B = q[0];
  LR_CHECK(k[0] == g.B && v[0] == g.B, ModelError, "Attention: batch sizes of Q ", shape_str(q),
           ", K ", shape_str(k), ", V ", shape_str(v), " differ");
  if (g.three_d) {
    LR_CHECK(q_heads > 0 && kv_heads > 0, ModelError,
             "Attention: 3-D inputs need q_num_heads and kv_num_heads (> 0)");
    LR_CHECK(q[2] % q_heads == 0 && k[2] % kv_heads == 0 && v[2] % kv_heads == 0, ModelError,
             "Attention: hidden sizes of Q ", shape_str(q), ", K ", shape_str(k), ", V ",
             shape_str(v), " are not multiples of the head counts ", q_heads, " and ", kv_heads);
    g.Hq = q_heads;
    g.Hkv = kv_heads;
    g.Sq = q[1];
    g.Skv = k[1];
    g.D = q[2] / q_heads;
    LR_CHECK(k[2] / kv_heads == g.D, ModelError, "Attention: head size of Q (", g.D,
             ") and K (", k[2] / kv_heads, ") differ");
    LR_CHECK(v[1] == g.Skv, ModelError, "Attention: K and V sequence lengths differ: ",
             shape_str(k), " vs ", shape_str(v));
    g.Dv = v[2] / kv_heads;
  } else {
    g.Hq = q[1];
    g.Hkv = k[1];
    g.Sq = q[2];
    g.Skv = k[2];
    g.D = q[3];
    LR_CHECK(k[3] == g.D, ModelError, "Attention: head size of Q ", shape_str(q), " and K ",
             shape_str(k), " differ");
    LR_CHECK(v[1] == g.Hkv && v[2] == g.Skv, ModelError, "Attention: K ", shape_str(k),
             " and V ", shape_str(v), " differ in heads or sequence length");
    g.Dv = v[3];
    LR_CHECK(q_heads == 0 || q_heads == g.Hq, ModelError, "Attention: q_num_heads ", q_heads,
             " does not match Q ", shape_str(q));
    LR_CHECK(kv_heads == 0 || kv_heads == g.Hkv, ModelError, "Attention: kv_num_heads ",
             kv_heads, " does not match K ", shape_str(k));
  }
  LR_CHECK(g.Hkv > 0 && g.Hq % g.Hkv == 0, ModelError, "Attention: query heads ", g.Hq,
           " must be a multiple of key/value heads ", g.Hkv);
  g.P = 0;
  LR_CHECK((pk == nullptr) == (pv == nullptr), ModelError,
           "Attention: past_key and past_value must be given together");
  if (pk) {
    LR_CHECK(pk->size() == 4 && (*pk)[0] == g.B && (*pk)[1] == g.Hkv && (*pk)[3] == g.D,
             ModelError, "Attention: past_key must be (", g.B, ", ", g.Hkv, ", P, ", g.D,
             "), got ", shape_str(*pk));
    g.P = (*pk)[2];
    LR_CHECK(*pv == Shape({g.B, g.Hkv, g.P, g.Dv}), ModelError, "Attention: past_value must be ",
             shape_str({g.B, g.Hkv, g.P, g.Dv}), ", got ", shape_str(*pv));
  }
  g.T = g.P + g.Skv;
  return g;
}

void AttentionOp::infer(InferCtx& ctx) const {
  if (flex)
    LR_CHECK(ctx.num_inputs() == static_cast<size_t>(3 + captures), ModelError,
             "FlexAttention: ", ctx.num_inputs(), " inputs, expected Q, K, V and ", captures,
             " captured by its modifiers");
  const Layout& q = ctx.input(0);
  const Layout& k = ctx.input(1);
  const Layout& v = ctx.input(2);
  LR_CHECK(is_float(q.dtype), UnsupportedError, "Attention on ", dtype_name(q.dtype),
           ": supported are float32, float64 and float16");
  LR_CHECK(k.dtype == q.dtype && v.dtype == q.dtype, UnsupportedError,
           "Attention: Q, K, V must share one dtype here, got ", dtype_name(q.dtype), ", ",
           dtype_name(k.dtype), ", ", dtype_name(v.dtype));
  LR_CHECK(ctx.has(4) == ctx.has(5), ModelError,
           "Attention: past_key and past_value must be given together");
  AttnGeo g = geometry(q.shape, k.shape, v.shape, ctx.has(4) ? &ctx.input(4).shape : nullptr,
                       ctx.has(5) ? &ctx.input(5).shape : nullptr);
  for (size_t i = 4; i <= 5 && !flex; ++i)
    if (ctx.has(i))
      LR_CHECK(ctx.input(i).dtype == q.dtype, ModelError, "Attention: ",
               i == 4 ? "past_key" : "past_value", " is ", dtype_name(ctx.input(i).dtype),
               " but Q is ", dtype_name(q.dtype));
  if (ctx.has(3) && !flex) {
    const Layout& m = ctx.input(3);
    LR_CHECK(m.dtype == DType::Bool || m.dtype == q.dtype, UnsupportedError,
             "Attention: attn_mask of dtype ", dtype_name(m.dtype),
             " (supported: bool or the query's dtype ", dtype_name(q.dtype), ")");
    check_mask(m.shape, g);
  }
  if (ctx.has(6) && !flex) {
    const Layout& n = ctx.input(6);
    LR_CHECK(!ctx.has(4), ModelError,
             "Attention: nonpad_kv_seqlen cannot be combined with past_key/past_value");
    LR_CHECK(n.dtype == DType::Int64 && n.shape == Shape({g.B}), ModelError,
             "Attention: nonpad_kv_seqlen must be int64 of shape (", g.B, "), got ",
             dtype_name(n.dtype), " ", shape_str(n.shape));
  }
  if (g.three_d)
    ctx.set_output(0, {g.B, g.Sq, g.Hq * g.Dv}, q.dtype);
  else
    ctx.set_output(0, {g.B, g.Hq, g.Sq, g.Dv}, q.dtype);
  LR_CHECK(ctx.out.size() <= 4, ModelError, "Attention has at most 4 outputs, got ",
           ctx.out.size());
  if (ctx.out.size() > 1) ctx.set_output(1, {g.B, g.Hkv, g.T, g.D}, q.dtype);
  if (ctx.out.size() > 2) ctx.set_output(2, {g.B, g.Hkv, g.T, g.Dv}, q.dtype);
  if (ctx.out.size() > 3) ctx.set_output(3, {g.B, g.Hq, g.Sq, g.T}, q.dtype);
}

void AttentionOp::check_mask(const Shape& m, const AttnGeo& g) {
  const Shape full{g.B, g.Hq, g.Sq, g.T};
  bool ok = m.size() >= 1 && m.size() <= 4 && m.back() <= g.T;
  for (size_t i = 0; ok && i + 1 < m.size(); ++i) {
    int64_t t = full[4 - m.size() + i];
    ok = m[i] == 1 || m[i] == t;
  }
  LR_CHECK(ok, ModelError, "Attention: attn_mask ", shape_str(m), " does not broadcast to ",
           shape_str(full), " (its last dim may be shorter than T and is then padded)");
}

MaskView mask_view(const Shape& m) {
  MaskView v;
  Shape st = contiguous_strides(m);
  int64_t* dst[4] = {&v.sb, &v.sh, &v.si, &v.sj};
  for (size_t i = 0; i < m.size(); ++i) {
    size_t d = 4 - m.size() + i;
    *dst[d] = (m[i] == 1 && d != 3) ? 0 : st[i];
  }
  v.len = m.back();
  return v;
}

namespace {

// np.max semantics: NaN if any element is NaN.
double row_max(const std::vector<double>& r) {
  double m = kNegInf;
  for (double x : r) {
    if (std::isnan(x)) return x;
    if (x > m) m = x;
  }
  return m;
}

template <typename T>
void attention_naive_t(const AttentionOp& op, const KernCtx& ctx) {
  using C = typename Num<T>::C;
  auto ld = [](T x) { return static_cast<double>(Num<T>::ld(x)); };
  auto st = [](double x) { return Num<T>::st(static_cast<C>(x)); };
  const Tensor& qt = ctx.input(0);
  const Tensor& kt = ctx.input(1);
  const Tensor& vt = ctx.input(2);
  const bool past = ctx.has(4) && !op.flex;
  AttnGeo g = op.geometry(qt.shape(), kt.shape(), vt.shape(),
                          past ? &ctx.input(4).shape() : nullptr,
                          past ? &ctx.input(5).shape() : nullptr);
  const T* q = qt.ptr<T>();
  const T* k = kt.ptr<T>();
  const T* v = vt.ptr<T>();
  const T* pk = past ? ctx.input(4).ptr<T>() : nullptr;
  const T* pv = past ? ctx.input(5).ptr<T>() : nullptr;
  const int64_t* nonpad = ctx.has(6) && !op.flex ? ctx.input(6).ptr<int64_t>() : nullptr;
  const bool has_mask = ctx.has(3) && !op.flex;
  const bool mask_bool = has_mask && ctx.input(3).dtype() == DType::Bool;
  MaskView mv = has_mask ? mask_view(ctx.input(3).shape()) : MaskView{};
  const double scale = op.has_scale ? op.scale : 1.0 / std::sqrt(static_cast<double>(g.D));
  const int64_t group = g.Hq / g.Hkv;

  // Key / value row j (of T) of KV head hk: from the past cache or K / V.
  auto key_row = [&](int64_t b, int64_t hk, int64_t j) -> const T* {
    if (j < g.P) return pk + ((b * g.Hkv + hk) * g.P + j) * g.D;
    return k + g.off(b, hk, j - g.P, g.Hkv, g.Skv, g.D);
  };
  auto value_row = [&](int64_t b, int64_t hk, int64_t j) -> const T* {
    if (j < g.P) return pv + ((b * g.Hkv + hk) * g.P + j) * g.Dv;
    return v + g.off(b, hk, j - g.P, g.Hkv, g.Skv, g.Dv);
  };

  // present_key / present_value: the concatenated caches, 4-D.
  for (int oi = 1; oi <= 2 && oi < static_cast<int>(ctx.out.size()); ++oi) {
    const int64_t W = oi == 1 ? g.D : g.Dv;
    T* dst = ctx.output(oi).ptr<T>();
    for (int64_t b = 0; b < g.B; ++b)
      for (int64_t hk = 0; hk < g.Hkv; ++hk)
        for (int64_t j = 0; j < g.T; ++j) {
          const T* src = oi == 1 ? key_row(b, hk, j) : value_row(b, hk, j);
          T* d = dst + ((b * g.Hkv + hk) * g.T + j) * W;
          for (int64_t c = 0; c < W; ++c) d[c] = src[c];
        }
  }

  T* y = ctx.output(0).ptr<T>();
  T* qk_out = ctx.out.size() > 3 ? ctx.output(3).ptr<T>() : nullptr;
  std::vector<double> raw(g.T), capped(g.T), bias(g.T), score(g.T), prob(g.T);
  for (int64_t b = 0; b < g.B; ++b) {
    int64_t offset = 0;
    if (past) offset = g.P;
    else if (nonpad) offset = nonpad[b] - g.Sq;
    for (int64_t h = 0; h < g.Hq; ++h) {
      const int64_t hk = h / group;
      for (int64_t i = 0; i < g.Sq; ++i) {
        const T* qr = q + g.off(b, h, i, g.Hq, g.Sq, g.D);
        for (int64_t j = 0; j < g.T; ++j) {
          const T* kr = key_row(b, hk, j);
          double s = 0;
          for (int64_t d = 0; d < g.D; ++d) s += ld(qr[d]) * ld(kr[d]);
          s *= scale;
          raw[j] = s;
          if (op.softcap > 0) s = op.softcap * std::tanh(s / op.softcap);
          capped[j] = s;
          // Bias, summed in the order the ONNX reference adds its parts.
          double bj = 0;
          if (has_mask) {
            if (j >= mv.len) {
              bj = kNegInf;
            } else {
              int64_t mo = b * mv.sb + h * mv.sh + i * mv.si + j * mv.sj;
              if (mask_bool) bj = ctx.input(3).ptr<bool>()[mo] ? 0.0 : kNegInf;
              else bj = ld(ctx.input(3).ptr<T>()[mo]);
            }
          }
          if (op.is_causal && !(j <= i + offset)) bj += kNegInf;
          const int64_t diff = offset + i - j;
          if ((op.left >= 0 && diff > op.left) || (op.right >= 0 && -diff > op.right)) bj += kNegInf;
          if (nonpad && !(j < nonpad[b])) bj += kNegInf;
          bias[j] = bj;
          score[j] = s + bj;
        }
        // Softmax over the row; an all -inf row gives zeros.
        const double mx = row_max(score);
        const double safe = std::isinf(mx) && mx < 0 ? 0.0 : mx;
        double sum = 0;
        for (int64_t j = 0; j < g.T; ++j) {
          prob[j] = std::exp(score[j] - safe);
          sum += prob[j];
        }
        if (sum == 0) sum = 1;
        const double bmax = row_max(bias);
        const bool all_masked = std::isinf(bmax) && bmax < 0;
        for (int64_t j = 0; j < g.T; ++j) prob[j] = all_masked ? 0.0 : prob[j] / sum;
        if (qk_out) {
          T* row = qk_out + ((b * g.Hq + h) * g.Sq + i) * g.T;
          for (int64_t j = 0; j < g.T; ++j) {
            double val = op.mode == 3   ? prob[j]
                         : op.mode == 2 ? score[j]
                         : op.mode == 1 ? capped[j]
                                        : raw[j];
            row[j] = st(val);
          }
        }
        T* yr = y + g.off(b, h, i, g.Hq, g.Sq, g.Dv);
        for (int64_t c = 0; c < g.Dv; ++c) {
          double acc = 0;
          for (int64_t j = 0; j < g.T; ++j) acc += prob[j] * ld(value_row(b, hk, j)[c]);
          yr[c] = st(acc);
        }
      }
    }
  }
}

// FlexAttention with score_mod / prob_mod (see the top of this file).
void flex_mod_naive(const AttentionOp& op, const KernCtx& ctx) {
  const Tensor& qt = ctx.input(0);
  const Tensor& kt = ctx.input(1);
  const Tensor& vt = ctx.input(2);
  AttnGeo g = op.geometry(qt.shape(), kt.shape(), vt.shape(), nullptr, nullptr);
  DType cdt = qt.dtype() == DType::Float64 ? DType::Float64 : DType::Float32;
  if (op.softmax_precision == 1) cdt = DType::Float32;
  if (op.softmax_precision == 10) cdt = DType::Float16;
  if (op.softmax_precision == 11) cdt = DType::Float64;
  LR_CHECK(op.softmax_precision != 16, UnsupportedError,
           "FlexAttention: softmax_precision bfloat16 with score_mod / prob_mod");
  const double scale = op.has_scale ? op.scale : 1.0 / std::sqrt(static_cast<double>(g.D));
  const int64_t group = g.Hq / g.Hkv;
  const Shape sshape{g.B, g.Hq, g.Sq, g.T};
  std::vector<Value> feeds(1);
  for (size_t i = 3; i < ctx.in.size(); ++i) {
    if (const Value* v = ctx.seq(i)) feeds.push_back(*v);
    else feeds.push_back(Value::of_tensor(ctx.input(i)));
  }
  // Runs a modifier on `t`; its result, checked, in the softmax dtype.
  auto modify = [&](SubGraph& mod, Tensor t) {
    feeds[0] = Value::of_tensor(t);
    std::vector<Value> outs = mod.run_values(ctx.runtime, feeds);
    LR_CHECK(outs.size() == 1 && outs[0].is_tensor(), ModelError, "FlexAttention: ", mod.what(),
             " must give one tensor");
    const Tensor& r = outs[0].tensor;
    LR_CHECK(r.shape() == sshape, ModelError, "FlexAttention: ", mod.what(), " gives shape ",
             shape_str(r.shape()), ", expected ", shape_str(sshape));
    if (r.dtype() == cdt) return r;
    Tensor c{Layout(sshape, cdt)};
    for (int64_t i = 0; i < c.numel(); ++i) c.set_f64(i, r.get_f64(i));
    return c;
  };
  Tensor scores{Layout(sshape, cdt)};
  for (int64_t b = 0; b < g.B; ++b)
    for (int64_t h = 0; h < g.Hq; ++h)
      for (int64_t i = 0; i < g.Sq; ++i)
        for (int64_t j = 0; j < g.T; ++j) {
          int64_t qo = g.off(b, h, i, g.Hq, g.Sq, g.D), ko = g.off(b, h / group, j, g.Hkv, g.Skv, g.D);
          double acc = 0;
          for (int64_t d = 0; d < g.D; ++d) acc += qt.get_f64(qo + d) * kt.get_f64(ko + d);
          scores.set_f64(((b * g.Hq + h) * g.Sq + i) * g.T + j, acc * scale);
        }
  if (op.score_mod) scores = modify(*op.score_mod, scores);
  Tensor probs{Layout(sshape, cdt)};
  std::vector<double> row(g.T);
  for (int64_t r = 0; r < g.B * g.Hq * g.Sq; ++r) {
    double mx = -std::numeric_limits<double>::infinity(), sum = 0;
    for (int64_t j = 0; j < g.T; ++j) {
      row[j] = scores.get_f64(r * g.T + j);
      mx = std::isnan(row[j]) || row[j] > mx ? row[j] : mx;
    }
    for (int64_t j = 0; j < g.T; ++j) sum += (row[j] = std::exp(row[j] - mx));
    for (int64_t j = 0; j < g.T; ++j) probs.set_f64(r * g.T + j, row[j] / sum);
  }
  if (op.prob_mod) probs = modify(*op.prob_mod, probs);
  Tensor& y = ctx.output(0);
  for (int64_t b = 0; b < g.B; ++b)
    for (int64_t h = 0; h < g.Hq; ++h)
      for (int64_t i = 0; i < g.Sq; ++i) {
        int64_t pr = ((b * g.Hq + h) * g.Sq + i) * g.T;
        int64_t yo = g.off(b, h, i, g.Hq, g.Sq, g.Dv);
        for (int64_t c = 0; c < g.Dv; ++c) {
          double acc = 0;
          for (int64_t j = 0; j < g.T; ++j)
            acc += probs.get_f64(pr + j) * vt.get_f64(g.off(b, h / group, j, g.Hkv, g.Skv, g.Dv) + c);
          y.set_f64(yo + c, acc);
        }
      }
}

void attention_naive(const AttentionOp& op, const KernCtx& ctx) {
  if (op.score_mod || op.prob_mod) return flex_mod_naive(op, ctx);
  LR_EW_DISPATCH_FLOAT(ctx.input(0).dtype(), "Attention", attention_naive_t<T>(op, ctx));
}

const auto kNaive = naive_algo<AttentionOp>(attention_naive);

}  // namespace

void register_op_Attention(OpRegistry& r) {
  register_simple<AttentionOp>(r, "Attention", {&kNaive, attention_tiled_algo()}, 3, 7);
}

void register_op_FlexAttention(OpRegistry& r) {
  OpDef d;
  d.type = "FlexAttention";
  d.domain = "ai.onnx.preview";
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> {
    for (const auto& kv : a.all())
      LR_CHECK(kv.first == "scale" || kv.first == "softmax_precision" || kv.first == "score_mod" ||
                   kv.first == "prob_mod" || kv.first == "_loadrun_captures",
               ModelError, "FlexAttention: unknown attribute '", kv.first, "'");
    auto op = std::make_unique<AttentionOp>(a);
    op->flex = true;
    op->captures = num_captures(a);
    if (a.has("score_mod")) op->score_mod = std::make_unique<SubGraph>(a.require_graph("score_mod"), "score_mod");
    if (a.has("prob_mod")) op->prob_mod = std::make_unique<SubGraph>(a.require_graph("prob_mod"), "prob_mod");
    for (const auto* m : {op->score_mod.get(), op->prob_mod.get()})
      if (m)
        LR_CHECK(m->num_inputs() == static_cast<size_t>(1 + op->captures) && m->num_outputs() == 1,
                 ModelError, "FlexAttention: ", m->what(), " must take one tensor (and ",
                 op->captures, " captured) and give one, it has ", m->num_inputs(), " inputs and ",
                 m->num_outputs(), " outputs");
    return op;
  };
  d.algos = {&kNaive};
  d.min_inputs = 3;
  r.add(std::move(d));
}

}  // namespace loadrun