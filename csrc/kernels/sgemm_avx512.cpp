// AVX-512F SGEMM for the avx512 kernel table: the 12x32 micro-kernel,
// packing and blocked driver of sgemm_avx512_driver.h (method and packed
// formats there) over the real 16-lane traits (__m512, __mmask16). The same
// source runs, emulated on AVX2, as the test-only avx512_emu level
// (sgemm_avx512_emu_avx2.cpp), which is how it is tested on AVX2 machines.
// GCC 12 warns, wrongly, about the undefined pass-through operand of
// _mm512_max_ps / _mm512_min_ps.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "kernels/simd16_avx512.h"
#include "kernels/sgemm_avx512_driver.h"

namespace loadrun {
namespace kernels {

const SgemmImpl& sgemm_avx512_impl() { return Sgemm16<simd16::Avx512>::impl(); }

}  // namespace kernels
}  // namespace loadrun
