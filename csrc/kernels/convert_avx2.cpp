// The AVX2 ConvertImpl (convert.h): convert_loops.inc compiled with -mavx2
// -mfma -mf16c (the compiler vectorises the compare and convert loops 8
// lanes wide), float16 <-> float32 with the F16C instructions (round to
// nearest even, as float_to_half; a NaN stays a NaN, its payload may
// differ). Runs only from the avx2 kernel table (the level requires F16C).
#include <immintrin.h>

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

inline uint16_t to_half(float f) {
  return static_cast<uint16_t>(_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0));
}
void to_half_n(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) y[i] = to_half(x[i]);
}
void from_half_n(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
  for (; i < n; ++i) y[i] = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(x[i])));
}

#include "kernels/convert_loops.inc"

const ConvertImpl kAvx2{compare, logical_not, cast};

}  // namespace

const ConvertImpl& convert_avx2_impl() { return kAvx2; }

}  // namespace kernels
}  // namespace loadrun
