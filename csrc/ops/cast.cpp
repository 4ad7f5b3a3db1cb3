// Cast (target dtype from the `to` attribute, an ONNX TensorProto data type
// number) and CastLike (target dtype from input 1), between every pair of
// dtypes loadrun has, float16 and bool included.
// NAIVE: one pass converting element by element. O(n), no workspace.
// ELEMWISE_FAST: the common dtypes through kernels/convert.h (below).
// Conversions: float -> integer truncates toward zero (NaN gives 0, values out
// of range saturate: ONNX leaves them undefined); integer -> narrower integer
// wraps; anything -> bool is "nonzero" (NaN is true); bool -> number is 0/1;
// float16 converts through float32.
// The storage-only types (bfloat16, float8*, float4e2m1, int4/uint4,
// int2/uint2) convert element by element through a double (from float
// sources) or an int64 (from integer and bool sources), rounding as ONNX and
// ml_dtypes do (see lowp_from_double): `saturate` (default 1) clamps float8
// overflow to the largest finite value, `round_mode` (up / down / nearest)
// rounds to float8e8m0; integer -> int4/int2 wraps (ONNX's rule for
// integers), float -> int4/int2 truncates then saturates like every float ->
// integer Cast (ONNX leaves it undefined; ml_dtypes changed its answer in
// 0.7, so loadrun defines its own and tests it against exact arithmetic).
#include <cmath>
#include <cstring>

#include "kernels/fast_algo.h"
#include "kernels/parallel_split.h"
#include "ops/elementwise.h"

