// Depthwise 3x3 stride-2 convolution of one channel plane straight from the
// input, AVX2+FMA (see dwconv.h, dwconv3x3s2_direct). The padded-plane path
// first deinterleaves the whole input into even and odd columns, a full
// memory pass over an input four times the output's size, which cost more
// than the convolution itself (MobileNetV2's 112x112x96 and 56x56x144
// layers). Here each 8-output block of an input row loads input columns
// [b, b + 16) and [b + 2, b + 18) (b = 2c - pad_left) and deinterleaves them
// in registers: the even lanes of the first pair are tap 0, its odd lanes
// tap 1, the even lanes of the second pair tap 2. Blocks that reach past
// either edge of the row load with a mask (lanes outside the row read 0,
// which is the padding); rows above or below the input read a zero row.
// Three output rows run at once, so the input rows between them (2 of 7)
// are loaded and shuffled once for two outputs. Bias and the activation
// (activation_avx2.h) are applied in registers; the row's last block is
// stored masked.
#include <immintrin.h>

#include "kernels/activation_avx2.h"
#include "kernels/dwconv.h"

namespace loadrun {
namespace kernels {

namespace {

constexpr int kRows = 3;  // output rows per pass

// 8 floats x[b + t] (t < 8), 0 where b + t is outside [0, n).
inline __m256 load8_edge(const float* x, int64_t b, int64_t n) {
  const __m256i lane = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int32_t>(b)),
                                        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const __m256i m = _mm256_and_si256(_mm256_cmpgt_epi32(lane, _mm256_set1_epi32(-1)),
                                     _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(n)), lane));
  return _mm256_maskload_ps(x + b, m);
}

// [a0 a2 a4 a6 b0 b2 b4 b6] and [a1 a3 a5 a7 b1 b3 b5 b7].
inline __m256 even8(__m256 a, __m256 b) {
  __m256 v = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), _MM_SHUFFLE(3, 1, 2, 0)));
}
inline __m256 odd8(__m256 a, __m256 b) {
  __m256 v = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), _MM_SHUFFLE(3, 1, 2, 0)));
}

// The three taps of input row x (iw floats) for outputs c..c+7:
// t[j][l] = x[2(c + l) - pw + j], 0 outside the row.
template <bool kEdge>
inline void taps(const float* x, int64_t b, int64_t iw, __m256& t0, __m256& t1, __m256& t2) {
  __m256 a0, a1, c0, c1;
  if (kEdge) {
    a0 = load8_edge(x, b, iw);
    a1 = load8_edge(x, b + 8, iw);
    c0 = load8_edge(x, b + 2, iw);
    c1 = load8_edge(x, b + 10, iw);
  } else {
    a0 = _mm256_loadu_ps(x + b);
    a1 = _mm256_loadu_ps(x + b + 8);
    c0 = _mm256_loadu_ps(x + b + 2);
    c1 = _mm256_loadu_ps(x + b + 10);
  }
  t0 = even8(a0, a1);
  t1 = odd8(a0, a1);
  t2 = even8(c0, c1);
}

// R output rows from input rows xr[0 .. 2R] (each iw floats, or the zero row).
template <int R, bool kEdge>
inline void block(const float* const* xr, int64_t b, int64_t iw, const __m256 (&wv)[9],
                  __m256 bv, __m256 (&acc)[R]) {
  for (int r = 0; r < R; ++r) acc[r] = bv;
#pragma GCC unroll 16
  for (int q = 0; q < 2 * R + 1; ++q) {
    __m256 t0, t1, t2;
    taps<kEdge>(xr[q], b, iw, t0, t1, t2);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const int i = q - 2 * r;
      if (i < 0 || i > 2) continue;
      acc[r] = _mm256_fmadd_ps(wv[3 * i], t0, acc[r]);
      acc[r] = _mm256_fmadd_ps(wv[3 * i + 1], t1, acc[r]);
      acc[r] = _mm256_fmadd_ps(wv[3 * i + 2], t2, acc[r]);
    }
  }
}

template <int R>
void rows(const float* x, int64_t ih, int64_t iw, int64_t ph, int64_t pw, const __m256 (&wv)[9],
          __m256 bv, const Epilogue& ep, float* y, int64_t r0, int64_t ow, const float* zero) {
  const float* xr[2 * R + 1];
  for (int q = 0; q < 2 * R + 1; ++q) {
    const int64_t i = 2 * r0 + q - ph;
    xr[q] = i >= 0 && i < ih ? x + i * iw : zero;
  }
  for (int64_t c = 0; c < ow; c += 8) {
    const int64_t b = 2 * c - pw;
    __m256 acc[R];
    if (b >= 0 && b + 18 <= iw) {
      block<R, false>(xr, b, iw, wv, bv, acc);
    } else {
      block<R, true>(xr, b, iw, wv, bv, acc);
    }
    const int64_t n = ow - c;
    for (int r = 0; r < R; ++r) {
      const __m256 v = avx2::act8(ep, acc[r]);
      float* yr = y + (r0 + r) * ow + c;
      if (n >= 8) {
        _mm256_storeu_ps(yr, v);
      } else {
        _mm256_maskstore_ps(yr, avx2::tail_mask(n), v);
      }
    }
  }
}

}  // namespace

void dwconv3x3s2_direct_avx2(const float* x, int64_t ih, int64_t iw, int64_t ph, int64_t pw,
                             const float* w, float bias, const Epilogue& ep, float* y, int64_t oh,
                             int64_t ow, const float* zero) {
  __m256 wv[9];
  for (int t = 0; t < 9; ++t) wv[t] = _mm256_set1_ps(w[t]);
  const __m256 bv = _mm256_set1_ps(bias);
  int64_t r = 0;
  for (; r + kRows <= oh; r += kRows) rows<kRows>(x, ih, iw, ph, pw, wv, bv, ep, y, r, ow, zero);
  if (oh - r == 2) rows<2>(x, ih, iw, ph, pw, wv, bv, ep, y, r, ow, zero);
  if (oh - r == 1) rows<1>(x, ih, iw, ph, pw, wv, bv, ep, y, r, ow, zero);
}

}  // namespace kernels
}  // namespace loadrun
