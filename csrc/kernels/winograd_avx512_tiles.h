// Winograd input and output transforms (winograd.h) written once over the
// 16-lane traits V (simd16_avx512.h: AVX-512F for the avx512 table;
// simd16_emu.h: its AVX2 emulation for the test-only avx512_emu table),
// sixteen tiles at a time with one tile per lane, so the transformed values
// go to (and come from) their [xi][tile] slots as whole 16-float vectors.
// Input: for each of the t rows, the sixteen tiles' rows (8 floats each) are
// loaded and transposed as two 8x8 blocks (lane = tile, one vector per
// column), the 1-D transform (winograd_tx.h) runs across columns, then
// across rows, and each of the t*t results is one (masked, for the last
// tiles) 16-lane store. Output: masked 16-lane loads, the 1-D transform
// across rows, then across columns; bias and the clamp/select activations in
// registers (transcendental ones through the avx2 table's activation kernel
// on a buffer of the row, as in sgemm_avx512_tile.h); two 8x8 transposes
// turn each output row back into one vector per tile, stored with a mask (m
// floats, fewer at the edge). For F(4,3) lanes 6 and 7 of the transposes
// carry junk that is never used. Include only from winograd_avx512.cpp and
// winograd_avx512_emu_avx2.cpp: everything here has internal linkage.
#pragma once
#include <cstdint>

#include "kernels/eltwise.h"
#include "kernels/sgemm_avx512_tile.h"  // act_in_registers, act16
#include "kernels/simd_avx2.h"  // transpose8, tail_mask
#include "kernels/winograd.h"
#include "kernels/winograd_tx.h"

