// Winograd input and output transforms, NEON (aarch64; see winograd.h), four
// tiles at a time with one tile per lane, so the transformed values go to
// (and come from) their [xi][tile] slots as whole 4-float vectors: the AVX2
// kernels' scheme (winograd_avx2.cpp) at half the width. Input: for each of
// the t rows, the four tiles' rows (8 readable floats each) are loaded and
// transposed as two 4x4 blocks (lane = tile, one register per column), the
// 1-D transform of winograd_tx.h runs across columns, then across rows, and
// each of the t*t results is one store. Output: the 1-D transform runs
// across rows, then across columns; bias and the activation are applied in
// registers (activation_neon.h); two 4x4 transposes turn each output row back
// into one tile's m floats. A last group of 1-3 tiles reads the last tile
// again in its spare lanes and stores (loads) through a small buffer; an
// output tile cut by the plane's edge is stored through a buffer as well.
#include <arm_neon.h>

#include <algorithm>
#include <cstring>

#include "kernels/activation_neon.h"
#include "kernels/winograd.h"
#include "kernels/winograd_tx.h"

namespace loadrun {
namespace kernels {

namespace {

struct V4 {
  float32x4_t v;
};
inline V4 operator+(V4 a, V4 b) { return {vaddq_f32(a.v, b.v)}; }
inline V4 operator-(V4 a, V4 b) { return {vsubq_f32(a.v, b.v)}; }
inline V4 operator*(V4 a, float s) { return {vmulq_n_f32(a.v, s)}; }

// In place: row i of the 4x4 block (a, b, c, d) becomes its column i.
inline void transpose4(float32x4_t& a, float32x4_t& b, float32x4_t& c, float32x4_t& d) {
  const float32x4_t t0 = vtrn1q_f32(a, b), t1 = vtrn2q_f32(a, b);
  const float32x4_t t2 = vtrn1q_f32(c, d), t3 = vtrn2q_f32(c, d);
  a = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
  b = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
  c = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
  d = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
}

template <int M>
inline void in_tx(const V4* d, V4* r) {
  if (M == 6) wino_in63(d, r); else wino_in43(d, r);
}
template <int M>
inline void out_tx(const V4* m, V4* y) {
  if (M == 6) wino_out63(m, y); else wino_out43(m, y);
}

template <int M>
void input_tiles(const float* p, int64_t ld, int64_t tw, int64_t ntiles, float* v, int64_t sxi) {
  constexpr int T = M + 2;
  float32x4_t wb[8][8];  // wb[r][b] lane l: (D_l B)[r][b]
  for (int64_t j = 0; j < ntiles; j += 4) {
    const int64_t nl = std::min<int64_t>(4, ntiles - j);
    const float* src[4];
    for (int l = 0; l < 4; ++l) {
      const int64_t jj = j + std::min<int64_t>(l, nl - 1);
      src[l] = p + (jj / tw) * M * ld + (jj % tw) * M;
    }
    for (int r = 0; r < T; ++r) {
      float32x4_t lo[4], hi[4];
      for (int l = 0; l < 4; ++l) {
        lo[l] = vld1q_f32(src[l] + r * ld);
        hi[l] = vld1q_f32(src[l] + r * ld + 4);
      }
      transpose4(lo[0], lo[1], lo[2], lo[3]);  // lo[c] lane l = D_l[r][c]
      transpose4(hi[0], hi[1], hi[2], hi[3]);  // hi[c] lane l = D_l[r][4 + c]
      V4 d[8], w[8];
      for (int c = 0; c < 4; ++c) d[c].v = lo[c], d[4 + c].v = hi[c];
      in_tx<M>(d, w);
      for (int b = 0; b < T; ++b) wb[r][b] = w[b].v;
    }
    for (int b = 0; b < T; ++b) {
      V4 d[8], w[8];
      for (int r = 0; r < T; ++r) d[r].v = wb[r][b];
      in_tx<M>(d, w);  // w[a] lane l = V_l[a][b]
      float* vb = v + b * sxi + j;
      for (int a = 0; a < T; ++a) {
        if (nl == 4) {
          vst1q_f32(vb + a * T * sxi, w[a].v);
        } else {
          float t[4];
          vst1q_f32(t, w[a].v);
          std::memcpy(vb + a * T * sxi, t, static_cast<size_t>(nl) * sizeof(float));
        }
      }
    }
  }
}

template <int M>
void output_tiles(const float* mm, int64_t sxi, int64_t tw, int64_t ntiles, float bias,
                  const Epilogue& ep, float* y, int64_t ldy, int64_t rows, int64_t cols) {
  constexpr int T = M + 2;
  const float32x4_t bv = vdupq_n_f32(bias), zero = vdupq_n_f32(0.f);
  float32x4_t sb[6][8];  // sb[k][b] lane l: (A^T M_l)[k][b]
  for (int64_t j = 0; j < ntiles; j += 4) {
    const int64_t nl = std::min<int64_t>(4, ntiles - j);
    for (int b = 0; b < T; ++b) {
      V4 q[8], s[8];
      const float* mb = mm + b * sxi + j;
      for (int a = 0; a < T; ++a) {
        if (nl == 4) {
          q[a].v = vld1q_f32(mb + a * T * sxi);
        } else {
          float t[4] = {0.f, 0.f, 0.f, 0.f};
          std::memcpy(t, mb + a * T * sxi, static_cast<size_t>(nl) * sizeof(float));
          q[a].v = vld1q_f32(t);
        }
      }
      out_tx<M>(q, s);
      for (int k = 0; k < M; ++k) sb[k][b] = s[k].v;
    }
    float* dst[4];
    int64_t nr[4], nc[4];
    for (int l = 0; l < nl; ++l) {
      const int64_t jj = j + l, r0 = (jj / tw) * M, c0 = (jj % tw) * M;
      dst[l] = y + r0 * ldy + c0;
      nr[l] = rows - r0;
      nc[l] = std::min<int64_t>(M, cols - c0);
    }
    for (int k = 0; k < M; ++k) {
      V4 q[8], yv[8];
      for (int b = 0; b < T; ++b) q[b].v = sb[k][b];
      out_tx<M>(q, yv);  // yv[c] lane l = Y_l[k][c]
      float32x4_t rr[8];
      for (int c = 0; c < 8; ++c) rr[c] = c < M ? neon::act4(ep, vaddq_f32(yv[c].v, bv)) : zero;
      transpose4(rr[0], rr[1], rr[2], rr[3]);  // rr[l] lane c = Y_l[k][c]
      transpose4(rr[4], rr[5], rr[6], rr[7]);  // rr[4 + l] lane c = Y_l[k][4 + c]
      for (int l = 0; l < nl; ++l) {
        if (k >= nr[l]) continue;
        float* d = dst[l] + k * ldy;
        if (nc[l] == M) {
          vst1q_f32(d, rr[l]);  // F(4,3): the whole row
          if (M == 6) vst1_f32(d + 4, vget_low_f32(rr[4 + l]));
        } else {
          float t[8];
          vst1q_f32(t, rr[l]);
          vst1q_f32(t + 4, rr[4 + l]);
          std::memcpy(d, t, static_cast<size_t>(nc[l]) * sizeof(float));
        }
      }
    }
  }
}

}  // namespace

void winograd_input_tiles_neon(int m, const float* p, int64_t ld, int64_t tw, int64_t ntiles,
                               float* v, int64_t sxi) {
  if (m == 6) return input_tiles<6>(p, ld, tw, ntiles, v, sxi);
  input_tiles<4>(p, ld, tw, ntiles, v, sxi);
}

void winograd_output_tiles_neon(int m, const float* mm, int64_t sxi, int64_t tw,
                                int64_t ntiles, float bias, const Epilogue& ep, float* y,
                                int64_t ldy, int64_t rows, int64_t cols) {
  if (m == 6) return output_tiles<6>(mm, sxi, tw, ntiles, bias, ep, y, ldy, rows, cols);
  output_tiles<4>(mm, sxi, tw, ntiles, bias, ep, y, ldy, rows, cols);
}

}  // namespace kernels
}  // namespace loadrun
