// Shared pieces of the elementwise operator files (binary, variadic, compare,
// where, clip, cast): a float16 tag type so that kernels can be written once
// for every dtype, value load/store in the type a kernel computes in, integer
// arithmetic that wraps instead of overflowing (no undefined behaviour), a
// float -> integer conversion that saturates, and dispatch macros whose body
// may contain commas.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "ops/common.h"

namespace loadrun {

// float16 storage, distinct from uint16_t so that templates can tell them apart.
struct Half {
  uint16_t bits;
};
static_assert(sizeof(Half) == 2, "Half must be two bytes");
// bfloat16 storage, likewise (computes as float, like Half).
struct BHalf {
  uint16_t bits;
};
static_assert(sizeof(BHalf) == 2, "BHalf must be two bytes");

// How a kernel reads and writes an element: float16 and bfloat16 compute as
// float (rounded once per stored result), every other type as itself.
template <typename T>
struct Num {
  using C = T;
  static C ld(T v) { return v; }
  static T st(C v) { return v; }
};
template <>
struct Num<Half> {
  using C = float;
  static float ld(Half v) { return half_to_float(v.bits); }
  static Half st(float v) { return Half{float_to_half(v)}; }
};
template <>
struct Num<BHalf> {
  using C = float;
  static float ld(BHalf v) { return bf16_to_float(v.bits); }
  static BHalf st(float v) { return BHalf{float_to_bf16(v)}; }
};

// Unsigned type integer arithmetic is done in (wide enough that no promotion
// to int happens, so products never overflow a signed int).
template <typename T>
using WrapU = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, std::make_unsigned_t<T>>;

template <typename T>
T add_wrap(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(static_cast<WrapU<T>>(a) + static_cast<WrapU<T>>(b));
  } else {
    return a + b;
  }
}
template <typename T>
T sub_wrap(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(static_cast<WrapU<T>>(a) - static_cast<WrapU<T>>(b));
  } else {
    return a - b;
  }
}
template <typename T>
T mul_wrap(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(static_cast<WrapU<T>>(a) * static_cast<WrapU<T>>(b));
  } else {
    return a * b;
  }
}

// double -> integer D, truncating toward zero; NaN gives 0 and values out of
// range saturate (ONNX leaves them undefined; this keeps them defined).
template <typename D>
D sat_cast(double v) {
  static_assert(std::is_integral_v<D>, "sat_cast is for integer targets");
  if (std::isnan(v)) return D(0);
  constexpr double lo = static_cast<double>(std::numeric_limits<D>::lowest());
  // 2^bits of the type (exact in double); anything >= it does not fit.
  constexpr double hi_excl = static_cast<double>(std::numeric_limits<D>::max() / 2 + 1) * 2.0;
  if (v <= lo) return std::numeric_limits<D>::lowest();
  if (v >= hi_excl) return std::numeric_limits<D>::max();
  return static_cast<D>(v);
}

}  // namespace loadrun

// Variadic dispatch: BODY runs with `T` the element type of DT (Half for
// float16, BHalf for bfloat16, bool for bool). Commas in BODY are fine.
#define LR_EW_CASE(D, TYPE, ...) \
  case ::loadrun::DType::D: {    \
    using T = TYPE;              \
    __VA_ARGS__;                 \
    break;                       \
  }
#define LR_EW_THROW(DT, WHAT) \
  LR_THROW(UnsupportedError, WHAT, ": dtype ", ::loadrun::dtype_name(DT), " is not supported")

// float32, float64, float16, bfloat16.
#define LR_EW_DISPATCH_FLOAT(DT, WHAT, ...)              \
  switch (DT) {                                          \
    LR_EW_CASE(Float32, float, __VA_ARGS__)              \
    LR_EW_CASE(Float64, double, __VA_ARGS__)             \
    LR_EW_CASE(Float16, ::loadrun::Half, __VA_ARGS__)    \
    LR_EW_CASE(BFloat16, ::loadrun::BHalf, __VA_ARGS__)  \
    default: LR_EW_THROW(DT, WHAT);                      \
  }
// Every integer dtype (not bool).
#define LR_EW_INT_CASES(...)                  \
  LR_EW_CASE(Int8, int8_t, __VA_ARGS__)       \
  LR_EW_CASE(Uint8, uint8_t, __VA_ARGS__)     \
  LR_EW_CASE(Int16, int16_t, __VA_ARGS__)     \
  LR_EW_CASE(Uint16, uint16_t, __VA_ARGS__)   \
  LR_EW_CASE(Int32, int32_t, __VA_ARGS__)     \
  LR_EW_CASE(Uint32, uint32_t, __VA_ARGS__)   \
  LR_EW_CASE(Int64, int64_t, __VA_ARGS__)     \
  LR_EW_CASE(Uint64, uint64_t, __VA_ARGS__)
// Floats and integers (not bool).
#define LR_EW_DISPATCH_NUMERIC(DT, WHAT, ...)            \
  switch (DT) {                                          \
    LR_EW_CASE(Float32, float, __VA_ARGS__)              \
    LR_EW_CASE(Float64, double, __VA_ARGS__)             \
    LR_EW_CASE(Float16, ::loadrun::Half, __VA_ARGS__)    \
    LR_EW_CASE(BFloat16, ::loadrun::BHalf, __VA_ARGS__)  \
    LR_EW_INT_CASES(__VA_ARGS__)                         \
    default: LR_EW_THROW(DT, WHAT);                      \
  }
// Every dtype, bool included.
#define LR_EW_DISPATCH_ALL(DT, WHAT, ...)                \
  switch (DT) {                                          \
    LR_EW_CASE(Float32, float, __VA_ARGS__)              \
    LR_EW_CASE(Float64, double, __VA_ARGS__)             \
    LR_EW_CASE(Float16, ::loadrun::Half, __VA_ARGS__)    \
    LR_EW_CASE(BFloat16, ::loadrun::BHalf, __VA_ARGS__)  \
    LR_EW_INT_CASES(__VA_ARGS__)                         \
    LR_EW_CASE(Bool, bool, __VA_ARGS__)                  \
    default: LR_EW_THROW(DT, WHAT);                      \
  }
