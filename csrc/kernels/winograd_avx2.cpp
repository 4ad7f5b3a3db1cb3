// Winograd input and output transforms, AVX2+FMA (see winograd.h). One tile
// at a time with a tile row in one register: the input transform loads the
// t rows of a tile (8 floats each), applies the 1-D transform across rows,
// transposes 8x8 and applies it again, then scatters the t*t values to their
// [xi][tile] slots. The output transform gathers M's columns, transforms,
// transposes, transforms again, and stores m rows of Y with bias and
// activation (a masked store at the right edge). For F(4,3) lanes 6 and 7
// carry junk that is never stored.
#include <immintrin.h>

#include <algorithm>

#include "kernels/act_avx2.h"
#include "kernels/winograd.h"
#include "kernels/winograd_tx.h"

namespace loadrun {
namespace kernels {

namespace {

struct V8 {
  __m256 v;
};
inline V8 operator+(V8 a, V8 b) { return {_mm256_add_ps(a.v, b.v)}; }
inline V8 operator-(V8 a, V8 b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline V8 operator*(V8 a, float s) { return {_mm256_mul_ps(a.v, _mm256_set1_ps(s))}; }

template <int M>
void input_row(const float* p, int64_t ld, int64_t ntiles, float* v, int64_t sxi) {
  constexpr int T = M + 2;
  alignas(32) float tmp[8][8];
  for (int64_t j = 0; j < ntiles; ++j) {
    const float* s = p + j * M;
    V8 d[8], w[8];
    for (int k = 0; k < T; ++k) d[k].v = _mm256_loadu_ps(s + k * ld);
    // w[a] lane c = (B^T D)[a][c]
    if (M == 6) wino_in63(d, w); else wino_in43(d, w);
    __m256 r[8];
    for (int a = 0; a < 8; ++a) r[a] = a < T ? w[a].v : _mm256_setzero_ps();
    avx2::transpose8(r);  // r[c] lane a = (B^T D)[a][c]
    for (int c = 0; c < T; ++c) d[c].v = r[c];
    // w[b] lane a = sum_c BT[b][c] (B^T D)[a][c] = V[a][b]
    if (M == 6) wino_in63(d, w); else wino_in43(d, w);
    for (int b = 0; b < T; ++b) _mm256_store_ps(tmp[b], w[b].v);
    float* vj = v + j;
    for (int a = 0; a < T; ++a)
      for (int b = 0; b < T; ++b) vj[(a * T + b) * sxi] = tmp[b][a];
  }
}

template <int M>
void output_row(const float* mm, int64_t sxi, int64_t ntiles, float bias, const Epilogue& ep,
                float* y, int64_t ldy, int64_t rows, int64_t cols) {
  constexpr int T = M + 2;
  alignas(32) float tmp[8][8] = {};
  const __m256 bv = _mm256_set1_ps(bias);
  int64_t nr = std::min<int64_t>(M, rows);
  for (int64_t j = 0; j < ntiles; ++j) {
    const float* mj = mm + j;
    for (int a = 0; a < T; ++a)  // tmp[b] = column b of M
      for (int b = 0; b < T; ++b) tmp[b][a] = mj[(a * T + b) * sxi];
    V8 q[8], s[8];
    for (int b = 0; b < T; ++b) q[b].v = _mm256_load_ps(tmp[b]);
    // s[c] lane a = sum_b AT[c][b] M[a][b] = (M A)[a][c]
    if (M == 6) wino_out63(q, s); else wino_out43(q, s);
    __m256 r[8];
    for (int c = 0; c < 8; ++c) r[c] = c < M ? s[c].v : _mm256_setzero_ps();
    avx2::transpose8(r);  // r[a] lane c = (M A)[a][c]
    for (int a = 0; a < T; ++a) q[a].v = r[a];
    // s[k] lane c = sum_a AT[k][a] (M A)[a][c] = Y[k][c]
    if (M == 6) wino_out63(q, s); else wino_out43(q, s);
    int64_t nc = std::min<int64_t>(M, cols - j * M);
    __m256i mask = avx2::tail_mask(nc);
    float* yj = y + j * M;
    for (int k = 0; k < nr; ++k)
      _mm256_maskstore_ps(yj + k * ldy, mask, avx2::act8(ep, _mm256_add_ps(s[k].v, bv)));
  }
}

}  // namespace

void winograd_input_row_avx2(int m, const float* p, int64_t ld, int64_t ntiles, float* v,
                             int64_t sxi) {
  if (m == 6) return input_row<6>(p, ld, ntiles, v, sxi);
  input_row<4>(p, ld, ntiles, v, sxi);
}

void winograd_output_row_avx2(int m, const float* mm, int64_t sxi, int64_t ntiles, float bias,
                              const Epilogue& ep, float* y, int64_t ldy, int64_t rows,
                              int64_t cols) {
  if (m == 6) return output_row<6>(mm, sxi, ntiles, bias, ep, y, ldy, rows, cols);
  output_row<4>(mm, sxi, ntiles, bias, ep, y, ldy, rows, cols);
}

}  // namespace kernels
}  // namespace loadrun
