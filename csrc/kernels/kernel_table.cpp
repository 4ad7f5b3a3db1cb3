// Fills the kernel table of each ISA level (kernel_table.h): the one place
// that maps a level to the functions that run at it.
#include "kernels/kernel_table.h"

#include <array>
#include <memory>
#include <mutex>

#include "core/errors.h"
#include "kernels/dwconv_avx512.h"
#include "kernels/sgemm_avx512.h"
#include "kernels/winograd_avx512.h"

namespace loadrun {
namespace kernels {

namespace {

KernelTable fill(IsaLevel level) {
  KernelTable t;
  t.level = level;
  t.kernels = IsaLevel::kPortable;
  t.sgemm = sgemm_portable_impl();
  t.eltwise = eltwise_portable_impl();
  t.dwconv = {dwconv_plane_portable, deinterleave_portable};
  t.winograd = {winograd_input_tiles_portable, winograd_output_tiles_portable};
  t.conv_small_ic = {conv_small_ic_portable};
  t.conv_int8_nchw44 = {conv_int8_nchw44_row_s8_portable, conv_int8_nchw44_row_u8_portable};
  t.conv_nchwc = conv_nchwc_portable_impl();
  t.requant = {requant_row4_portable};
  t.convert = convert_portable_impl();
  t.fma = {"scalar", fma_loop_portable, 8 * 2};
#ifdef LOADRUN_X86_KERNELS
  if (level == IsaLevel::kAvx2 || level == IsaLevel::kAvx512 || level == IsaLevel::kAvx512Emu) {
    t.kernels = IsaLevel::kAvx2;
    t.sgemm = sgemm_avx2_impl();
    t.eltwise = eltwise_avx2_impl();
    t.dwconv = {dwconv_plane_avx2, deinterleave_avx2, dwconv3x3_direct_avx2};
    t.winograd = {winograd_input_tiles_avx2, winograd_output_tiles_avx2};
    t.conv_small_ic = {conv_small_ic_avx2};
    t.conv_int8_nchw44 = {conv_int8_nchw44_row_s8_avx2, conv_int8_nchw44_row_u8_avx2};
    t.conv_nchwc = conv_nchwc_avx2_impl();
    t.requant = {requant_row4_avx2};
    t.convert = convert_avx2_impl();
    t.fma = {"avx2_fma", fma_loop_avx2, 12 * 16};
  }
  // AVX-512: the avx2 table with the AVX-512F kernels in place; the test
  // level avx512_emu runs the same kernel source over an AVX2 emulation of
  // its 16-lane vectors (isa.h). Packed SGEMM weights follow the table's
  // sgemm (mr 12, nr 32 for both).
  if (level == IsaLevel::kAvx512) {
    t.sgemm = sgemm_avx512_impl();
    t.dwconv.plane = dwconv_plane_avx512;
    t.winograd = {winograd_input_tiles_avx512, winograd_output_tiles_avx512};
  }
  if (level == IsaLevel::kAvx512Emu) {
    t.sgemm = sgemm_avx512_emu_impl();
    t.dwconv.plane = dwconv_plane_avx512_emu;
    t.winograd = {winograd_input_tiles_avx512_emu, winograd_output_tiles_avx512_emu};
  }
#endif
#ifdef LOADRUN_ARM64_KERNELS
  // kNeonDotprod runs the neon kernels, with the int8 kernels that use the
  // dot product in place.
  if (level == IsaLevel::kNeon || level == IsaLevel::kNeonDotprod) {
    t.kernels = IsaLevel::kNeon;
    t.sgemm = sgemm_neon_impl();
    t.eltwise = eltwise_neon_impl();
    t.dwconv = {dwconv_plane_neon, deinterleave_neon};
    t.winograd = {winograd_input_tiles_neon, winograd_output_tiles_neon};
    t.conv_small_ic = {conv_small_ic_neon};
    t.conv_nchwc = conv_nchwc_neon_impl();
    t.requant = {requant_row4_neon};
  }
  if (level == IsaLevel::kNeonDotprod)
    t.conv_int8_nchw44 = {conv_int8_nchw44_row_s8_dotprod, conv_int8_nchw44_row_u8_dotprod};
#endif
  return t;
}

}  // namespace

const KernelTable& kernel_table_for(IsaLevel level) {
  LR_CHECK(isa_supported(level), UnsupportedError, "ISA level ", isa_level_name(level),
           " cannot run on this CPU or build");
  static std::array<std::unique_ptr<const KernelTable>, kIsaLevelCount> tables;
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  auto& t = tables[static_cast<size_t>(level)];
  if (!t) t = std::make_unique<const KernelTable>(fill(level));
  return *t;
}

const KernelTable& kernel_table() {
  static const KernelTable& t = kernel_table_for(isa_level());
  return t;
}

}  // namespace kernels
}  // namespace loadrun
