// The Winograd transforms of winograd_avx512_tiles.h over the AVX2 emulation
// of the 16-lane traits (simd16_emu.h): the avx512_emu table's, so the avx512
// table's transforms are tested on AVX2 machines. Compiled with the AVX2 flags
// (the file name ends in _avx2.cpp); its speed means nothing.

#include "kernels/simd16_emu.h"
#include "kernels/winograd_avx512.h"
#include "kernels/winograd_avx512_tiles.h"

namespace loadrun {
namespace kernels {

#define LR_WINO16_TRAITS simd16::Emu
#define LR_WINO16_INPUT_FN winograd_input_tiles_avx512_emu
#define LR_WINO16_OUTPUT_FN winograd_output_tiles_avx512_emu
#include "kernels/winograd_avx512_entry.inc"

}  // namespace kernels
}  // namespace loadrun
