// Winograd transforms for the avx512 table: winograd_avx512_tiles.h (method
// there) over the real AVX-512F 16-lane traits. The same source runs emulated
// on AVX2 as the test-only avx512_emu level (winograd_avx512_emu_avx2.cpp);
// the entry points of both are winograd_avx512_entry.inc.
// GCC 12 warns, wrongly, about the undefined pass-through operand of
// _mm512_max_ps / _mm512_min_ps.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "kernels/simd16_avx512.h"
#include "kernels/winograd_avx512.h"
#include "kernels/winograd_avx512_tiles.h"

namespace loadrun {
namespace kernels {

#define LR_WINO16_TRAITS simd16::Avx512
#define LR_WINO16_INPUT_FN winograd_input_tiles_avx512
#define LR_WINO16_OUTPUT_FN winograd_output_tiles_avx512
#include "kernels/winograd_avx512_entry.inc"

}  // namespace kernels
}  // namespace loadrun
