// BatchNormalization (ONNX): for X of shape (N, C, D1, ...) (rank >= 2),
// Y = scale[c] * (X - mean[c]) / sqrt(var[c] + epsilon) + B[c].
// Inference (training_mode = 0): mean / var are the inputs input_mean /
// input_var, and the only output is Y.
// Training (training_mode = 1, opset >= 14): mean / var are the batch
// statistics of channel c over N and the spatial dims (var is the population
// variance, divided by the count), and the optional outputs running_mean /
// running_var are input_mean * momentum + mean * (1 - momentum) (likewise
// var), momentum default 0.9. Deterministic: no randomness is involved.
// Old-opset forms (spatial, extra outputs) are rewritten by the importer;
// opset < 14 training (named statistics outputs) stays UnsupportedError.
// float16 / bfloat16 compute in float32.
// NAIVE: training first sums each channel (mean), then its squared
// deviations (var), in double; then per channel fold into y = a * x + b with
// a = scale / sqrt(var + eps), b = B - a * mean, and one pass over each
// plane. O(numel) (training: 3 passes), no workspace.
#include <cmath>

#include "kernels/fast_algo.h"
#include "kernels/parallel_split.h"
#include "ops/common.h"

namespace loadrun {

namespace {

struct BatchNormOp final : Op {
  double epsilon;
  double momentum;
  int64_t training_mode;
  int64_t spatial;
  explicit BatchNormOp(const Attrs& a)
      : epsilon(a.get_float("epsilon", 1e-5)),
        momentum(a.get_float("momentum", 0.9)),
        training_mode(a.get_int("training_mode", 0)),
        spatial(a.get_int("spatial", 1)) {
    LR_CHECK(training_mode == 0 || training_mode == 1, ModelError,
             "BatchNormalization: training_mode must be 0 or 1, got ", training_mode);
  }
  std::string param_key() const override { return str_cat(epsilon, ";", momentum, ";", training_mode); }

  void infer(InferCtx& ctx) const override {
    LR_CHECK(spatial == 1, UnsupportedError,
             "BatchNormalization with spatial=0 (per-element statistics) is not supported");
    LR_CHECK(ctx.out.size() == 1 || (training_mode == 1 && ctx.out.size() <= 3), ModelError,
             "BatchNormalization with training_mode=", training_mode, " has ",
             training_mode ? "1 to 3" : "1", " outputs, got ", ctx.out.size());
    const Layout& x = ctx.input(0);
    LR_CHECK(x.ndim() >= 2, ModelError, "input must have rank >= 2 (N, C, ...), got ",
             shape_str(x.shape));
    LR_CHECK(dtype_is_compute_float(x.dtype), UnsupportedError, "BatchNormalization on dtype ",
             dtype_name(x.dtype), " is not supported");
    int64_t c = x.shape[1];
    static const char* kNames[] = {"", "scale", "B", "input_mean", "input_var"};
    for (size_t i = 1; i <= 4; ++i) {
      const Layout& p = ctx.input(i);
      LR_CHECK(p.ndim() == 1 && p.shape[0] == c, ModelError, kNames[i], " has shape ",
               shape_str(p.shape), ", expected {", c, "} (one value per channel)");
      LR_CHECK(p.dtype == x.dtype, UnsupportedError, kNames[i], " has dtype ",
               dtype_name(p.dtype), " while X has ", dtype_name(x.dtype),
               "; mixed dtypes are not supported");
    }
    ctx.set_output(0, x.shape, x.dtype);
    for (size_t i = 1; i < ctx.out.size(); ++i) ctx.set_output(i, {c}, x.dtype);
  }
  // Training mode depends on nothing but its inputs: folding stays allowed.
};

template <typename T>
void batch_norm_naive_t(const BatchNormOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const Shape& s = xt.shape();
  int64_t n = s[0], c = s[1], plane = dims_product(s, 2, s.size());
  const T* x = xt.ptr<T>();
  const T* scale = ctx.input(1).ptr<T>();
  const T* bias = ctx.input(2).ptr<T>();
  const T* mean = ctx.input(3).ptr<T>();
  const T* var = ctx.input(4).ptr<T>();
  T* y = ctx.output(0).ptr<T>();
  const bool train = op.training_mode == 1;
  for (int64_t ch = 0; ch < c; ++ch) {
    T m = mean[ch], v = var[ch];
    if (train) {
      const double count = static_cast<double>(n * plane);
      double sum = 0, sq = 0;
      for (int64_t i = 0; i < n; ++i) {
        const T* xp = x + (i * c + ch) * plane;
        for (int64_t j = 0; j < plane; ++j) sum += static_cast<double>(xp[j]);
      }
      const double bm = count > 0 ? sum / count : 0.0;
      for (int64_t i = 0; i < n; ++i) {
        const T* xp = x + (i * c + ch) * plane;
        for (int64_t j = 0; j < plane; ++j) {
          double d = static_cast<double>(xp[j]) - bm;
          sq += d * d;
        }
      }
      const double bv = count > 0 ? sq / count : 0.0;
      m = static_cast<T>(bm);
      v = static_cast<T>(bv);
      const double mo = op.momentum;
      if (ctx.out.size() > 1)
        ctx.output(1).ptr<T>()[ch] = static_cast<T>(static_cast<double>(mean[ch]) * mo + bm * (1 - mo));
      if (ctx.out.size() > 2)
        ctx.output(2).ptr<T>()[ch] = static_cast<T>(static_cast<double>(var[ch]) * mo + bv * (1 - mo));
    }
    T a = scale[ch] / std::sqrt(v + static_cast<T>(op.epsilon));
    T b = bias[ch] - a * m;
    for (int64_t i = 0; i < n; ++i) {
      const T* xp = x + (i * c + ch) * plane;
      T* yp = y + (i * c + ch) * plane;
      for (int64_t j = 0; j < plane; ++j) yp[j] = a * xp[j] + b;
    }
  }
}

void batch_norm_naive(const BatchNormOp& op, const KernCtx& ctx) {
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    LR_DISPATCH_FLOAT(c.input(0).dtype(), "BatchNormalization", batch_norm_naive_t<T>(op, c));
  });
}

