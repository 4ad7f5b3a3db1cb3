// The kernel table: every ISA-specific function the operators call, one
// struct of function pointers per kernel family, filled once for the level
// of isa.h. This is the only place that chooses kernels by ISA (as XNNPACK's
// src/configs/ and ONNX Runtime MLAS's platform.cpp); an algorithm is one
// algorithm whatever ISA backs it, and calls kernel_table().<family>.
//
// Filling (kernel_table.cpp, fill()): every family starts from its portable
// kernels, then each level overwrites what it has, lowest level first:
//   avx2          sgemm, eltwise, dwconv, winograd, conv_small_ic, conv_nchwc,
//                 conv_int8_nchw44, requant, convert, fma
//   avx512        = avx2, with sgemm, the depthwise plane and the Winograd
//                 transforms by the AVX-512F kernels (sgemm_avx512.cpp:
//                 12x32 tiles; dwconv_avx512.cpp; winograd_avx512.cpp; 16
//                 lanes, masked edges)
//   avx512_emu    (test level, isa.h) = avx2, with the same AVX-512 kernel
//                 sources over an AVX2 emulation of their 16-lane vectors
//                 (*_avx512_emu_avx2.cpp)
//   neon(_dotprod) sgemm (8x12 micro-kernel, sgemm_neon.cpp), eltwise, dwconv,
//                 winograd, conv_small_ic, conv_nchwc, requant
//   neon_dotprod  = neon, with conv_int8_nchw44 by SDOT/UDOT
//                 (conv_int8_nchw44_dotprod.cpp)
// A family that an ISA does not (yet) implement, or implements only in part
// (one member of the struct), keeps the portable functions for the rest.
//
// Plugging in a kernel family or an ISA:
//   1. the family's header declares a struct of function pointers
//      (XxxImpl) and the portable functions;
//   2. kernels for an ISA live in xxx_<isa>.cpp (CMakeLists.txt gives
//      *_avx2.cpp -mavx2 -mfma, *_avx512.cpp also -mavx512f; *_neon.cpp
//      builds on aarch64 only), with their functions declared in the
//      family's header. An AVX-512 kernel is written once over the 16-lane
//      traits (simd16_avx512.h) and also instantiated over their AVX2
//      emulation (simd16_emu.h, in a *_avx2.cpp) for the avx512_emu table;
//   3. the struct goes into KernelTable below, and fill() sets its portable
//      functions and, under the ISA's #ifdef, the ISA's ones.
// Packed weights (SGEMM panels) are in the format of the table that packed
// them; the table never changes after it is filled, so they stay valid.
#pragma once
#include "kernels/conv_int8_nchw44.h"
#include "kernels/conv_nchwc.h"
#include "kernels/conv_small_ic.h"
#include "kernels/convert.h"
#include "kernels/dwconv.h"
#include "kernels/eltwise.h"
#include "kernels/fma_peak.h"
#include "kernels/isa.h"
#include "kernels/requant.h"
#include "kernels/sgemm_impl.h"
#include "kernels/winograd.h"

namespace loadrun {
namespace kernels {

struct KernelTable {
  IsaLevel level;    // the level in use (isa_level())
  // The level whose kernels fill most of the table (avx512 and avx512_emu:
  // avx2, with their own sgemm).
  IsaLevel kernels;
  SgemmImpl sgemm;   // GEMM micro-kernels, packing, GEMV (sgemm_impl.h)
  // Elementwise and activations, per-channel scale+shift, softmax and
  // layer-norm rows, pooling taps, sums and maxima, 2-D transposes.
  EltwiseImpl eltwise;
  DwconvImpl dwconv;
  WinogradImpl winograd;          // input / output transforms
  ConvSmallIcImpl conv_small_ic;  // direct conv for few input channels
  ConvInt8Nchw44Impl conv_int8_nchw44;  // int8 NCHW44 direct conv rows
  ConvNchwcImpl conv_nchwc;       // dense and depthwise conv on NCHWc data
  RequantImpl requant;            // int32 sums -> int8/uint8, 4-lane rows
  ConvertImpl convert;            // compare and cast runs (Equal, Cast, ...)
  FmaLoopImpl fma;                // the FMA peak loop (bench only)
};

// The table of isa_level(), filled on first use (throws as isa_level() does).
const KernelTable& kernel_table();
// The table for a given supported level (tests of the kernels themselves;
// operators use kernel_table()). UnsupportedError for a level not supported.
const KernelTable& kernel_table_for(IsaLevel level);

}  // namespace kernels
}  // namespace loadrun
