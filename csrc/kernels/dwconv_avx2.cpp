// Depthwise plane kernel, AVX2+FMA (see dwconv.h): per output row, 16 then 8
// outputs at a time in registers (two accumulators hide the FMA latency),
// each tap one unaligned load and one FMA with the broadcast weight; a
// masked store writes the row's tail. Bias and activation are applied in
// registers. Specialised for k = 3, 5 and s = 1, 2 so the taps unroll.
#include <immintrin.h>

#include "kernels/activation_avx2.h"
#include "kernels/dwconv.h"

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
      a0 = avx2::act8(ep, a0);
      if (c + 8 <= ow) {
        _mm256_storeu_ps(yr + c, a0);
      } else {
        _mm256_maskstore_ps(yr + c, avx2::tail_mask(ow - c), a0);
      }
    }
  }
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
  if (k == 3 && s == 1) return plane<3, 1>(p0, p1, ld, w, bias, ep, y, oh, ow);
  if (k == 3 && s == 2) return plane<3, 2>(p0, p1, ld, w, bias, ep, y, oh, ow);
  if (k == 5 && s == 1) return plane<5, 1>(p0, p1, ld, w, bias, ep, y, oh, ow);
  if (k == 5 && s == 2) return plane<5, 2>(p0, p1, ld, w, bias, ep, y, oh, ow);
  dwconv_plane_portable(k, s, p0, p1, ld, w, bias, ep, y, oh, ow);
}

}  // namespace kernels
}  // namespace loadrun