const auto kNaive = naive_algo<BatchNormOp>(batch_norm_naive);

// --- fast algorithm (BATCHNORM_FAST, on kernel_table()), float32 inference: the
// per-channel a, b of NAIVE, then one scale_shift kernel call per (n, c)
// plane (AVX2: one FMA per element, so within 1 ulp of NAIVE's mul + add).
// The elements are split over the step's threads.
bool batch_norm_fast_usable(const BatchNormOp& op, const InLayouts& in, const OutLayouts& out) {
  // Inference only: training mode normalises with the batch's own statistics.
  return op.training_mode == 0 && out.size() == 1 && in[0]->dtype == DType::Float32;
}

void batch_norm_fast(const BatchNormOp& op, const KernCtx& ctx, const kernels::EltwiseImpl& impl) {
  const Tensor& xt = ctx.input(0);
  const Shape& s = xt.shape();
  const int64_t n = s[0], c = s[1], plane = dims_product(s, 2, s.size());
  const float* x = xt.ptr<float>();
  const float* scale = ctx.input(1).ptr<float>();
  const float* bias = ctx.input(2).ptr<float>();
  const float* mean = ctx.input(3).ptr<float>();
  const float* var = ctx.input(4).ptr<float>();
  float* y = ctx.output(0).ptr<float>();
  if (plane == 0) return;
  const float eps = static_cast<float>(op.epsilon);
  // The elements split over the threads; a range covers pieces of planes,
  // each plane's a, b computed where it is used (the same bits every time).
  kernels::split_elems(ctx.comp_node, n * c * plane, 8, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin / plane; p * plane < end; ++p) {
      const int64_t ch = p % c;
      const float a = scale[ch] / std::sqrt(var[ch] + eps);
      const float b = bias[ch] - a * mean[ch];
      const int64_t lo = std::max(begin, p * plane), hi = std::min(end, (p + 1) * plane);
      impl.scale_shift(x + lo, y + lo, hi - lo, a, b);
    }
  });
}

const KernelAlgo<BatchNormOp> kFast("BATCHNORM_FAST", batch_norm_fast_usable,
                                            batch_norm_fast);

}  // namespace

void register_op_BatchNormalization(OpRegistry& r) {
  register_simple<BatchNormOp>(r, "BatchNormalization", {&kNaive, &kFast}, 5, 5);
}

}  // namespace loadrun
