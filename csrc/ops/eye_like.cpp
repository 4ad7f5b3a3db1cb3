// EyeLike(input; dtype, k): a 2-D tensor of input's shape with ones on the
// k-th diagonal (element (i, j) with j - i == k; k > 0 above the main one)
// and zeros elsewhere. Its dtype is the `dtype` attribute (an ONNX
// TensorProto data type number) or else input's; only input's shape is used.
// NAIVE: the output starts zeroed; write one along the diagonal.
// O(n) (the zero fill), no workspace.
#include <cstring>

#include "ops/common.h"
#include "ops/element_copy.h"

namespace loadrun {

namespace {

// ONNX TensorProto.DataType numbers of the dtypes loadrun has.
bool dtype_from_onnx(int64_t code, DType* out) {
  switch (code) {
    case 1: *out = DType::Float32; return true;
    case 2: *out = DType::Uint8; return true;
    case 3: *out = DType::Int8; return true;
    case 4: *out = DType::Uint16; return true;
    case 5: *out = DType::Int16; return true;
    case 6: *out = DType::Int32; return true;
    case 7: *out = DType::Int64; return true;
    case 9: *out = DType::Bool; return true;
    case 10: *out = DType::Float16; return true;
    case 11: *out = DType::Float64; return true;
    case 12: *out = DType::Uint32; return true;
    case 13: *out = DType::Uint64; return true;
    default: return false;
  }
}

struct EyeLikeOp final : Op {
  bool has_dtype;
  DType dtype = DType::Float32;
  int64_t k;
  explicit EyeLikeOp(const Attrs& a) : has_dtype(a.has("dtype")), k(a.get_int("k", 0)) {
    if (has_dtype) {
      int64_t code = a.get_int("dtype", 1);
      LR_CHECK(dtype_from_onnx(code, &dtype), UnsupportedError, "dtype ", code,
               " (ONNX data type number) is not supported");
    }
  }
  std::string param_key() const override {
    return str_cat(has_dtype ? static_cast<int>(dtype) : -1, ";", k);
  }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(x.ndim() == 2, ModelError, "input must be 2-D, got shape ", shape_str(x.shape));
    ctx.set_output(0, x.shape, has_dtype ? dtype : x.dtype);
  }
};

void eye_like_naive(const EyeLikeOp& op, const KernCtx& ctx) {
  Tensor& y = ctx.output(0);
  int64_t rows = y.shape()[0], cols = y.shape()[1];
  size_t es = dtype_size(y.dtype());
  Tensor one_i64(Layout({1}, DType::Int64));
  one_i64.ptr<int64_t>()[0] = 1;
  uint8_t one[8];
  scalar_as(one_i64, y.dtype(), one);
  uint8_t* dst = static_cast<uint8_t*>(y.raw());
  if (y.nbytes()) std::memset(dst, 0, y.nbytes());
  for (int64_t i = 0; i < rows; ++i) {
    int64_t j = i + op.k;
    if (j >= 0 && j < cols) std::memcpy(dst + (i * cols + j) * es, one, es);
  }
}

const auto kNaive = naive_algo<EyeLikeOp>(eye_like_naive);

}  // namespace

void register_op_EyeLike(OpRegistry& r) { register_simple<EyeLikeOp>(r, "EyeLike", {&kNaive}, 1, 1); }

}  // namespace loadrun
