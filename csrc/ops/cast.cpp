// Cast (target dtype from the `to` attribute, an ONNX TensorProto data type
// number) and CastLike (target dtype from input 1), between every pair of
// dtypes loadrun has, float16 and bool included.
// NAIVE: one pass converting element by element. O(n), no workspace.
// Conversions: float -> integer truncates toward zero (NaN gives 0, values out
// of range saturate: ONNX leaves them undefined); integer -> narrower integer
// wraps; anything -> bool is "nonzero" (NaN is true); bool -> number is 0/1;
// float16 converts through float32.
#include "ops/elementwise.h"

namespace loadrun {

namespace {

// ONNX TensorProto.DataType numbers -> loadrun dtypes (or why not).
bool dtype_of_onnx(int64_t to, DType* out, const char** name) {
  struct Entry {
    int64_t code;
    const char* name;
    bool ok;
    DType dt;
  };
  static const Entry kTable[] = {
      {0, "UNDEFINED", false, DType::Float32},   {1, "FLOAT", true, DType::Float32},
      {2, "UINT8", true, DType::Uint8},          {3, "INT8", true, DType::Int8},
      {4, "UINT16", true, DType::Uint16},        {5, "INT16", true, DType::Int16},
      {6, "INT32", true, DType::Int32},          {7, "INT64", true, DType::Int64},
      {8, "STRING", false, DType::Float32},      {9, "BOOL", true, DType::Bool},
      {10, "FLOAT16", true, DType::Float16},     {11, "DOUBLE", true, DType::Float64},
      {12, "UINT32", true, DType::Uint32},       {13, "UINT64", true, DType::Uint64},
      {14, "COMPLEX64", false, DType::Float32},  {15, "COMPLEX128", false, DType::Float32},
      {16, "BFLOAT16", false, DType::Float32},   {17, "FLOAT8E4M3FN", false, DType::Float32},
      {18, "FLOAT8E4M3FNUZ", false, DType::Float32}, {19, "FLOAT8E5M2", false, DType::Float32},
      {20, "FLOAT8E5M2FNUZ", false, DType::Float32}, {21, "UINT4", false, DType::Float32},
      {22, "INT4", false, DType::Float32},       {23, "FLOAT4E2M1", false, DType::Float32},
  };
  for (const Entry& e : kTable) {
    if (e.code == to) {
      *name = e.name;
      *out = e.dt;
      return e.ok;
    }
  }
  *name = nullptr;
  return false;
}

struct CastOp final : Op {
  bool like;  // CastLike: the target is input 1's dtype
  DType to = DType::Float32;
  int64_t code = 0;
  const char* unsupported = nullptr;  // name of a valid ONNX type loadrun lacks
  CastOp(bool is_like, const Attrs& a) : like(is_like) {
    if (like) return;
    code = a.require_int("to");
    const char* name = nullptr;
    bool ok = dtype_of_onnx(code, &to, &name);
    LR_CHECK(name, ModelError, "Cast: 'to' = ", code, " is not an ONNX tensor data type");
    // Reported by infer(): errors from here all become ModelError.
    if (!ok) unsupported = name;
  }
  std::string param_key() const override {
    return like ? std::string("like") : str_cat(static_cast<int>(to));
  }
  void infer(InferCtx& ctx) const override {
    LR_CHECK(!unsupported, UnsupportedError, "Cast: target type ", unsupported, " (", code,
             ") is not supported");
    const Layout& x = ctx.input(0);
    ctx.set_output(0, x.shape, like ? ctx.input(1).dtype : to);
  }
};

// One element S -> D.
template <typename S, typename D>
D convert(S s) {
  if constexpr (std::is_same_v<S, D>) {
    return s;
  } else if constexpr (std::is_same_v<D, bool>) {
    return Num<S>::ld(s) != 0;
  } else if constexpr (std::is_same_v<D, Half>) {
    return Half{float_to_half(static_cast<float>(Num<S>::ld(s)))};
  } else if constexpr (std::is_floating_point_v<D>) {
    return static_cast<D>(Num<S>::ld(s));
  } else {  // integer target
    auto v = Num<S>::ld(s);
    if constexpr (std::is_floating_point_v<decltype(v)>) {
      return sat_cast<D>(static_cast<double>(v));
    } else {
      return static_cast<D>(v);  // integers wrap; bool is 0/1
    }
  }
}

template <typename S, typename D>
void cast_loop(const Tensor& in, Tensor& out) {
  const S* x = in.ptr<S>();
  D* y = out.ptr<D>();
  int64_t n = in.numel();
  for (int64_t i = 0; i < n; ++i) y[i] = convert<S, D>(x[i]);
}

void cast_naive(const CastOp&, const KernCtx& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  LR_EW_DISPATCH_ALL(in.dtype(), "Cast", using S = T;
                     LR_EW_DISPATCH_ALL(out.dtype(), "Cast", cast_loop<S, T>(in, out)));
}

const auto kNaive = naive_algo<CastOp>(cast_naive);

}  // namespace

void register_op_Cast(OpRegistry& r) {
  OpDef d;
  d.type = "Cast";
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<CastOp>(false, a); };
  d.algos = {&kNaive};
  d.min_inputs = d.max_inputs = 1;
  r.add(std::move(d));
}

void register_op_CastLike(OpRegistry& r) {
  OpDef d;
  d.type = "CastLike";
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<CastOp>(true, a); };
  d.algos = {&kNaive};
  d.min_inputs = d.max_inputs = 2;
  r.add(std::move(d));
}

}  // namespace loadrun
