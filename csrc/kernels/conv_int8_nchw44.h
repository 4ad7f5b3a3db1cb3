// Direct int8 convolution on NCHW44 blocked tensors for the dot-product
// instructions (ARMv8.2 SDOT/UDOT: four 4-byte dot products per
// instruction). The input is a padded copy x' of one image, laid out
// [icb][rows][ld][4] bytes (4 input channels of a pixel side by side), and
// the weights are packed per block of 4 output channels as
// wp[ocb][icb][kh][kw][4 oc][4 ic]: one 16-byte vector per tap and input
// block, so that one dot product of it with the pixel's 4 input bytes
// (broadcast to the 4 lanes) adds the 4 output channels' sums of that tap.
// The kernels produce raw int32 (wrapping) sums dot(x', w) of one output
// row of one output block, [ow][4]; zero points, the signedness correction
// and the bias are folded in by the caller (ops/qlinear_conv_nchw44.cpp),
// which also requantises in plain C++ so every ISA rounds alike.
// Both operands have one signedness: s8 x s8 (SDOT) or u8 x u8 (UDOT); the
// caller flips the input's top bit (x ^ 0x80) when it differs from the
// weights' and corrects the sum by a constant per output channel.
// Cost: kh*kw*icb dot products of 16 bytes per output pixel and block.
#pragma once
#include <cstdint>

namespace loadrun {
namespace kernels {

constexpr int kNchw44 = 4;
constexpr int kNchw44MaxBlocks = 2;  // output blocks one row call computes

struct ConvInt8Nchw44Geo {
  int64_t icb;       // input channel blocks
  int64_t kh, kw;    // kernel
  int64_t sh, sw;    // strides
  int64_t dh, dw;    // dilations
  int64_t ow;        // output width
  int64_t rows, ld;  // padded copy: rows x ld pixels per input block
};

// Rows and row length (pixels) of the padded copy for an output of oh x ow.
inline int64_t conv_int8_nchw44_rows(int64_t oh, int64_t kh, int64_t sh, int64_t dh) {
  return (oh - 1) * sh + (kh - 1) * dh + 1;
}

// Bytes of the packed weights of oc x ic x kh x kw (16 per tap, input block
// and output block), and the packing: w is OIHW int8 or uint8 bytes (one
// group); lanes of channels >= oc or >= ic get `fill`. sum_w[oc] (may be
// null) receives, per output channel, the wrapping sum of its packed
// weights (padded lanes included), as int32, for the caller's correction.
int64_t conv_int8_nchw44_packed_bytes(int64_t oc, int64_t ic, int64_t kh, int64_t kw);
void conv_int8_nchw44_pack(const uint8_t* w, bool is_signed, int64_t oc, int64_t ic, int64_t kh,
                           int64_t kw, uint8_t* wp, int32_t* sum_w);
// Depthwise (group = channels = oc, w: oc x 1 x kh x kw): per output block
// one input block, the same row kernels over block-diagonal taps (lane l of
// the output takes lane l of the input; the other 12 bytes are 0), so one
// row call per block with icb = 1 and xp at the block's input plane.
// Packed bytes: ocb * kh * kw * 16. sum_w as above.
int64_t conv_int8_nchw44_dw_packed_bytes(int64_t oc, int64_t kh, int64_t kw);
void conv_int8_nchw44_pack_dw(const uint8_t* w, bool is_signed, int64_t oc, int64_t kh, int64_t kw,
                              uint8_t* wp, int32_t* sum_w);

// One output row oy of nb (1 or 2) consecutive output blocks:
// acc[b][ox][lane] = sum over the window and the icb input blocks of
// x'[icb][oy*sh + ky*dh][ox*sw + kx*dw][i] * wblock_b[icb][ky][kx][lane][i],
// wrapping; wblock: the first block's packed weights (wp + ocb * icb * kh *
// kw * 16), the second's follow; acc[b] at acc + b * ow * 4. Two blocks
// share each input load. s8: both signed, u8: unsigned.
using ConvInt8Nchw44RowFn = void (*)(const ConvInt8Nchw44Geo& g, const uint8_t* xp,
                                     const uint8_t* wblock, int nb, int64_t oy, int32_t* acc);

// The kernels of one ISA level (kernel_table.h picks them).
struct ConvInt8Nchw44Impl {
  ConvInt8Nchw44RowFn row_s8;
  ConvInt8Nchw44RowFn row_u8;
};

void conv_int8_nchw44_row_s8_portable(const ConvInt8Nchw44Geo& g, const uint8_t* xp,
                                      const uint8_t* wblock, int nb, int64_t oy, int32_t* acc);
void conv_int8_nchw44_row_u8_portable(const ConvInt8Nchw44Geo& g, const uint8_t* xp,
                                      const uint8_t* wblock, int nb, int64_t oy, int32_t* acc);
// conv_int8_nchw44_dotprod.cpp (aarch64, -march=armv8.2-a+dotprod)
void conv_int8_nchw44_row_s8_dotprod(const ConvInt8Nchw44Geo& g, const uint8_t* xp,
                                     const uint8_t* wblock, int nb, int64_t oy, int32_t* acc);
void conv_int8_nchw44_row_u8_dotprod(const ConvInt8Nchw44Geo& g, const uint8_t* xp,
                                     const uint8_t* wblock, int nb, int64_t oy, int32_t* acc);
// conv_int8_nchw44_avx2.cpp (x86-64: widened to 16 bits, vpmaddwd; exact)
void conv_int8_nchw44_row_s8_avx2(const ConvInt8Nchw44Geo& g, const uint8_t* xp,
                                  const uint8_t* wblock, int nb, int64_t oy, int32_t* acc);
void conv_int8_nchw44_row_u8_avx2(const ConvInt8Nchw44Geo& g, const uint8_t* xp,
                                  const uint8_t* wblock, int nb, int64_t oy, int32_t* acc);

}  // namespace kernels
}  // namespace loadrun
