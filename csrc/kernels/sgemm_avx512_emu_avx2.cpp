// The AVX-512 SGEMM of sgemm_avx512_driver.h (the avx512 table's) over the
// AVX2 emulation of the 16-lane traits (simd16_emu.h): the kernel table of
// the test-only ISA level avx512_emu (isa.h). It lets every AVX2 machine run
// the AVX-512 kernels' logic (tiles, masks, packing, epilogue) through the
// same tests as the real levels; its speed means nothing. Compiled with the
// AVX2 flags (the file name ends in _avx2.cpp).
#include "kernels/simd16_emu.h"
#include "kernels/sgemm_avx512_driver.h"

namespace loadrun {
namespace kernels {

const SgemmImpl& sgemm_avx512_emu_impl() { return Sgemm16<simd16::Emu>::impl(); }

}  // namespace kernels
}  // namespace loadrun
