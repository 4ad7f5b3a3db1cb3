// LayerNormalization (ONNX, opset 17): the dims [axis, rank) of X are
// normalised together: Y = (X - mean) / sqrt(var + epsilon) * Scale + B,
// with the population variance. Scale and the optional B broadcast over the
// normalised dims (right-aligned; a leading dim of 1 beyond them is allowed).
// Optional outputs Mean and InvStdDev = 1/sqrt(var + epsilon) have X's shape
// with the normalised dims set to 1, in float32 (stash_type 1, the only one
// supported).
// NAIVE: per row of the [outer, n] view, one pass for the mean and one for
// the variance (accumulated in double), then one writing Y. O(3n) per row,
// no workspace.
#include <cmath>

#include "kernels/fast_algo.h"
#include "kernels/parallel_split.h"
#include "ops/common.h"

namespace loadrun {

namespace {

struct LayerNormOp final : Op {
  int64_t axis;
  double epsilon;
  int64_t stash_type;
  explicit LayerNormOp(const Attrs& a)
      : axis(a.get_int("axis", -1)),
        epsilon(a.get_float("epsilon", 1e-5)),
        stash_type(a.get_int("stash_type", 1)) {}
  std::string param_key() const override { return str_cat(axis, ";", epsilon, ";", stash_type); }

  void check_param(const Layout& p, const Shape& norm, const char* what) const {
    // Drop leading 1s beyond the normalised rank, then broadcast right-aligned.
    size_t lead = p.ndim() > norm.size() ? p.ndim() - norm.size() : 0;
    bool ok = true;
    for (size_t i = 0; i < lead; ++i) ok = ok && p.shape[i] == 1;
    for (size_t i = lead; ok && i < p.ndim(); ++i) {
      int64_t d = p.shape[i], nd = norm[norm.size() - (p.ndim() - i)];
      ok = d == 1 || d == nd;
    }
    LR_CHECK(ok, ModelError, what, " of shape ", shape_str(p.shape),
             " does not broadcast to the normalised shape ", shape_str(norm));
  }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(ctx.out.size() <= 3, ModelError, "LayerNormalization has at most 3 outputs, got ",
             ctx.out.size());
    LR_CHECK(dtype_is_compute_float(x.dtype), UnsupportedError, "LayerNormalization on ",
             dtype_name(x.dtype), ": only float16, bfloat16, float32 and float64 are supported");
    LR_CHECK(stash_type == 1, UnsupportedError, "LayerNormalization stash_type ", stash_type,
             ": only 1 (float32) is supported");
    size_t a = static_cast<size_t>(normalize_axis(axis, static_cast<int64_t>(x.ndim())));
    Shape norm(x.shape.begin() + a, x.shape.end());
    const Layout& scale = ctx.input(1);
    LR_CHECK(scale.dtype == x.dtype, ModelError, "Scale is ", dtype_name(scale.dtype),
             " but X is ", dtype_name(x.dtype));
    check_param(scale, norm, "Scale");
    if (ctx.has(2)) {
      const Layout& b = ctx.input(2);
      LR_CHECK(b.dtype == x.dtype, ModelError, "B is ", dtype_name(b.dtype), " but X is ",
               dtype_name(x.dtype));
      check_param(b, norm, "B");
    }
    ctx.set_output(0, x.shape, x.dtype);
    Shape stat = x.shape;
    for (size_t i = a; i < stat.size(); ++i) stat[i] = 1;
    for (size_t o = 1; o < ctx.out.size() && o < 3; ++o) ctx.set_output(o, stat, DType::Float32);
  }
};

// Element offsets of a broadcast parameter over the normalised dims.
std::vector<int64_t> param_offsets(const Shape& p, const Shape& norm) {
  Shape ps = p;
  while (ps.size() > norm.size()) ps.erase(ps.begin());
  BroadcastIndexer bi(norm, {ps});
  std::vector<int64_t> off(static_cast<size_t>(bi.numel()));
  for (int64_t i = 0; i < bi.numel(); ++i) off[i] = bi.offset(0, i);
  return off;
}

template <typename T>
void layer_norm_naive_t(const LayerNormOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const Shape& xs = xt.shape();
  size_t a = static_cast<size_t>(normalize_axis(op.axis, static_cast<int64_t>(xs.size())));
  Shape norm(xs.begin() + a, xs.end());
  const int64_t outer = dims_product(xs, 0, a), n = shape_numel(norm);
  std::vector<int64_t> s_off = param_offsets(ctx.input(1).shape(), norm);
  std::vector<int64_t> b_off;
  if (ctx.has(2)) b_off = param_offsets(ctx.input(2).shape(), norm);
  const T* x = xt.ptr<T>();
  const T* scale = ctx.input(1).ptr<T>();
  const T* bias = ctx.has(2) ? ctx.input(2).ptr<T>() : nullptr;
  T* y = ctx.output(0).ptr<T>();
  float* mean_out = ctx.out.size() > 1 ? ctx.output(1).ptr<float>() : nullptr;
  float* inv_out = ctx.out.size() > 2 ? ctx.output(2).ptr<float>() : nullptr;
  for (int64_t o = 0; o < outer; ++o) {
    const T* xr = x + o * n;
    T* yr = y + o * n;
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += xr[i];
    double mean = n ? sum / n : 0.0;
    double sq = 0;
    for (int64_t i = 0; i < n; ++i) sq += (xr[i] - mean) * (xr[i] - mean);
    double var = n ? sq / n : 0.0;
    double inv = 1.0 / std::sqrt(var + op.epsilon);
    for (int64_t i = 0; i < n; ++i) {
      double v = (xr[i] - mean) * inv * scale[s_off[i]];
      if (bias) v += bias[b_off[i]];
      yr[i] = static_cast<T>(v);
    }
    if (mean_out) mean_out[o] = static_cast<float>(mean);
    if (inv_out) inv_out[o] = static_cast<float>(inv);
  }
}

void layer_norm_naive(const LayerNormOp& op, const KernCtx& ctx) {
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    LR_DISPATCH_FLOAT(c.input(0).dtype(), "LayerNormalization", layer_norm_naive_t<T>(op, c));
  });
}

