// BatchNormalization (ONNX), inference mode only: for X of shape
// (N, C, D1, ...) (rank >= 2), Y = scale[c] * (X - mean[c]) / sqrt(var[c] +
// epsilon) + B[c]. Training mode (training_mode = 1, or the running/saved
// statistics outputs of older opsets that the importer could not drop) is
// UnsupportedError. Old-opset forms (spatial, momentum, extra outputs) are
// rewritten by the importer.
// NAIVE: per channel, fold into y = a * x + b with a = scale / sqrt(var +
// eps), b = B - a * mean, then one pass over each plane. O(numel), no
// workspace.
#include <cmath>

#include "kernels/fast_algo.h"
#include "ops/common.h"

namespace loadrun {

namespace {

struct BatchNormOp final : Op {
  double epsilon;
  int64_t training_mode;
  int64_t spatial;
  explicit BatchNormOp(const Attrs& a)
      : epsilon(a.get_float("epsilon", 1e-5)),
        training_mode(a.get_int("training_mode", 0)),
        spatial(a.get_int("spatial", 1)) {}
  std::string param_key() const override { return str_cat(epsilon); }

  void infer(InferCtx& ctx) const override {
    LR_CHECK(training_mode == 0, UnsupportedError,
             "BatchNormalization with training_mode=1 is not supported (inference only)");
    LR_CHECK(spatial == 1, UnsupportedError,
             "BatchNormalization with spatial=0 (per-element statistics) is not supported");
    LR_CHECK(ctx.out.size() == 1, UnsupportedError, "BatchNormalization with ", ctx.out.size(),
             " outputs (training mode: running or saved statistics) is not supported; only "
             "inference with the single output Y is");
    const Layout& x = ctx.input(0);
    LR_CHECK(x.ndim() >= 2, ModelError, "input must have rank >= 2 (N, C, ...), got ",
             shape_str(x.shape));
    LR_CHECK(dtype_is_float(x.dtype), UnsupportedError, "BatchNormalization on dtype ",
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
  }
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
  for (int64_t ch = 0; ch < c; ++ch) {
    T a = scale[ch] / std::sqrt(var[ch] + static_cast<T>(op.epsilon));
    T b = bias[ch] - a * mean[ch];
    for (int64_t i = 0; i < n; ++i) {
      const T* xp = x + (i * c + ch) * plane;
      T* yp = y + (i * c + ch) * plane;
      for (int64_t j = 0; j < plane; ++j) yp[j] = a * xp[j] + b;
    }
  }
}

void batch_norm_naive(const BatchNormOp& op, const KernCtx& ctx) {
  LR_DISPATCH_FLOAT(ctx.input(0).dtype(), "BatchNormalization", batch_norm_naive_t<T>(op, ctx));
}

const auto kNaive = naive_algo<BatchNormOp>(batch_norm_naive);

// --- fast algorithms (BATCHNORM_AVX2 / BATCHNORM_PORTABLE), float32: the
// per-channel a, b of NAIVE, then one scale_shift kernel call per (n, c)
// plane (AVX2: one FMA per element, so within 1 ulp of NAIVE's mul + add).
bool batch_norm_fast_usable(const BatchNormOp&, const InLayouts& in, const OutLayouts&) {
  return in[0]->dtype == DType::Float32;
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
  for (int64_t ch = 0; ch < c; ++ch) {
    const float a = scale[ch] / std::sqrt(var[ch] + static_cast<float>(op.epsilon));
    const float b = bias[ch] - a * mean[ch];
    for (int64_t i = 0; i < n; ++i)
      impl.scale_shift(x + (i * c + ch) * plane, y + (i * c + ch) * plane, plane, a, b);
  }
}

const KernelAlgo<BatchNormOp> kFastAvx2("BATCHNORM_AVX2", true, batch_norm_fast_usable,
                                        batch_norm_fast);
const KernelAlgo<BatchNormOp> kFastPortable("BATCHNORM_PORTABLE", false, batch_norm_fast_usable,
                                            batch_norm_fast);

}  // namespace

void register_op_BatchNormalization(OpRegistry& r) {
  register_simple<BatchNormOp>(r, "BatchNormalization", {&kNaive, &kFastAvx2, &kFastPortable}, 5, 5);
}

}  // namespace loadrun
