// Depthwise 3x3 convolution (stride 1 or 2) of one channel plane straight
// from the input, AVX2+FMA (see dwconv.h, dwconv3x3_direct). The
// padded-plane path first copies the input into a zero-padded plane (and at
// stride 2 deinterleaves it into even and odd columns), a full memory pass
// that at stride 2 cost more than the convolution itself (MobileNetV2's
// 112x112x96 and 56x56x144 layers) and on 7x7 and 14x14 planes is mostly
// per-row overhead. Here each 8-output block of an input row (b = s*c -
// pad_left) loads its taps directly: stride 1, columns [b + j, b + j + 8)
// for tap j; stride 2, columns [b, b + 16) and [b + 2, b + 18),
// deinterleaved in registers (the even lanes of the first pair are tap 0,
// its odd lanes tap 1, the even lanes of the second pair tap 2; the lanes
// stay in the in-lane shuffle's order until the store). Blocks that
// reach past either edge of the row load with a mask (lanes outside the row
// read 0, which is the padding); rows above or below the input read a zero
// row. Several output rows run at once (4 at stride 1, 3 at stride 2), so
// each input row is loaded once for every output row its taps feed. Bias and
// the activation (activation_avx2.h, folded in per plane: dwconv_avx2.h) are
// applied in registers; the row's last block is stored in pieces
// (dwconv_avx2.h).
#include <immintrin.h>

#include "kernels/activation_avx2.h"
#include "kernels/dwconv.h"
#include "kernels/dwconv_avx2.h"

namespace loadrun {
namespace kernels {

namespace {

// 8 floats x[b + t] (t < 8), 0 where b + t is outside [0, n).
inline __m256 load8_edge(const float* x, int64_t b, int64_t n) {
  const __m256i lane = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int32_t>(b)),
                                        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const __m256i m = _mm256_and_si256(_mm256_cmpgt_epi32(lane, _mm256_set1_epi32(-1)),
                                     _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(n)), lane));
  return _mm256_maskload_ps(x + b, m);
}

// The even and odd elements of [a | b] with the 64-bit pairs in the order
// the in-lane shuffle leaves them: outputs 0 1 4 5 2 3 6 7. Every tap of a
// stride-2 block comes out in this order, so the accumulators hold it too
// and one permute per stored vector (in_order) puts it right, instead of one
// per tap and input row.
inline __m256 even8(__m256 a, __m256 b) { return _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)); }
inline __m256 odd8(__m256 a, __m256 b) { return _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)); }
template <int S>
inline __m256 in_order(__m256 v) {
  if (S == 1) return v;
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), _MM_SHUFFLE(3, 1, 2, 0)));
}

// The three taps of input row x (iw floats) for outputs c..c+7:
// t[j][l] = x[S(c + l) - pw + j] = x[b + S*l + j], 0 outside the row (at
// stride 2 with the lanes in even8's order).
template <int S, bool kEdge>
inline void taps(const float* x, int64_t b, int64_t iw, __m256& t0, __m256& t1, __m256& t2) {
  if (S == 1) {
    if (kEdge) {
      t0 = load8_edge(x, b, iw);
      t1 = load8_edge(x, b + 1, iw);
      t2 = load8_edge(x, b + 2, iw);
    } else {
      t0 = _mm256_loadu_ps(x + b);
      t1 = _mm256_loadu_ps(x + b + 1);
      t2 = _mm256_loadu_ps(x + b + 2);
    }
    return;
  }
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

// R output rows from input rows xr[0 .. S(R-1)+2] (each iw floats, or the
// zero row); input row q feeds output row r with tap row i = q - S*r.
template <int S, int R, bool kEdge>
inline void block(const float* const* xr, int64_t b, int64_t iw, const __m256 (&wv)[9],
                  __m256 bv, __m256 (&acc)[R]) {
  for (int r = 0; r < R; ++r) acc[r] = bv;
#pragma GCC unroll 16
  for (int q = 0; q < S * (R - 1) + 3; ++q) {
    __m256 t0, t1, t2;
    taps<S, kEdge>(xr[q], b, iw, t0, t1, t2);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const int i = q - S * r;
      if (i < 0 || i > 2) continue;
      acc[r] = _mm256_fmadd_ps(wv[3 * i], t0, acc[r]);
      acc[r] = _mm256_fmadd_ps(wv[3 * i + 1], t1, acc[r]);
      acc[r] = _mm256_fmadd_ps(wv[3 * i + 2], t2, acc[r]);
    }
  }
}

template <int S, int R, class A>
void rows(const float* x, int64_t ih, int64_t iw, int64_t ph, int64_t pw, const __m256 (&wv)[9],
          __m256 bv, const A& act, float* y, int64_t r0, int64_t ow, const float* zero) {
  constexpr int kIn = S * (R - 1) + 3;
  const float* xr[kIn];
  for (int q = 0; q < kIn; ++q) {
    const int64_t i = S * r0 + q - ph;
    xr[q] = i >= 0 && i < ih ? x + i * iw : zero;
  }
  for (int64_t c = 0; c < ow; c += 8) {
    const int64_t b = S * c - pw;
    __m256 acc[R];
    if (b >= 0 && b + (S == 1 ? 10 : 18) <= iw) {
      block<S, R, false>(xr, b, iw, wv, bv, acc);
    } else {
      block<S, R, true>(xr, b, iw, wv, bv, acc);
    }
    for (int r = 0; r < R; ++r) acc[r] = in_order<S>(acc[r]);
    avx2::store_rows<R>(y, r0, ow, c, acc, act);
  }
}

template <int S, int R>
void plane(const float* x, int64_t ih, int64_t iw, int64_t ph, int64_t pw, const float* w,
           float bias, const Epilogue& ep, float* y, int64_t oh, int64_t ow, const float* zero) {
  __m256 wv[9];
  for (int t = 0; t < 9; ++t) wv[t] = _mm256_set1_ps(w[t]);
  const __m256 bv = _mm256_set1_ps(bias);
  avx2::dw_with_act(ep, y, oh * ow, [&](const auto& act) {
    avx2::for_row_groups<R>(oh, [&](auto k, int64_t r) {
      rows<S, decltype(k)::value>(x, ih, iw, ph, pw, wv, bv, act, y, r, ow, zero);
    });
  });
}

}  // namespace

void dwconv3x3_direct_avx2(int s, const float* x, int64_t ih, int64_t iw, int64_t ph, int64_t pw,
                           const float* w, float bias, const Epilogue& ep, float* y, int64_t oh,
                           int64_t ow, const float* zero) {
  if (s == 1) return plane<1, 4>(x, ih, iw, ph, pw, w, bias, ep, y, oh, ow, zero);
  plane<2, 3>(x, ih, iw, ph, pw, w, bias, ep, y, oh, ow, zero);
}

}  // namespace kernels
}  // namespace loadrun
