// Depthwise convolution of one channel plane (k x k window, k = 3 or 5,
// stride 1 or 2, dilation 1) from a zero-padded copy of the input, so the
// kernels need no bounds checks: P[r][q] is input (r - pad_top, q - pad_left)
// or 0. Stride 1 reads P itself; stride 2 reads P split into its even and
// odd columns (E[r][q] = P[r][2q], O[r][q] = P[r][2q+1]), which turns the
// stride-2 row into two contiguous rows. Bias and the epilogue's activation
// are applied before each output row is stored.
#pragma once
#include <cstdint>

#include "kernels/sgemm.h"

namespace loadrun {
namespace kernels {

// Row pitch (floats) of the padded planes for an output row of `ow`, and the
// number of rows; the kernels read up to this pitch (at most 8 floats past
// the last output's window), so the planes must hold ld floats per row.
int64_t dwconv_pitch(int k, int s, int64_t ow);
int64_t dwconv_rows(int k, int s, int64_t oh);

// y[oh x ow] = act(bias + sum_{i,j<k} w[i*k + j] * P[oh*s + i][ow*s + j]).
// s == 1: p0 = P. s == 2: p0 = E, p1 = O. ld: dwconv_pitch(k, s, ow).
// ep: its activation only (ep.bias is ignored; the bias is `bias`).
void dwconv_plane(int k, int s, const float* p0, const float* p1, int64_t ld, const float* w,
                  float bias, const Epilogue& ep, float* y, int64_t oh, int64_t ow);

// Writes the input plane x (ih x iw) into the padded plane(s) p0 (and p1,
// stride 2), `rows` rows of pitch ld, where row r, column q hold input
// (r - ph, q - pw) (stride 1) or (r - ph, 2q - pw) / (r - ph, 2q + 1 - pw)
// (stride 2). Only positions inside the input are written: the caller zeroes
// the planes once, and the pad positions stay zero from channel to channel.
void dwconv_fill(int s, const float* x, int64_t ih, int64_t iw, int64_t ph, int64_t pw,
                 int64_t rows, int64_t ld, float* p0, float* p1);

// 3x3, stride s = 1 or 2, straight from the input plane x (ih x iw), no
// padded copy: y[oh x ow] = act(bias + sum_{i,j<3} w[i*3 + j] *
// x[s*r + i - ph][s*c + j - pw]), 0 outside x (any pads, so oh and ow set
// the bottom and right ones). zero: iw floats of 0, read for the rows above
// and below the input.
using Dwconv3x3DirectFn = void (*)(int s, const float* x, int64_t ih, int64_t iw, int64_t ph,
                                   int64_t pw, const float* w, float bias, const Epilogue& ep,
                                   float* y, int64_t oh, int64_t ow, const float* zero);

// The kernels of one ISA level (kernel_table.h picks them): the plane
// kernel behind dwconv_plane, the deinterleave of dwconv_fill's stride-2
// planes (even[i] = src[2i], odd[i] = src[2i + 1] for i < n), and the direct
// 3x3 kernel where the level has one (null: the padded planes).
struct DwconvImpl {
  void (*plane)(int k, int s, const float* p0, const float* p1, int64_t ld, const float* w,
                float bias, const Epilogue& ep, float* y, int64_t oh, int64_t ow);
  void (*deinterleave)(const float* src, int64_t n, float* even, float* odd);
  Dwconv3x3DirectFn direct3x3 = nullptr;
};

// Implementations (dwconv.cpp: portable; dwconv_avx2.cpp and
// dwconv3x3_direct_avx2.cpp: AVX2+FMA; dwconv_neon.cpp: NEON).
void deinterleave_portable(const float* src, int64_t n, float* even, float* odd);
void deinterleave_avx2(const float* src, int64_t n, float* even, float* odd);
void dwconv_plane_portable(int k, int s, const float* p0, const float* p1, int64_t ld,
                           const float* w, float bias, const Epilogue& ep, float* y, int64_t oh,
                           int64_t ow);
void dwconv_plane_avx2(int k, int s, const float* p0, const float* p1, int64_t ld, const float* w,
                       float bias, const Epilogue& ep, float* y, int64_t oh, int64_t ow);
void dwconv3x3_direct_avx2(int s, const float* x, int64_t ih, int64_t iw, int64_t ph, int64_t pw,
                           const float* w, float bias, const Epilogue& ep, float* y, int64_t oh,
                           int64_t ow, const float* zero);
// NEON (dwconv_neon.cpp; aarch64 builds only).
void deinterleave_neon(const float* src, int64_t n, float* even, float* odd);
void dwconv_plane_neon(int k, int s, const float* p0, const float* p1, int64_t ld, const float* w,
                       float bias, const Epilogue& ep, float* y, int64_t oh, int64_t ow);

}  // namespace kernels
}  // namespace loadrun
