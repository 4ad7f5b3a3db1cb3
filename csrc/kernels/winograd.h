// Winograd F(m x m, 3 x 3) transforms for m = 4 (tile t = 6) and m = 6
// (tile t = 8), the pieces of the WINOGRAD_F43 / WINOGRAD_F63 convolutions.
// A t x t tile's transformed values are indexed xi = a*t + b (row a, column
// b of B^T d B, G g G^T and the product M). Callers lay values out as
// [xi][channel][tile]: the value xi of tile `tile` sits at
// base[xi * sxi + tile], so the per-xi GEMMs read and write plain matrices.
#pragma once
#include <cstdint>

#include "kernels/sgemm.h"

namespace loadrun {
namespace kernels {

// u[xi * sxi] = (G g G^T)[xi] for one 3x3 filter g (computed in double).
void winograd_filter(int m, const float* g, float* u, int64_t sxi);

// Input transform of the first `ntiles` tiles of a band of tiles, tw per
// tile row: tile j's t x t input is p[(j / tw * m + r) * ld + j % tw * m + c]
// (r, c < t; a zero-padded plane with 8 readable floats from each tile's
// start in every row), and v[xi * sxi + j] receives its B^T d B.
void winograd_input_tiles(int m, const float* p, int64_t ld, int64_t tw, int64_t ntiles,
                          float* v, int64_t sxi);

// Output transform of the first `ntiles` tiles of a band: tile j's M is
// mm[xi * sxi + j]; Y = A^T M A, plus bias and ep's activation (ep.bias is
// ignored), goes to y[(j / tw * m + r) * ldy + j % tw * m + c] for rows
// j / tw * m + r < rows and columns j % tw * m + c < cols.
void winograd_output_tiles(int m, const float* mm, int64_t sxi, int64_t tw, int64_t ntiles,
                           float bias, const Epilogue& ep, float* y, int64_t ldy, int64_t rows,
                           int64_t cols);

// The transforms of one ISA level (kernel_table.h picks them).
struct WinogradImpl {
  void (*input_tiles)(int m, const float* p, int64_t ld, int64_t tw, int64_t ntiles, float* v,
                      int64_t sxi);
  void (*output_tiles)(int m, const float* mm, int64_t sxi, int64_t tw, int64_t ntiles,
                       float bias, const Epilogue& ep, float* y, int64_t ldy, int64_t rows,
                       int64_t cols);
};

void winograd_input_tiles_portable(int m, const float* p, int64_t ld, int64_t tw,
                                   int64_t ntiles, float* v, int64_t sxi);
void winograd_output_tiles_portable(int m, const float* mm, int64_t sxi, int64_t tw,
                                    int64_t ntiles, float bias, const Epilogue& ep, float* y,
                                    int64_t ldy, int64_t rows, int64_t cols);
void winograd_input_tiles_avx2(int m, const float* p, int64_t ld, int64_t tw, int64_t ntiles,
                               float* v, int64_t sxi);
void winograd_output_tiles_avx2(int m, const float* mm, int64_t sxi, int64_t tw,
                                int64_t ntiles, float bias, const Epilogue& ep, float* y,
                                int64_t ldy, int64_t rows, int64_t cols);
void winograd_input_tiles_neon(int m, const float* p, int64_t ld, int64_t tw, int64_t ntiles,
                               float* v, int64_t sxi);  // winograd_neon.cpp (aarch64)
void winograd_output_tiles_neon(int m, const float* mm, int64_t sxi, int64_t tw,
                                int64_t ntiles, float bias, const Epilogue& ep, float* y,
                                int64_t ldy, int64_t rows, int64_t cols);

}  // namespace kernels
}  // namespace loadrun