namespace loadrun {

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
      {16, "BFLOAT16", true, DType::BFloat16},   {17, "FLOAT8E4M3FN", true, DType::Float8E4M3FN},
      {18, "FLOAT8E4M3FNUZ", true, DType::Float8E4M3FNUZ},
      {19, "FLOAT8E5M2", true, DType::Float8E5M2},
      {20, "FLOAT8E5M2FNUZ", true, DType::Float8E5M2FNUZ},
      {21, "UINT4", true, DType::Uint4},         {22, "INT4", true, DType::Int4},
      {23, "FLOAT4E2M1", true, DType::Float4E2M1},
      {24, "FLOAT8E8M0", true, DType::Float8E8M0},
      {25, "UINT2", true, DType::Uint2},         {26, "INT2", true, DType::Int2},
      {27, "FLOAT6E2M3", false, DType::Float32}, {28, "FLOAT6E3M2", false, DType::Float32},
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

namespace {

struct CastOp final : Op {
  bool like;  // CastLike: the target is input 1's dtype
  DType to = DType::Float32;
  int64_t code = 0;
  const char* unsupported = nullptr;  // name of a valid ONNX type loadrun lacks
  bool saturate = true;
  E8M0Round round = E8M0Round::Up;
  CastOp(bool is_like, const Attrs& a) : like(is_like) {
    saturate = a.get_int("saturate", 1) != 0;
    std::string rm = a.get_string("round_mode", "up");
    if (rm == "down") {
      round = E8M0Round::Down;
    } else if (rm == "nearest") {
      round = E8M0Round::Nearest;
    } else {
      LR_CHECK(rm == "up", ModelError, "Cast: round_mode must be up, down or nearest, got '", rm,
               "'");
    }
    if (like) return;
    code = a.require_int("to");
    const char* name = nullptr;
    bool ok = dtype_of_onnx(code, &to, &name);
    LR_CHECK(name, ModelError, "Cast: 'to' = ", code, " is not an ONNX tensor data type");
    // Reported by infer(): errors from here all become ModelError.
    if (!ok) unsupported = name;
  }
  std::string param_key() const override {
    return str_cat(like ? std::string("like") : str_cat(static_cast<int>(to)), ";", saturate, ";",
                   static_cast<int>(round));
  }
  void infer(InferCtx& ctx) const override {
    LR_CHECK(!unsupported, UnsupportedError, "Cast: target type ", unsupported, " (", code,
             ") is not supported");
    const Layout& x = ctx.input(0);
    ctx.set_output(0, x.shape, like ? ctx.input(1).dtype : to);
  }
  // A cast to the dtype the input already has changes no byte.
  int view_input_at(const InferCtx& ic) const override {
    return ic.has(0) && !ic.out.empty() && ic.out[0].dtype == ic.input(0).dtype ? 0 : -1;
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
  } else if constexpr (std::is_same_v<D, BHalf>) {  // not reached: bfloat16 takes store_elem
    return BHalf{float_to_bf16(static_cast<float>(Num<S>::ld(s)))};
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

// Storage-only types: one element at a time through a double or an int64.
struct Elem {
  bool is_int;
  int64_t i;
  double d;
};

Elem load_elem(const Tensor& t, int64_t i) {
  DType dt = t.dtype();
  if (dtype_is_storage_only(dt)) {
    double v = t.get_f64(i);
    if (dtype_is_float(dt)) return {false, 0, v};
    return {true, static_cast<int64_t>(v), v};
  }
  Elem e{false, 0, 0.0};
  if (dt == DType::Float16 || dt == DType::Float32 || dt == DType::Float64) {
    e.d = t.get_f64(i);
  } else if (dt == DType::Uint64) {  // keeps the high bit for the wrap to int4
    e.is_int = true;
    e.i = static_cast<int64_t>(t.ptr<uint64_t>()[i]);
    e.d = static_cast<double>(t.ptr<uint64_t>()[i]);
  } else {
    e.is_int = true;
    e.i = t.get_i64(i);
    e.d = static_cast<double>(e.i);
  }
  return e;
}

void store_elem(const CastOp& op, Tensor& t, int64_t i, const Elem& e) {
  DType dt = t.dtype();
  void* p = static_cast<uint8_t*>(t.raw()) + i * dtype_size(dt);
  if (dtype_is_storage_only(dt)) {
    uint32_t bits;
    if (dt == DType::Float8E8M0) {
      bits = float8e8m0_from_float(static_cast<float>(e.d), op.saturate, op.round);
    } else if (!dtype_is_float(dt) && e.is_int) {  // integer -> int4/int2: wrap
      bits = lowp_wrap_int(dt, e.i);
    } else {
      bits = lowp_from_double(dt, e.d, op.saturate);
    }
    if (dtype_size(dt) == 2) {
      uint16_t h = static_cast<uint16_t>(bits);
      std::memcpy(p, &h, 2);
    } else {
      *static_cast<uint8_t*>(p) = static_cast<uint8_t>(bits);
    }
    return;
  }
  // a storage-only source into an ordinary type: as that type's Cast would
  LR_EW_DISPATCH_ALL(dt, "Cast", if (e.is_int) {
    *static_cast<T*>(p) = convert<int64_t, T>(e.i);
  } else {
    *static_cast<T*>(p) = convert<double, T>(e.d);
  });
}

void cast_naive(const CastOp& op, const KernCtx& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  if (dtype_is_storage_only(in.dtype()) || dtype_is_storage_only(out.dtype())) {
    if (in.dtype() == out.dtype()) {
      if (in.nbytes()) std::memcpy(out.raw(), in.raw(), in.nbytes());
      return;
    }
    for (int64_t i = 0; i < in.numel(); ++i) store_elem(op, out, i, load_elem(in, i));
    return;
  }
  LR_EW_DISPATCH_ALL(in.dtype(), "Cast", using S = T;
                     LR_EW_DISPATCH_ALL(out.dtype(), "Cast", cast_loop<S, T>(in, out)));
}

const auto kNaive = naive_algo<CastOp>(cast_naive);

// --- fast algorithm (ELEMWISE_FAST, on kernel_table().convert): one
// vectorised conversion loop over the contiguous input for the common dtypes
// (float32/16/64, int8, uint8, int32, int64, bool in any pair), the same
// results as NAIVE, the elements split over the threads; the storage-only
// types stay NAIVE.
bool cast_fast_usable(const CastOp&, const InLayouts& in, const OutLayouts& out) {
  return kernels::cast_fast_dtype(in[0]->dtype) && kernels::cast_fast_dtype(out[0].dtype);
}

void cast_fast(const CastOp&, const KernCtx& ctx, const kernels::KernelTable& kt) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const size_t si = dtype_size(in.dtype()), so = dtype_size(out.dtype());
  const uint8_t* x = static_cast<const uint8_t*>(in.raw());
  uint8_t* y = static_cast<uint8_t*>(out.raw());
  kernels::split_elems(ctx.comp_node, in.numel(), static_cast<double>(si + so) * 2,
                       [&](int64_t b, int64_t e) {
                         kt.convert.cast(in.dtype(), out.dtype(), x + b * si, y + b * so, e - b);
                       });
}

const KernelAlgo<CastOp> kFast("ELEMWISE_FAST", cast_fast_usable, cast_fast);

}  // namespace

void register_op_Cast(OpRegistry& r) {
  OpDef d;
  d.type = "Cast";
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<CastOp>(false, a); };
  d.algos = {&kNaive, &kFast};
  d.min_inputs = d.max_inputs = 1;
  r.add(std::move(d));
}

void register_op_CastLike(OpRegistry& r) {
  OpDef d;
  d.type = "CastLike";
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<CastOp>(true, a); };
  d.algos = {&kNaive, &kFast};
  d.min_inputs = d.max_inputs = 2;
  r.add(std::move(d));
}

}  // namespace loadrun
