// Comparisons (bool output) and dtype conversions on contiguous runs: the
// fast paths of Equal / Greater / Less / GreaterOrEqual / LessOrEqual /
// And / Or / Xor / Not and of Cast / CastLike. The loops are written once
// (convert_loops.inc) and compiled per ISA level (convert_portable.cpp; with
// -mavx2 -mfma -mf16c in convert_avx2.cpp, where the compiler vectorises them
// 8 floats wide and float16 converts with F16C); kernel_table().convert
// holds the level's pair. Results are those of the NAIVE kernels bit for bit
// (float16 NaN payloads aside: any NaN stays a NaN).
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace loadrun {
namespace kernels {

enum class CompareKind : uint8_t { Equal, Greater, Less, GreaterOrEqual, LessOrEqual, And, Or, Xor };

// Dtypes the compare kernel takes (And/Or/Xor: bool only, checked by the op).
inline bool compare_fast_dtype(DType dt) {
  switch (dt) {
    case DType::Float32:
    case DType::Float64:
    case DType::Int8:
    case DType::Uint8:
    case DType::Int32:
    case DType::Int64:
    case DType::Bool: return true;
    default: return false;
  }
}

// Dtypes the cast kernel takes, in any pair: float32, float16, float64,
// int8, uint8, int32, int64 and bool.
inline bool cast_fast_dtype(DType dt) {
  switch (dt) {
    case DType::Float32:
    case DType::Float16:
    case DType::Float64:
    case DType::Int8:
    case DType::Uint8:
    case DType::Int32:
    case DType::Int64:
    case DType::Bool: return true;
    default: return false;
  }
}

struct ConvertImpl {
  // y[i] = a[sa * i] op b[sb * i] (sa, sb in {0, 1}) for i < n; dt one of
  // compare_fast_dtype. NaN compares false (Equal too).
  void (*compare)(CompareKind k, DType dt, const void* a, int64_t sa, const void* b, int64_t sb,
                  bool* y, int64_t n);
  // y[i] = !x[i] for i < n.
  void (*logical_not)(const bool* x, bool* y, int64_t n);
  // y[i] = x[i] converted from `from` to `to` (both cast_fast_dtype) as Cast's
  // NAIVE does: float -> integer truncates, NaN gives 0, out of range
  // saturates; integer -> narrower integer wraps; -> bool is "nonzero"
  // (NaN is true); float16 rounds to nearest even.
  void (*cast)(DType from, DType to, const void* x, void* y, int64_t n);
};

const ConvertImpl& convert_portable_impl();
#ifdef LOADRUN_X86_KERNELS
const ConvertImpl& convert_avx2_impl();
#endif

}  // namespace kernels
}  // namespace loadrun
