// Element types. Float16 is storage only: kernels compute in float32.
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
};
constexpr int kNumDTypes = 12;

size_t dtype_size(DType dt);
const char* dtype_name(DType dt);          // "float32", "int64", "bool", ...
bool dtype_from_name(const std::string& name, DType* out);
bool dtype_is_float(DType dt);
bool dtype_is_signed(DType dt);

float half_to_float(uint16_t h);
uint16_t float_to_half(float f);

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
