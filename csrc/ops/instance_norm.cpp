// Normalisation by per-slice statistics (ONNX): InstanceNormalization,
// GroupNormalization and MeanVarianceNormalization.
//   InstanceNormalization: X (N, C, D...), scale and B (C); each (n, c)
//     slice is normalised: y = (x - mean) / sqrt(var + epsilon) * scale[c] + B[c].
//   GroupNormalization (opset 21): the C channels fall into num_groups equal
//     groups and each (n, group) is one slice; scale and bias are per channel.
//     Opset 18 gave them per group: the importer marks such nodes
//     (_scale_per_group) and the op reads scale[group] instead.
//   MeanVarianceNormalization: the slices are the `axes` (default 0, 2, 3);
//     y = (x - mean) / (sqrt(var) + 1e-9), as the ONNX function body says.
// The variance is the population variance. float16 computes in float32;
// statistics accumulate in double.
// NAIVE: Instance/Group walk each contiguous slice three times (mean,
// variance, write). MVN maps every element to its slice with the reduce
// odometer (stride 0 on the normalised axes) and makes the same three passes
// over the whole tensor. O(n) time; MVN keeps O(slices) statistics.
// NORM_FAST: Instance/Group on float32 with the row kernels, below.
#include <cmath>
#include <vector>

#include "kernels/fast_algo.h"
#include "kernels/parallel_split.h"
#include "ops/common.h"

namespace loadrun {

namespace {

enum class NormKind { Instance, Group };

struct ChannelNormOp final : Op {
  NormKind kind;
  double epsilon;
  int64_t groups;  // Group only
  bool scale_per_group;
  ChannelNormOp(NormKind k, const Attrs& a)
      : kind(k),
        epsilon(a.get_float("epsilon", 1e-5)),
        groups(k == NormKind::Group ? a.require_int("num_groups") : 0),
        scale_per_group(a.get_int("_scale_per_group", 0) != 0) {
    LR_CHECK(k != NormKind::Group || groups >= 1, ModelError, "num_groups must be >= 1, got ",
             groups);
  }
  const char* name() const {
    return kind == NormKind::Group ? "GroupNormalization" : "InstanceNormalization";
  }
  std::string param_key() const override {
    return str_cat(static_cast<int>(kind), ";", epsilon, ";", groups, ";", scale_per_group);
  }
  int64_t num_groups(int64_t c) const { return kind == NormKind::Group ? groups : c; }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(dtype_is_compute_float(x.dtype),
             UnsupportedError, name(), " on ", dtype_name(x.dtype),
             ": supported are float16, bfloat16, float32, float64");
    LR_CHECK(x.ndim() >= 2, ModelError, name(), ": input must be (N, C, ...), got ",
             shape_str(x.shape));
    int64_t c = x.shape[1], g = num_groups(c);
    LR_CHECK(c % g == 0, ModelError, name(), ": ", c, " channels do not divide into ", g,
             " groups");
    int64_t want = scale_per_group ? g : c;
    const char* names[2] = {"scale", "bias"};
    for (size_t i = 1; i <= 2; ++i) {
      const Layout& p = ctx.input(i);
      LR_CHECK(p.dtype == x.dtype && p.numel() == want && p.ndim() == 1, ModelError, name(), ": ",
               names[i - 1], " must be {", want, "} of ", dtype_name(x.dtype), ", got ", p.str());
    }
    ctx.set_output(0, x.shape, x.dtype);
  }
};

template <typename T>
void channel_norm_t(const ChannelNormOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const Shape& xs = xt.shape();
  const int64_t n = xs[0], c = xs[1], g = op.num_groups(c), cpg = c / g;
  const int64_t spatial = dims_product(xs, 2, xs.size()), len = cpg * spatial;
  const T* x = xt.ptr<T>();
  const T* scale = ctx.input(1).ptr<T>();
  const T* bias = ctx.input(2).ptr<T>();
  T* y = ctx.output(0).ptr<T>();
  for (int64_t s = 0; s < n * g; ++s) {
    const T* xp = x + s * len;
    T* yp = y + s * len;
    double sum = 0;
    for (int64_t i = 0; i < len; ++i) sum += static_cast<double>(xp[i]);
    double mean = len ? sum / static_cast<double>(len) : 0.0;
    double sq = 0;
    for (int64_t i = 0; i < len; ++i) sq += (xp[i] - mean) * (xp[i] - mean);
    double var = len ? sq / static_cast<double>(len) : 0.0;
    double inv = 1.0 / std::sqrt(var + op.epsilon);
    int64_t grp = s % g;
    for (int64_t i = 0; i < len; ++i) {
      int64_t ch = grp * cpg + i / spatial;
      int64_t pi = op.scale_per_group ? grp : ch;
      yp[i] = static_cast<T>((xp[i] - mean) * inv * static_cast<double>(scale[pi]) +
                             static_cast<double>(bias[pi]));
    }
  }
}

void channel_norm_naive(const ChannelNormOp& op, const KernCtx& ctx) {
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    LR_DISPATCH_FLOAT(c.input(0).dtype(), op.name(), channel_norm_t<T>(op, c));
  });
}

const auto kChannelNaive = naive_algo<ChannelNormOp>(channel_norm_naive);

// --- NORM_FAST (float32, on kernel_table()): per (n, group) slice the
// statistics and (x - mean) * inv of layer_norm_row (float sums, <= ~1e-6
// relative against NAIVE's double ones; scale 1), then one scale_shift per
// channel (y * scale + bias). The slices are split over the step's threads;
// each is computed whole by one thread, so results do not depend on the
// thread count.
bool channel_norm_fast_usable(const ChannelNormOp&, const InLayouts& in, const OutLayouts&) {
  return in[0]->dtype == DType::Float32;
}

