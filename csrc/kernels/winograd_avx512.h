// The AVX-512 Winograd transforms (winograd_avx512_tiles.h), for
// kernel_table.cpp: real AVX-512F (the avx512 table) and the same source over
// the AVX2 emulation of its 16-lane vectors (the test-only avx512_emu table).
#pragma once
#include "kernels/winograd.h"

namespace loadrun {
namespace kernels {

#ifdef LOADRUN_X86_KERNELS
void winograd_input_tiles_avx512(int m, const float* p, int64_t ld, int64_t tw, int64_t ntiles,
                                 float* v, int64_t sxi);
void winograd_output_tiles_avx512(int m, const float* mm, int64_t sxi, int64_t tw,
                                  int64_t ntiles, float bias, const Epilogue& ep, float* y,
                                  int64_t ldy, int64_t rows, int64_t cols);
void winograd_input_tiles_avx512_emu(int m, const float* p, int64_t ld, int64_t tw,
                                     int64_t ntiles, float* v, int64_t sxi);
void winograd_output_tiles_avx512_emu(int m, const float* mm, int64_t sxi, int64_t tw,
                                      int64_t ntiles, float bias, const Epilogue& ep, float* y,
                                      int64_t ldy, int64_t rows, int64_t cols);
#endif

}  // namespace kernels
}  // namespace loadrun
