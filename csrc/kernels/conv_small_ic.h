// Direct convolution for layers with few input channels (first layers:
// ResNet's 7x7/2 stem, MobileNet's 3x3/2 stem), where im2col would copy
// each input value kh*kw times for a GEMM whose k (ic*kh*kw) is small.
// The input channels are zero-padded (and, for stride 2, split into even and
// odd columns: dwconv_fill) so that every output row is a run of contiguous
// loads; weights are packed per block of 6 output channels as
// wp[ocb][ic][kh][kw][6] (zeros past oc). A register tile is 6 channels x 16
// output columns; each (ic, kh, kw) step broadcasts 6 weights against two
// 8-column input vectors. Bias, residual and the activation are applied as
// the tile is stored.
#pragma once
#include <cstdint>

#include "kernels/sgemm.h"

namespace loadrun {
namespace kernels {

constexpr int kSmallIcOcBlock = 6;
constexpr int kSmallIcOwTile = 16;

// Floats of the packed weights, and the packing (w: OIHW, oc x ic x kh x kw).
int64_t conv_small_ic_packed_floats(int64_t oc, int64_t ic, int64_t kh, int64_t kw);
void conv_small_ic_pack(const float* w, int64_t oc, int64_t ic, int64_t kh, int64_t kw, float* wp);

// Row pitch (floats) of the padded (phase) planes, and their row count.
int64_t conv_small_ic_pitch(int64_t kw, int64_t s, int64_t iw, int64_t pw, int64_t ow);
int64_t conv_small_ic_rows(int64_t kh, int64_t s, int64_t ih, int64_t ph, int64_t oh);

// One image: planes holds, per input channel c, s phase planes of rows x ld
// (plane (c, p) at planes + (c * s + p) * rows * ld), filled by dwconv_fill.
// y: oc planes of oh x ow. ep: bias per output channel (kPerRow), residual
// laid out like y (res_ld unused: planes of oh x ow), activation.
struct SmallIcGeo {
  int64_t ic, oc, kh, kw, s, oh, ow, rows, ld;
};
void conv_small_ic(const SmallIcGeo& g, const float* planes, const float* wp, const Epilogue& ep,
                   float* y);

// The kernel of one ISA level (kernel_table.h picks it).
struct ConvSmallIcImpl {
  void (*conv)(const SmallIcGeo& g, const float* planes, const float* wp, const Epilogue& ep,
               float* y);
};

void conv_small_ic_portable(const SmallIcGeo& g, const float* planes, const float* wp,
                            const Epilogue& ep, float* y);
void conv_small_ic_avx2(const SmallIcGeo& g, const float* planes, const float* wp,
                        const Epilogue& ep, float* y);
void conv_small_ic_neon(const SmallIcGeo& g, const float* planes, const float* wp,
                        const Epilogue& ep, float* y);  // conv_small_ic_neon.cpp (aarch64)

}  // namespace kernels
}  // namespace loadrun