void channel_norm_fast(const ChannelNormOp& op, const KernCtx& ctx,
                       const kernels::EltwiseImpl& impl) {
  const Tensor& xt = ctx.input(0);
  const Shape& xs = xt.shape();
  const int64_t n = xs[0], c = xs[1], g = op.num_groups(c), cpg = c / g;
  const int64_t spatial = dims_product(xs, 2, xs.size()), len = cpg * spatial;
  if (n * c * spatial == 0) return;
  const float* x = xt.ptr<float>();
  const float* scale = ctx.input(1).ptr<float>();
  const float* bias = ctx.input(2).ptr<float>();
  float* y = ctx.output(0).ptr<float>();
  const std::vector<float> ones(static_cast<size_t>(len), 1.f);
  kernels::split_items(ctx.comp_node, n * g, 16.0 * static_cast<double>(len),
                       [&](int64_t begin, int64_t end, int) {
    for (int64_t s = begin; s < end; ++s) {
      float mean = 0, inv = 0;
      float* yp = y + s * len;
      impl.layer_norm_row(x + s * len, yp, len, ones.data(), nullptr, op.epsilon, &mean, &inv);
      const int64_t grp = s % g;
      for (int64_t k = 0; k < cpg; ++k) {
        const int64_t pi = op.scale_per_group ? grp : grp * cpg + k;
        impl.scale_shift(yp + k * spatial, yp + k * spatial, spatial, scale[pi], bias[pi]);
      }
    }
  });
}

const KernelAlgo<ChannelNormOp> kChannelFast("NORM_FAST", channel_norm_fast_usable,
                                             channel_norm_fast);

void reg(OpRegistry& r, NormKind k) {
  OpDef d;
  d.type = k == NormKind::Group ? "GroupNormalization" : "InstanceNormalization";
  d.create = [k](const Attrs& a) -> std::unique_ptr<Op> {
    return std::make_unique<ChannelNormOp>(k, a);
  };
  d.algos = {&kChannelNaive, &kChannelFast};
  d.min_inputs = d.max_inputs = 3;
  r.add(std::move(d));
}

// --- MeanVarianceNormalization ---------------------------------------------

struct MvnOp final : Op {
  std::vector<int64_t> axes;
  explicit MvnOp(const Attrs& a) : axes(a.get_ints("axes", {0, 2, 3})) {}
  std::string param_key() const override {
    std::string r = "a";
    for (int64_t v : axes) r += "," + std::to_string(v);
    return r;
  }
  // Which dims are normalised over.
  std::vector<bool> reduced(size_t rank) const {
    std::vector<bool> red(rank, false);
    for (int64_t a : axes) {
      size_t d = static_cast<size_t>(normalize_axis(a, static_cast<int64_t>(rank), "MVN axis"));
      LR_CHECK(!red[d], ModelError, "MeanVarianceNormalization: axis ", a, " repeats");
      red[d] = true;
    }
    return red;
  }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(dtype_is_compute_float(x.dtype),
             UnsupportedError, "MeanVarianceNormalization on ", dtype_name(x.dtype),
             ": supported are float16, bfloat16, float32, float64");
    reduced(x.ndim());
    ctx.set_output(0, x.shape, x.dtype);
  }
};

template <typename T>
void mvn_t(const MvnOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const Shape& xs = xt.shape();
  std::vector<bool> red = op.reduced(xs.size());
  Shape keep = xs;
  for (size_t d = 0; d < xs.size(); ++d)
    if (red[d]) keep[d] = 1;
  Shape kst = contiguous_strides(keep);
  const int64_t total = xt.numel(), slices = shape_numel(keep);
  const int64_t count = slices ? total / slices : 0;
  // Slice of each element (flat index -> stats index).
  std::vector<int64_t> slot(static_cast<size_t>(total));
  for (int64_t i = 0; i < total; ++i) {
    int64_t rem = i, o = 0;
    for (size_t d = xs.size(); d-- > 0;) {
      int64_t idx = rem % xs[d];
      rem /= xs[d];
      if (!red[d]) o += idx * kst[d];
    }
    slot[i] = o;
  }
  const T* x = xt.ptr<T>();
  T* y = ctx.output(0).ptr<T>();
  std::vector<double> mean(static_cast<size_t>(slices), 0.0), var(static_cast<size_t>(slices), 0.0);
  for (int64_t i = 0; i < total; ++i) mean[slot[i]] += static_cast<double>(x[i]);
  for (double& m : mean) m /= static_cast<double>(count);
  for (int64_t i = 0; i < total; ++i) {
    double d = static_cast<double>(x[i]) - mean[slot[i]];
    var[slot[i]] += d * d;
  }
  for (double& v : var) v = std::sqrt(v / static_cast<double>(count)) + 1e-9;
  for (int64_t i = 0; i < total; ++i)
    y[i] = static_cast<T>((static_cast<double>(x[i]) - mean[slot[i]]) / var[slot[i]]);
}

void mvn_naive(const MvnOp& op, const KernCtx& ctx) {
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    LR_DISPATCH_FLOAT(c.input(0).dtype(), "MeanVarianceNormalization", mvn_t<T>(op, c));
  });
}

const auto kMvnNaive = naive_algo<MvnOp>(mvn_naive);

}  // namespace

void register_op_InstanceNormalization(OpRegistry& r) { reg(r, NormKind::Instance); }
void register_op_GroupNormalization(OpRegistry& r) { reg(r, NormKind::Group); }
void register_op_MeanVarianceNormalization(OpRegistry& r) {
  register_simple<MvnOp>(r, "MeanVarianceNormalization", {&kMvnNaive}, 1, 1);
}

}  // namespace loadrun
