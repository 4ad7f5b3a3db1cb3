// Element types. Float16 is storage only: kernels compute in float32.
// The types after Bool are storage-only too (no arithmetic kernels of their
// own; Cast, the (De)QuantizeLinear family and data movement handle them):
// bfloat16, the float8 formats, float4 e2m1 and the 4-bit / 2-bit integers.
// bfloat16, like float16, is also taken by the float kernels, which compute
// it in float32 (ops/common.h: with_f16_as_f32; ops/elementwise.h: BHalf).
// Layout of the sub-byte types: ONE ELEMENT PER BYTE, not packed, the value's
// bit pattern in the low bits and the high bits zero (two's complement in the
// low 4 / 2 bits for int4 / int2) -- what ml_dtypes (onnx's NumPy
// representation) uses, so arrays cross the Python boundary as plain copies.
// ONNX's packed form exists only in TensorProto files, and onnx.numpy_helper
// unpacks it on import.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace loadrun {

enum class DType : uint8_t {
  Float32 = 0,
  Float16,
  Float64,
  Int8,
  Uint8,
  Int16,
  Uint16,
  Int32,
  Uint32,
  Int64,
  Uint64,
  Bool,
  BFloat16,
  Float8E4M3FN,
  Float8E4M3FNUZ,
  Float8E5M2,
  Float8E5M2FNUZ,
  Float8E8M0,
  Int4,
  Uint4,
  Int2,
  Uint2,
  Float4E2M1,
};
constexpr int kNumDTypes = 23;

size_t dtype_size(DType dt);
// "float32", "int64", "bool", ...; the storage-only types use ml_dtypes'
// names ("bfloat16", "float8_e4m3fn", "float8_e8m0fnu", "int4", "float4_e2m1fn").
const char* dtype_name(DType dt);
bool dtype_from_name(const std::string& name, DType* out);
bool dtype_is_float(DType dt);
bool dtype_is_signed(DType dt);

float half_to_float(uint16_t h);
uint16_t float_to_half(float f);

// The storage-only types after Bool (bfloat16 ... float4e2m1).
bool dtype_is_storage_only(DType dt);
// Element `bits` (the stored byte, or the two bytes of bfloat16) of a
// storage-only type as a double (exact). float8e8m0 0xFF and the formats'
// NaN encodings give NaN; e5m2's infinities give infinities.
double lowp_to_double(DType dt, uint32_t bits);
// `v` rounded to a storage-only type, as ONNX's Cast does (ml_dtypes'
// conversions, bit for bit): floats round to nearest even; out of range
// values saturate to the largest finite value when `saturate` (float8;
// float4e2m1 always saturates, having no inf/NaN; bfloat16 never does), else
// become inf (e5m2) or NaN. NaN stays NaN (float4e2m1 has none: it gives a
// zero of the opposite sign, as ml_dtypes does). Integers (int4/int2) truncate
// toward zero and saturate to their range, NaN giving 0 (ONNX leaves float ->
// integer out of range undefined; this is loadrun's definition). float8e8m0 rounds
// as float8e8m0_from_float with round mode Up.
uint32_t lowp_from_double(DType dt, double v, bool saturate);
// The integer `v` as int4/uint4/int2/uint2 bits: its low 4 / 2 bits (ONNX's
// rule for integer -> narrower integer: discard the higher bits).
uint32_t lowp_wrap_int(DType dt, int64_t v);
// float8e8m0 (unsigned powers of two 2^-127..2^127, 0xFF NaN) from a float:
// the float's exponent, rounded by the mantissa: Up (any fraction rounds up),
// Down (truncate) or Nearest (a fraction >= 1/2 rounds up); saturate keeps
// 2^127 from rounding up to NaN. Inf and NaN give NaN; the sign is dropped.
enum class E8M0Round : uint8_t { Up, Down, Nearest };
uint8_t float8e8m0_from_float(float v, bool saturate, E8M0Round mode);

// C++ type of a dtype; bool is stored as one byte.
template <DType D> struct DTypeTrait;
#define LR_DTYPE_TRAIT(D, T) \
  template <> struct DTypeTrait<DType::D> { using type = T; };
LR_DTYPE_TRAIT(Float32, float)
LR_DTYPE_TRAIT(Float16, uint16_t)
LR_DTYPE_TRAIT(Float64, double)
LR_DTYPE_TRAIT(Int8, int8_t)
LR_DTYPE_TRAIT(Uint8, uint8_t)
LR_DTYPE_TRAIT(Int16, int16_t)
LR_DTYPE_TRAIT(Uint16, uint16_t)
LR_DTYPE_TRAIT(Int32, int32_t)
LR_DTYPE_TRAIT(Uint32, uint32_t)
LR_DTYPE_TRAIT(Int64, int64_t)
LR_DTYPE_TRAIT(Uint64, uint64_t)
LR_DTYPE_TRAIT(Bool, bool)
LR_DTYPE_TRAIT(BFloat16, uint16_t)
LR_DTYPE_TRAIT(Float8E4M3FN, uint8_t)
LR_DTYPE_TRAIT(Float8E4M3FNUZ, uint8_t)
LR_DTYPE_TRAIT(Float8E5M2, uint8_t)
LR_DTYPE_TRAIT(Float8E5M2FNUZ, uint8_t)
LR_DTYPE_TRAIT(Float8E8M0, uint8_t)
LR_DTYPE_TRAIT(Int4, uint8_t)
LR_DTYPE_TRAIT(Uint4, uint8_t)
LR_DTYPE_TRAIT(Int2, uint8_t)
LR_DTYPE_TRAIT(Uint2, uint8_t)
LR_DTYPE_TRAIT(Float4E2M1, uint8_t)
#undef LR_DTYPE_TRAIT

}  // namespace loadrun

// Dispatch helpers: run BODY with `T` bound to the C++ type of DT.
// Numeric: every dtype but Float16 and Bool (Float16 computes as float32).
#define LR_CASE_DT(D, BODY)                                    \
  case ::loadrun::DType::D: {                                  \
    using T = typename ::loadrun::DTypeTrait<::loadrun::DType::D>::type; \
    BODY;                                                      \
    break;                                                     \
  }
#define LR_DISPATCH_NUMERIC(DT, WHAT, BODY)                              \
  switch (DT) {                                                          \
    LR_CASE_DT(Float32, BODY)                                            \
    LR_CASE_DT(Float64, BODY)                                            \
    LR_CASE_DT(Int8, BODY)                                               \
    LR_CASE_DT(Uint8, BODY)                                              \
    LR_CASE_DT(Int16, BODY)                                              \
    LR_CASE_DT(Uint16, BODY)                                             \
    LR_CASE_DT(Int32, BODY)                                              \
    LR_CASE_DT(Uint32, BODY)                                             \
    LR_CASE_DT(Int64, BODY)                                              \
    LR_CASE_DT(Uint64, BODY)                                             \
    default:                                                             \
      LR_THROW(UnsupportedError, WHAT, ": dtype ", ::loadrun::dtype_name(DT), " is not supported"); \
  }
#define LR_DISPATCH_FLOAT(DT, WHAT, BODY)                                \
  switch (DT) {                                                          \
    LR_CASE_DT(Float32, BODY)                                            \
    LR_CASE_DT(Float64, BODY)                                            \
    default:                                                             \
      LR_THROW(UnsupportedError, WHAT, ": dtype ", ::loadrun::dtype_name(DT), " is not supported"); \
  }
