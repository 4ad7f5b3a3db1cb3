// Winograd input and output transforms, AVX2+FMA (see winograd.h), eight
// tiles at a time with one tile per lane, so the transformed values go to
// (and come from) their [xi][tile] slots as whole vectors. Input: for each
// of the t rows, the eight tiles' rows are loaded and transposed 8x8 (lane =
// tile, one register per column), the 1-D transform runs across columns,
// then across rows, and each of the t*t results is one store. Output: the
// 1-D transform runs across rows, then across columns; bias and activation
// are applied in registers; an 8x8 transpose turns each output row back into
// one register per tile, stored with a mask (m floats, fewer at the edge).
// For F(4,3) lanes 6 and 7 of the transposes carry junk that is never used.
#include <immintrin.h>

#include <algorithm>

#include "kernels/activation_avx2.h"
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
void input_tiles(const float* p, int64_t ld, int64_t tw, int64_t ntiles, float* v, int64_t sxi) {
  constexpr int T = M + 2;
  __m256 wb[8][8];  // wb[r][b] lane l: (D_l B)[r][b]
  for (int64_t j = 0; j < ntiles; j += 8) {
    int64_t nl = std::min<int64_t>(8, ntiles - j);
    const float* src[8];
    for (int l = 0; l < 8; ++l) {
      int64_t jj = j + std::min<int64_t>(l, nl - 1);
      src[l] = p + (jj / tw) * M * ld + (jj % tw) * M;
    }
    for (int r = 0; r < T; ++r) {
      __m256 rows[8];
      for (int l = 0; l < 8; ++l) rows[l] = _mm256_loadu_ps(src[l] + r * ld);
      avx2::transpose8(rows);  // rows[c] lane l = D_l[r][c]
      V8 d[8], w[8];
      for (int c = 0; c < T; ++c) d[c].v = rows[c];
      if (M == 6) wino_in63(d, w); else wino_in43(d, w);
      for (int b = 0; b < T; ++b) wb[r][b] = w[b].v;
    }
    __m256i mask = avx2::tail_mask(nl);
    for (int b = 0; b < T; ++b) {
      V8 d[8], w[8];
      for (int r = 0; r < T; ++r) d[r].v = wb[r][b];
      if (M == 6) wino_in63(d, w); else wino_in43(d, w);  // w[a] lane l = V_l[a][b]
      float* vb = v + b * sxi + j;
      for (int a = 0; a < T; ++a) {
        if (nl == 8) {
          _mm256_storeu_ps(vb + a * T * sxi, w[a].v);
        } else {
          _mm256_maskstore_ps(vb + a * T * sxi, mask, w[a].v);
        }
      }
    }
  }
}

template <int M>
void output_tiles(const float* mm, int64_t sxi, int64_t tw, int64_t ntiles, float bias,
                  const Epilogue& ep, float* y, int64_t ldy, int64_t rows, int64_t cols) {
  constexpr int T = M + 2;
  const __m256 bv = _mm256_set1_ps(bias);
  __m256 sb[8][8];  // sb[k][b] lane l: (A^T M_l)[k][b]
  for (int64_t j = 0; j < ntiles; j += 8) {
    int64_t nl = std::min<int64_t>(8, ntiles - j);
    __m256i mask = avx2::tail_mask(nl);
    for (int b = 0; b < T; ++b) {
      V8 q[8], s[8];
      const float* mb = mm + b * sxi + j;
      for (int a = 0; a < T; ++a)
        q[a].v = nl == 8 ? _mm256_loadu_ps(mb + a * T * sxi)
                         : _mm256_maskload_ps(mb + a * T * sxi, mask);
      if (M == 6) wino_out63(q, s); else wino_out43(q, s);
      for (int k = 0; k < M; ++k) sb[k][b] = s[k].v;
    }
    float* dst[8];
    int64_t nr[8];
    __m256i cmask[8];
    for (int l = 0; l < nl; ++l) {
      int64_t jj = j + l, r0 = (jj / tw) * M, c0 = (jj % tw) * M;
      dst[l] = y + r0 * ldy + c0;
      nr[l] = rows - r0;
      cmask[l] = avx2::tail_mask(std::min<int64_t>(M, cols - c0));
    }
    for (int k = 0; k < M; ++k) {
      V8 q[8], yv[8];
      for (int b = 0; b < T; ++b) q[b].v = sb[k][b];
      if (M == 6) wino_out63(q, yv); else wino_out43(q, yv);  // yv[c] lane l = Y_l[k][c]
      __m256 rr[8];
      for (int c = 0; c < 8; ++c)
        rr[c] = c < M ? avx2::act8(ep, _mm256_add_ps(yv[c].v, bv)) : _mm256_setzero_ps();
      avx2::transpose8(rr);  // rr[l] lane c = Y_l[k][c]
      for (int l = 0; l < nl; ++l)
        if (k < nr[l]) _mm256_maskstore_ps(dst[l] + k * ldy, cmask[l], rr[l]);
    }
  }
}

}  // namespace

void winograd_input_tiles_avx2(int m, const float* p, int64_t ld, int64_t tw, int64_t ntiles,
                               float* v, int64_t sxi) {
  if (m == 6) return input_tiles<6>(p, ld, tw, ntiles, v, sxi);
  input_tiles<4>(p, ld, tw, ntiles, v, sxi);
}

void winograd_output_tiles_avx2(int m, const float* mm, int64_t sxi, int64_t tw,
                                int64_t ntiles, float bias, const Epilogue& ep, float* y,
                                int64_t ldy, int64_t rows, int64_t cols) {
  if (m == 6) return output_tiles<6>(mm, sxi, tw, ntiles, bias, ep, y, ldy, rows, cols);
  output_tiles<4>(mm, sxi, tw, ntiles, bias, ep, y, ldy, rows, cols);
}

}  // namespace kernels
}  // namespace loadrun