const auto kNaive = naive_algo<LayerNormOp>(layer_norm_naive);

// --- fast algorithm (LAYERNORM_FAST, on kernel_table()): float32 with
// Scale (and B, if given) covering the whole normalised block (no broadcast
// inside it). Per row: vectorised sum for a float mean m0, then one pass
// summing the deviations d = x - m0 and their squares (float accumulators,
// 8 or more partial sums; NAIVE accumulates in double), which corrects the
// mean (c = sum d / n) and gives var = (sum d^2 - c sum d) / n, so a mean
// far larger than the spread costs no precision; 1 / sqrt(var + eps) in
// double, then one fused pass ((x - m0) - c) * inv * scale + bias. Mean /
// InvStdDev outputs as NAIVE. Agrees with NAIVE to about 1e-6 relative of
// the output scale, whatever the mean. Rows split over the step's threads.
bool layer_norm_fast_usable(const LayerNormOp& op, const InLayouts& in, const OutLayouts&) {
  const Layout& x = *in[0];
  if (x.dtype != DType::Float32) return false;
  size_t a = static_cast<size_t>(normalize_axis(op.axis, static_cast<int64_t>(x.ndim())));
  const int64_t n = dims_product(x.shape, a, x.ndim());
  if (in[1]->numel() != n) return false;
  return in.size() < 3 || !in[2] || in[2]->numel() == n;
}

void layer_norm_fast(const LayerNormOp& op, const KernCtx& ctx, const kernels::EltwiseImpl& impl) {
  const Tensor& xt = ctx.input(0);
  const Shape& xs = xt.shape();
  size_t a = static_cast<size_t>(normalize_axis(op.axis, static_cast<int64_t>(xs.size())));
  const int64_t outer = dims_product(xs, 0, a), n = dims_product(xs, a, xs.size());
  const float* x = xt.ptr<float>();
  const float* scale = ctx.input(1).ptr<float>();
  const float* bias = ctx.has(2) ? ctx.input(2).ptr<float>() : nullptr;
  float* y = ctx.output(0).ptr<float>();
  float* mean_out = ctx.out.size() > 1 && ctx.out[1] ? ctx.output(1).ptr<float>() : nullptr;
  float* inv_out = ctx.out.size() > 2 && ctx.out[2] ? ctx.output(2).ptr<float>() : nullptr;
  // Rows over the step's threads (each row as one thread alone computes it:
  // the same bits at any thread count); a row moves about 3n floats.
  kernels::split_items(ctx.comp_node, outer, 12.0 * static_cast<double>(n),
                       [&](int64_t o0, int64_t o1, int) {
                         for (int64_t o = o0; o < o1; ++o) {
                           float m, inv;
                           impl.layer_norm_row(x + o * n, y + o * n, n, scale, bias, op.epsilon,
                                               &m, &inv);
                           if (mean_out) mean_out[o] = m;
                           if (inv_out) inv_out[o] = inv;
                         }
                       });
}

const KernelAlgo<LayerNormOp> kFast("LAYERNORM_FAST", layer_norm_fast_usable,
                                            layer_norm_fast);

}  // namespace

void register_op_LayerNormalization(OpRegistry& r) {
  register_simple<LayerNormOp>(r, "LayerNormalization", {&kNaive, &kFast}, 2, 3);
}

}  // namespace loadrun
