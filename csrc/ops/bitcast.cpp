// BitCast (opset 26): the input's bytes reinterpreted as the dtype named by
// `to` (an ONNX TensorProto data type number), same shape. The two dtypes
// must have the same bit width (ONNX's rule): 8/16/32/64-bit types among
// themselves, and the 4-bit (int4, uint4, float4e2m1) and 2-bit (int2, uint2)
// types among themselves -- loadrun stores those one element per byte with the
// value in the low bits, so their bytes carry over unchanged too. bool is one
// byte (8 bits); a byte other than 0/1 becomes true (1), so that bool tensors
// stay 0/1 as every kernel expects.
// NAIVE: one memcpy (bool targets: one pass). O(n), no workspace.
#include <cstring>

#include "ops/common.h"

namespace loadrun {

namespace {

int bit_width(DType dt) {
  switch (dt) {
    case DType::Int4: case DType::Uint4: case DType::Float4E2M1: return 4;
    case DType::Int2: case DType::Uint2: return 2;
    default: return static_cast<int>(dtype_size(dt)) * 8;
  }
}

struct BitCastOp final : Op {
  DType to = DType::Float32;
  int64_t code = 0;
  const char* unsupported = nullptr;
  explicit BitCastOp(const Attrs& a) {
    code = a.require_int("to");
    const char* name = nullptr;
    bool ok = dtype_of_onnx(code, &to, &name);
    LR_CHECK(name, ModelError, "BitCast: 'to' = ", code, " is not an ONNX tensor data type");
    LR_CHECK(code != 8, ModelError, "BitCast: 'to' must not be STRING");
    if (!ok) unsupported = name;  // reported by infer(), as an UnsupportedError
  }
  std::string param_key() const override { return str_cat(static_cast<int>(to)); }
  void infer(InferCtx& ctx) const override {
    LR_CHECK(!unsupported, UnsupportedError, "BitCast: target type ", unsupported, " (", code,
             ") is not supported");
    const Layout& x = ctx.input(0);
    LR_CHECK(bit_width(x.dtype) == bit_width(to), ModelError,
             "BitCast: the input and target types must have the same bit width, got ",
             dtype_name(x.dtype), " (", bit_width(x.dtype), " bits) and ", dtype_name(to), " (",
             bit_width(to), " bits)");
    ctx.set_output(0, x.shape, to);
  }
};

void bitcast_naive(const BitCastOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  if (op.to == DType::Bool && x.dtype() != DType::Bool) {
    const uint8_t* s = static_cast<const uint8_t*>(x.raw());
    bool* d = y.ptr<bool>();
    for (int64_t i = 0; i < x.numel(); ++i) d[i] = s[i] != 0;
    return;
  }
  if (x.nbytes() && x.raw() != y.raw()) std::memcpy(y.raw(), x.raw(), x.nbytes());
}

const auto kNaive = naive_algo<BitCastOp>(bitcast_naive);

}  // namespace

void register_op_BitCast(OpRegistry& r) { register_simple<BitCastOp>(r, "BitCast", {&kNaive}, 1, 1); }

}  // namespace loadrun
