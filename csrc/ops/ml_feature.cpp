// ai.onnx.ml Binarizer and ArrayFeatureExtractor (version 1), numeric types
// (string tensors are not a loadrun dtype).
// Binarizer: y = 1 where x > threshold (attribute, default 0), else 0, in
// x's dtype (float32, float64, int64, int32; NaN gives 0).
// ArrayFeatureExtractor: X (..., F) and int64 indices Y (any shape, read
// flattened, each in [0, F)): the output gathers those indices along X's
// last axis, shape X.shape[:-1] + (len,), and a 1-D X gives (1, len), as
// ONNX Runtime does. float32, float64, int64, int32.
// NAIVE: one pass over the elements (Binarizer) / rows (ArrayFeatureExtractor).
// O(n), no workspace.
#include <cstring>

#include "ops/common.h"

namespace loadrun {

namespace {

const char* kMl = "ai.onnx.ml";

bool ml_numeric(DType dt) {
  return dt == DType::Float32 || dt == DType::Float64 || dt == DType::Int64 || dt == DType::Int32;
}

struct BinarizerOp final : Op {
  double threshold;
  explicit BinarizerOp(const Attrs& a) : threshold(a.get_float("threshold", 0.0)) {}
  std::string param_key() const override { return str_cat(threshold); }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(ml_numeric(x.dtype), UnsupportedError, "Binarizer on ", dtype_name(x.dtype),
             ": supported are float32, float64, int64, int32");
    ctx.set_output(0, x.shape, x.dtype);
  }
};

template <typename T>
void binarizer_t(const BinarizerOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const T* x = xt.ptr<T>();
  T* y = ctx.output(0).ptr<T>();
  // In double: exact for float inputs (the threshold is a float32
  // attribute), and what NumPy does for integer ones.
  for (int64_t i = 0; i < xt.numel(); ++i)
    y[i] = static_cast<double>(x[i]) > op.threshold ? T(1) : T(0);
}

void binarizer_naive(const BinarizerOp& op, const KernCtx& ctx) {
  LR_DISPATCH_NUMERIC(ctx.input(0).dtype(), "Binarizer", binarizer_t<T>(op, ctx));
}

struct AfeOp final : Op {
  explicit AfeOp(const Attrs&) {}
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& idx = ctx.input(1);
    LR_CHECK(ml_numeric(x.dtype), UnsupportedError, "ArrayFeatureExtractor on ",
             dtype_name(x.dtype), ": supported are float32, float64, int64, int32");
    LR_CHECK(idx.dtype == DType::Int64, ModelError,
             "ArrayFeatureExtractor indices must be int64, got ", dtype_name(idx.dtype));
    LR_CHECK(x.ndim() >= 1, ModelError, "ArrayFeatureExtractor X must have rank >= 1, got a scalar");
    Shape out;
    if (x.ndim() == 1) {
      out = {1, idx.numel()};
    } else {
      out = Shape(x.shape.begin(), x.shape.end() - 1);
      out.push_back(idx.numel());
    }
    ctx.set_output(0, out, x.dtype);
  }
};

void afe_naive(const AfeOp&, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& it = ctx.input(1);
  const int64_t f = x.shape().back();
  const int64_t rows = f ? x.numel() / f : dims_product(x.shape(), 0, x.ndim() - 1);
  const int64_t k = it.numel();
  const int64_t* idx = it.ptr<int64_t>();
  for (int64_t j = 0; j < k; ++j) {
    LR_CHECK(idx[j] >= 0 && idx[j] < f, InputError, "ArrayFeatureExtractor index ", idx[j],
             " is out of range for ", f, " features");
  }
  const size_t es = dtype_size(x.dtype());
  const uint8_t* src = static_cast<const uint8_t*>(x.raw());
  uint8_t* dst = static_cast<uint8_t*>(ctx.output(0).raw());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < k; ++j)
      std::memcpy(dst + (r * k + j) * es, src + (r * f + idx[j]) * es, es);
}

const auto kBinarizer = naive_algo<BinarizerOp>(binarizer_naive);
const auto kAfe = naive_algo<AfeOp>(afe_naive);

template <class OpT>
void reg_ml(OpRegistry& r, const char* type, const Algo* algo, int min_in, int max_in) {
  OpDef d;
  d.type = type;
  d.domain = kMl;
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<OpT>(a); };
  d.algos = {algo};
  d.min_inputs = min_in;
  d.max_inputs = max_in;
  r.add(std::move(d));
}

}  // namespace

void register_op_Binarizer(OpRegistry& r) { reg_ml<BinarizerOp>(r, "Binarizer", &kBinarizer, 1, 1); }
void register_op_ArrayFeatureExtractor(OpRegistry& r) {
  reg_ml<AfeOp>(r, "ArrayFeatureExtractor", &kAfe, 2, 2);
}

}  // namespace loadrun
