// The portable ConvertImpl (convert.h): convert_loops.inc compiled for the
// baseline ISA; float16 through the scalar bit conversions of core/dtype.h.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "core/dtype.h"
#include "kernels/convert.h"

namespace loadrun {
namespace kernels {

namespace {

inline uint16_t to_half(float f) { return float_to_half(f); }
void to_half_n(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = float_to_half(x[i]);
}
void from_half_n(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = half_to_float(x[i]);
}

#include "kernels/convert_loops.inc"

const ConvertImpl kPortable{compare, logical_not, cast};

}  // namespace

const ConvertImpl& convert_portable_impl() { return kPortable; }

}  // namespace kernels
}  // namespace loadrun