namespace loadrun {
namespace kernels {
namespace {

// std::min, here so no out-of-line copy of it is emitted from these units
// (see epilogue_empty16 in sgemm_avx512_tile.h).
inline int64_t imin64(int64_t a, int64_t b) { return a < b ? a : b; }

// A 16-lane vector with the arithmetic winograd_tx.h's templates use.
template <class V>
struct W16 {
  typename V::Reg v;
};
template <class V>
inline W16<V> operator+(W16<V> a, W16<V> b) { return {V::add(a.v, b.v)}; }
template <class V>
inline W16<V> operator-(W16<V> a, W16<V> b) { return {V::sub(a.v, b.v)}; }
template <class V>
inline W16<V> operator*(W16<V> a, float s) { return {V::mul(a.v, V::set1(s))}; }

template <class V, int M>
void wino_input16(const float* p, int64_t ld, int64_t tw, int64_t ntiles, float* v,
                  int64_t sxi) {
  constexpr int T = M + 2;
  using W = W16<V>;
  W wb[8][8];  // wb[r][b] lane l: (D_l B)[r][b]
  for (int64_t j = 0; j < ntiles; j += 16) {
    const int64_t nl = imin64(16, ntiles - j);
    const float* src[16];
    for (int l = 0; l < 16; ++l) {
      const int64_t jj = j + imin64(l, nl - 1);
      src[l] = p + (jj / tw) * M * ld + (jj % tw) * M;
    }
    for (int r = 0; r < T; ++r) {
      __m256 lo[8], hi[8];
      for (int l = 0; l < 8; ++l) {
        lo[l] = _mm256_loadu_ps(src[l] + r * ld);
        hi[l] = _mm256_loadu_ps(src[8 + l] + r * ld);
      }
      avx2::transpose8(lo);  // lo[c] lane l = D_l[r][c]
      avx2::transpose8(hi);
      W d[8], w[8];
      for (int c = 0; c < T; ++c) d[c].v = V::join(lo[c], hi[c]);
      if (M == 6) wino_in63(d, w); else wino_in43(d, w);
      for (int b = 0; b < T; ++b) wb[r][b] = w[b];
    }
    const typename V::Mask mask = V::tail(nl);
    for (int b = 0; b < T; ++b) {
      W d[8], w[8];
      for (int r = 0; r < T; ++r) d[r] = wb[r][b];
      if (M == 6) wino_in63(d, w); else wino_in43(d, w);  // w[a] lane l = V_l[a][b]
      float* vb = v + b * sxi + j;
      for (int a = 0; a < T; ++a) {
        if (nl == 16) {
          V::storeu(vb + a * T * sxi, w[a].v);
        } else {
          V::mask_storeu(vb + a * T * sxi, mask, w[a].v);
        }
      }
    }
  }
}

template <class V, int M>
void wino_output16(const float* mm, int64_t sxi, int64_t tw, int64_t ntiles, float bias,
                   const Epilogue& ep, float* y, int64_t ldy, int64_t rows, int64_t cols) {
  constexpr int T = M + 2;
  using W = W16<V>;
  using Reg = typename V::Reg;
  const Reg bv = V::set1(bias);
  const bool act_regs = ep.act != Act::kNone && act_in_registers(ep.act);
  const bool act_after = ep.act != Act::kNone && !act_regs;
  const Reg p0 = V::set1(ep.p0), p1 = V::set1(ep.p1);
  alignas(64) float buf[8 * 16];
  W sb[8][8];  // sb[k][b] lane l: (A^T M_l)[k][b]
  for (int64_t j = 0; j < ntiles; j += 16) {
    const int64_t nl = imin64(16, ntiles - j);
    const typename V::Mask mask = V::tail(nl);
    for (int b = 0; b < T; ++b) {
      W q[8], s[8];
      const float* mb = mm + b * sxi + j;
      for (int a = 0; a < T; ++a)
        q[a].v = nl == 16 ? V::loadu(mb + a * T * sxi) : V::maskz_loadu(mask, mb + a * T * sxi);
      if (M == 6) wino_out63(q, s); else wino_out43(q, s);
      for (int k = 0; k < M; ++k) sb[k][b] = s[k];
    }
    float* dst[16];
    int64_t nr[16];
    __m256i cmask[16];
    for (int l = 0; l < nl; ++l) {
      const int64_t jj = j + l, r0 = (jj / tw) * M, c0 = (jj % tw) * M;
      dst[l] = y + r0 * ldy + c0;
      nr[l] = rows - r0;
      cmask[l] = avx2::tail_mask(imin64(M, cols - c0));
    }
    for (int k = 0; k < M; ++k) {
      W q[8], yv[8];
      for (int b = 0; b < T; ++b) q[b] = sb[k][b];
      if (M == 6) wino_out63(q, yv); else wino_out43(q, yv);  // yv[c] lane l = Y_l[k][c]
      Reg rr[8];
      for (int c = 0; c < 8; ++c) {
        if (c >= M) {
          rr[c] = V::zero();
          continue;
        }
        rr[c] = V::add(yv[c].v, bv);
        if (act_regs) rr[c] = act16<V>(ep.act, rr[c], p0, p1);
      }
      if (act_after) {
        for (int c = 0; c < M; ++c) V::storeu(buf + c * 16, rr[c]);
        eltwise_avx2_impl().act(ep.act, buf, buf, M * 16, ep.p0, ep.p1);
        for (int c = 0; c < M; ++c) rr[c] = V::loadu(buf + c * 16);
      }
      __m256 lo[8], hi[8];
      for (int c = 0; c < 8; ++c) {
        lo[c] = V::lo(rr[c]);
        hi[c] = V::hi(rr[c]);
      }
      avx2::transpose8(lo);  // lo[l] lane c = Y_l[k][c] (tiles 0-7), hi: tiles 8-15
      avx2::transpose8(hi);
      for (int l = 0; l < nl; ++l)
        if (k < nr[l]) _mm256_maskstore_ps(dst[l] + k * ldy, cmask[l], l < 8 ? lo[l] : hi[l - 8]);
    }
  }
}

}  // namespace
}  // namespace kernels
}  // namespace loadrun
