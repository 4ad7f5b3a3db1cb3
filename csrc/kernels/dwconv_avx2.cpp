// Depthwise plane kernels, AVX2+FMA (see dwconv.h).
// 3x3 (MobileNet's case): four output rows at once, 8 columns at a time.
// Each input row vector is loaded once and feeds every output row whose
// window covers it (up to 3 at stride 1, 2 at stride 2), so a block of
// 4 x 8 outputs costs 36 FMAs against 18 loads (stride 1) or 27 (stride 2)
// instead of one load per FMA, and the 4 row accumulators are independent
// chains. The 9 weights stay in registers. The last 1..3 rows of the plane
// run the same code with fewer rows; the row's last block is stored in
// pieces (the padded planes are wide enough for its loads).
// 5x5: per output row, 16 then 8 outputs at a time (two accumulators), each
// tap one unaligned load and one FMA with the broadcast weight.
// Bias and activation (activation_avx2.h) are applied in registers; the 3x3
// kernels fold the activation kind in per plane (dwconv_avx2.h).
#include <immintrin.h>

#include "kernels/activation_avx2.h"
#include "kernels/dwconv.h"
#include "kernels/dwconv_avx2.h"

namespace loadrun {
namespace kernels {

namespace {

template <int K, int S>
void plane(const float* p0, const float* p1, int64_t ld, const float* w, float bias,
           const Epilogue& ep, float* y, int64_t oh, int64_t ow) {
  __m256 wv[K * K];
  for (int t = 0; t < K * K; ++t) wv[t] = _mm256_set1_ps(w[t]);
  const __m256 bv = _mm256_set1_ps(bias);
  // Tap (i, j) of output c reads row(i)[c + j] (stride 1), or, stride 2,
  // even row(i)[c + j/2] for even j and odd row(i)[c + j/2] for odd j: one
  // base pointer per row, the tap offsets are constants.
  auto tap = [&](const float* const* e, const float* const* o, int i, int j, int64_t c) {
    if (S == 1) return _mm256_loadu_ps(e[i] + c + j);
    return _mm256_loadu_ps((j % 2 == 0 ? e[i] : o[i]) + c + j / 2);
  };
  for (int64_t r = 0; r < oh; ++r) {
    float* yr = y + r * ow;
    const float* e[K];
    const float* o[K];
    for (int i = 0; i < K; ++i) {
      e[i] = p0 + (r * S + i) * ld;
      o[i] = S == 2 ? p1 + (r * S + i) * ld : nullptr;
    }
    int64_t c = 0;
    for (; c + 16 <= ow; c += 16) {
      __m256 a0 = bv, a1 = bv;
      for (int i = 0; i < K; ++i)
        for (int j = 0; j < K; ++j) {
          a0 = _mm256_fmadd_ps(wv[i * K + j], tap(e, o, i, j, c), a0);
          a1 = _mm256_fmadd_ps(wv[i * K + j], tap(e, o, i, j, c + 8), a1);
        }
      _mm256_storeu_ps(yr + c, avx2::act8(ep, a0));
      _mm256_storeu_ps(yr + c + 8, avx2::act8(ep, a1));
    }
    for (; c < ow; c += 8) {
      __m256 a0 = bv;
      for (int i = 0; i < K; ++i)
        for (int j = 0; j < K; ++j) a0 = _mm256_fmadd_ps(wv[i * K + j], tap(e, o, i, j, c), a0);
      avx2::store_upto8(yr + c, ow - c, avx2::act8(ep, a0));
    }
  }
}

// R output rows of a 3x3 plane starting at output row r0: stride 1 reads
// padded rows r0 + q (q < R + 2) of p0; stride 2 reads rows 2*r0 + q
// (q < 2R + 1) of E = p0 and O = p1. Input row q feeds output row r with
// tap row i = q - S*r when 0 <= i < 3.
template <int S, int R, class A>
void rows3(const float* p0, const float* p1, int64_t ld, const __m256* wv, __m256 bv,
           const A& act, float* y, int64_t r0, int64_t ow) {
  constexpr int kIn = S * (R - 1) + 3;
  const float* e = p0 + r0 * S * ld;
  const float* o = S == 2 ? p1 + r0 * S * ld : nullptr;
  for (int64_t c = 0; c < ow; c += 8) {
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = bv;
#pragma GCC unroll 16
    for (int q = 0; q < kIn; ++q) {
      // taps j = 0, 1, 2 of input row q: P[c], P[c+1], P[c+2] (stride 1) or
      // E[c], O[c], E[c+1] (stride 2)
      const float* eq = e + q * ld + c;
      const __m256 v0 = _mm256_loadu_ps(eq);
      const __m256 v1 = S == 1 ? _mm256_loadu_ps(eq + 1) : _mm256_loadu_ps(o + q * ld + c);
      const __m256 v2 = S == 1 ? _mm256_loadu_ps(eq + 2) : _mm256_loadu_ps(eq + 1);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const int i = q - S * r;
        if (i < 0 || i > 2) continue;
        acc[r] = _mm256_fmadd_ps(wv[3 * i], v0, acc[r]);
        acc[r] = _mm256_fmadd_ps(wv[3 * i + 1], v1, acc[r]);
        acc[r] = _mm256_fmadd_ps(wv[3 * i + 2], v2, acc[r]);
      }
    }
    avx2::store_rows<R>(y, r0, ow, c, acc, act);
  }
}

template <int S>
void plane3(const float* p0, const float* p1, int64_t ld, const float* w, float bias,
            const Epilogue& ep, float* y, int64_t oh, int64_t ow) {
  __m256 wv[9];
  for (int t = 0; t < 9; ++t) wv[t] = _mm256_set1_ps(w[t]);
  const __m256 bv = _mm256_set1_ps(bias);
  avx2::dw_with_act(ep, y, oh * ow, [&](const auto& act) {
    avx2::for_row_groups<4>(oh, [&](auto k, int64_t r) {
      rows3<S, decltype(k)::value>(p0, p1, ld, wv, bv, act, y, r, ow);
    });
  });
}

}  // namespace

void deinterleave_avx2(const float* src, int64_t n, float* even, float* odd) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 a = _mm256_loadu_ps(src + 2 * i), b = _mm256_loadu_ps(src + 2 * i + 8);
    // [a0 a2 b0 b2 | a4 a6 b4 b6] -> [a0 a2 a4 a6 b0 b2 b4 b6]
    __m256 ev = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    __m256 od = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    ev = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), _MM_SHUFFLE(3, 1, 2, 0)));
    od = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(od), _MM_SHUFFLE(3, 1, 2, 0)));
    _mm256_storeu_ps(even + i, ev);
    _mm256_storeu_ps(odd + i, od);
  }
  for (; i < n; ++i) {
    even[i] = src[2 * i];
    odd[i] = src[2 * i + 1];
  }
}

void dwconv_plane_avx2(int k, int s, const float* p0, const float* p1, int64_t ld, const float* w,
                       float bias, const Epilogue& ep, float* y, int64_t oh, int64_t ow) {
  if (k == 3 && s == 1) return plane3<1>(p0, p1, ld, w, bias, ep, y, oh, ow);
  if (k == 3 && s == 2) return plane3<2>(p0, p1, ld, w, bias, ep, y, oh, ow);
  if (k == 5 && s == 1) return plane<5, 1>(p0, p1, ld, w, bias, ep, y, oh, ow);
  if (k == 5 && s == 2) return plane<5, 2>(p0, p1, ld, w, bias, ep, y, oh, ow);
  dwconv_plane_portable(k, s, p0, p1, ld, w, bias, ep, y, oh, ow);
}

}  // namespace kernels
}  // namespace loadrun
