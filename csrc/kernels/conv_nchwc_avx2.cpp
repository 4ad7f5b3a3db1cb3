// AVX2+FMA NCHWc convolution kernels (conv_nchwc.h): the tile code of
// conv_nchwc_tile.h over __m256 for b = 8 and __m128 (with the 128-bit FMA)
// for b = 4. Dense b = 8: 2 oc blocks x 6 pixels = 12 ymm accumulators, per
// (input lane, tap) 2 weight loads and 6 broadcasts for 12 FMAs. b = 4 keeps
// the same 12 accumulators in xmm. Depthwise: 8 pixels per tile.
#include <immintrin.h>

#include "kernels/activation_avx2.h"
#include "kernels/conv_nchwc.h"
#include "kernels/conv_nchwc_tile.h"

namespace loadrun {
namespace kernels {

namespace {

struct V8 {
  static constexpr int B = 8, kT = 6, kNb = 2, kDwT = 8;
  using R = __m256;
  static R zero() { return _mm256_setzero_ps(); }
  static R load(const float* p) { return _mm256_loadu_ps(p); }
  static R bcast(const float* p) { return _mm256_broadcast_ss(p); }
  static void store(float* p, R v) { _mm256_storeu_ps(p, v); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  static R add(R a, R b) { return _mm256_add_ps(a, b); }
  static R band(R a, R m) { return _mm256_and_ps(a, m); }
  static R mask(int lanes) { return _mm256_castsi256_ps(avx2::tail_mask(lanes)); }
  static R act(const Epilogue& ep, R v) { return avx2::act8(ep, v); }
};

struct V4 {
  static constexpr int B = 4, kT = 6, kNb = 2, kDwT = 8;
  using R = __m128;
  static R zero() { return _mm_setzero_ps(); }
  static R load(const float* p) { return _mm_loadu_ps(p); }
  static R bcast(const float* p) { return _mm_broadcast_ss(p); }
  static void store(float* p, R v) { _mm_storeu_ps(p, v); }
  static R fma(R a, R b, R c) { return _mm_fmadd_ps(a, b, c); }
  static R add(R a, R b) { return _mm_add_ps(a, b); }
  static R band(R a, R m) { return _mm_and_ps(a, m); }
  static R mask(int lanes) {
    return _mm_castsi128_ps(_mm256_castsi256_si128(avx2::tail_mask(lanes)));
  }
  static R act(const Epilogue& ep, R v) {
    if (ep.act == Act::kNone) return v;
    // The upper half is a copy of v, so every lane the activation sees is real.
    const __m256 w = _mm256_insertf128_ps(_mm256_castps128_ps256(v), v, 1);
    return _mm256_castps256_ps128(avx2::act8(ep, w));
  }
};

}  // namespace

ConvNchwcImpl conv_nchwc_avx2_impl() {
  return {nchwc::dense<V4>, nchwc::dense<V8>, nchwc::depthwise<V4>, nchwc::depthwise<V8>};
}

}  // namespace kernels
}  // namespace loadrun
