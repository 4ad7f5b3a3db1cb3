// Float convolution on channel-blocked data (NCHWc, block b = 4 or 8): a
// tensor of C channels is [N, ceil(C/b), H, W, b], element (n, c, h, w) at
// [n][c / b][h][w][c % b]. Lanes of channels >= C in the last block hold
// anything (even NaN): the kernels read only the real input lanes (dense)
// or mask them out of the result (depthwise), and write every output lane,
// the padded ones as act(0) (bias and residual masked to zero there).
//
// Dense (group 1): weights packed once as wp[ocb][icb][kh][kw][b_in][b_out]
// (zeros past OC and IC). A register tile is a few output pixels of one
// row x one or two output-channel blocks; per (input lane, tap) it
// broadcasts one input scalar per pixel against one b-lane weight vector per
// block (the NCHWc direct convolution of MLAS / MegEngine's nchw44 kernels).
// Output columns whose window lies inside the input run the tile without
// bounds checks; border tiles (and narrow rows) check each pixel's column
// per tap. Tiles split a run as evenly as they can (7 pixels: 4 + 3).
// 1x1 stride 1 without pads runs the maps as one row of positions (a GEMM
// over pixels: no per-row remainder tiles on narrow maps).
// Cost: oc*ic*kh*kw MACs per output pixel; no workspace.
//
// Depthwise (group == IC == OC): weights packed as wp[cb][kh][kw][b]; a
// tile is a few output pixels x one block, b channels per vector lane; 3x3
// (any stride) keeps the row's input vectors in registers so each feeds up
// to three FMAs.
#pragma once
#include <cstdint>

#include "kernels/sgemm.h"

namespace loadrun {
namespace kernels {

// One conv's geometry on blocked data (real channel counts ic, oc; blocks
// icb = ceil(ic/b), ocb = ceil(oc/b)); ph, pw are the begin pads.
struct NchwcGeo {
  int64_t b, ic, icb, ih, iw, oc, ocb, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw;
};

// Packed weights: floats, and the packing from the ONNX weight
// (dense: [oc][ic][kh][kw]; depthwise: [c][1][kh][kw]).
int64_t conv_nchwc_packed_floats(const NchwcGeo& g);
void conv_nchwc_pack(const NchwcGeo& g, const float* w, float* wp);
int64_t dwconv_nchwc_packed_floats(const NchwcGeo& g);
void dwconv_nchwc_pack(const NchwcGeo& g, const float* w, float* wp);

// One image: x [icb][ih][iw][b], y [ocb][oh][ow][b]; computes output blocks
// [ob0, ob1) x rows [oh0, oh1). bias: [oc] (null: none); res: the image's
// residual laid out like y (null: none), added after the bias; ep: its
// activation (ep.bias and ep.residual are not read). Depthwise: ob are the
// channel blocks (ic == oc).
using ConvNchwcFn = void (*)(const NchwcGeo& g, const float* x, const float* wp, const float* bias,
                             const float* res, const Epilogue& ep, float* y, int64_t ob0,
                             int64_t ob1, int64_t oh0, int64_t oh1);

// The kernels of one ISA level (kernel_table.h), per block size.
struct ConvNchwcImpl {
  ConvNchwcFn dense4, dense8, dw4, dw8;
  ConvNchwcFn dense(int64_t b) const { return b == 8 ? dense8 : dense4; }
  ConvNchwcFn dw(int64_t b) const { return b == 8 ? dw8 : dw4; }
};

// conv_nchwc.cpp (portable), conv_nchwc_avx2.cpp, conv_nchwc_neon.cpp.
ConvNchwcImpl conv_nchwc_portable_impl();
ConvNchwcImpl conv_nchwc_avx2_impl();
ConvNchwcImpl conv_nchwc_neon_impl();

}  // namespace kernels
}  // namespace loadrun
