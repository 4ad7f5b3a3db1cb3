// The fused activation of the AVX2 depthwise kernels, chosen once per plane
// rather than per stored vector: the clamps a conv epilogue usually carries
// (none, Relu, Relu6, Clip) are folded into the kernel as a functor whose
// kind is a template argument, so activation_avx2.h's activate8 inlines to
// its one or two instructions (called with a run-time kind it stays an
// out-of-line call, and every live accumulator is spilled around it). Other
// kinds run the kernel without one and then act_row over the plane, still in
// cache. Also the two kernels' shared row handling: a block's row stores
// (the last block of a row in pieces) and the plane's rows in groups. Include
// only from *_avx2.cpp files.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <type_traits>

#include "kernels/activation_avx2.h"

namespace loadrun {
namespace kernels {
namespace avx2 {

// Stores v[0, n) to y, n <= 8: one full store, or the 4, 2 and 1-float
// pieces of a shorter tail (vmaskmovps to memory is microcoded on AMD cores,
// about ten times a plain store, and 7x7 or 14x14 planes end every row on
// one).
inline void store_upto8(float* y, int64_t n, __m256 v) {
  if (n >= 8) return _mm256_storeu_ps(y, v);
  __m128 h = _mm256_castps256_ps128(v);
  if (n & 4) {
    _mm_storeu_ps(y, h);
    h = _mm256_extractf128_ps(v, 1);
    y += 4;
  }
  if (n & 2) {
    _mm_storel_pi(reinterpret_cast<__m64*>(y), h);
    h = _mm_movehl_ps(h, h);
    y += 2;
  }
  if (n & 1) _mm_store_ss(y, h);
}

// Stores the R row accumulators of the 8-column block at column c: row
// r0 + r of a plane ow floats wide gets act(acc[r]); the row's last block
// (n = ow - c < 8) goes in pieces (store_upto8).
template <int R, class A>
inline void store_rows(float* y, int64_t r0, int64_t ow, int64_t c, const __m256 (&acc)[R],
                       const A& act) {
  const int64_t n = ow - c;
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) store_upto8(y + (r0 + r) * ow + c, n, act(acc[r]));
}

// The output rows of a plane oh rows high in groups of R (R <= 4): rows(kR,
// r0) with kR a std::integral_constant<int, R>, then the last oh % R rows as
// one group of 1..R-1.
template <int R, class F>
inline void for_row_groups(int64_t oh, F&& rows) {
  static_assert(R >= 1 && R <= 4, "for_row_groups: groups of 1..4 rows");
  int64_t r = 0;
  for (; r + R <= oh; r += R) rows(std::integral_constant<int, R>{}, r);
  switch (oh - r) {
    case 3: if constexpr (R > 3) rows(std::integral_constant<int, 3>{}, r); break;
    case 2: if constexpr (R > 2) rows(std::integral_constant<int, 2>{}, r); break;
    case 1: if constexpr (R > 1) rows(std::integral_constant<int, 1>{}, r); break;
    default: break;
  }
}

template <Act A>
struct DwAct {
  __m256 p0, p1;
  __m256 operator()(__m256 v) const { return activate8(A, v, p0, p1); }
};

// run(DwAct<A>{...}) for y[0, n), then ep's activation if it was not folded.
template <class F>
inline void dw_with_act(const Epilogue& ep, float* y, int64_t n, F&& run) {
  const __m256 p0 = _mm256_set1_ps(ep.p0), p1 = _mm256_set1_ps(ep.p1);
  switch (ep.act) {
    case Act::kNone: return run(DwAct<Act::kNone>{p0, p1});
    case Act::kRelu: return run(DwAct<Act::kRelu>{p0, p1});
    case Act::kRelu6: return run(DwAct<Act::kRelu6>{p0, p1});
    case Act::kClip: return run(DwAct<Act::kClip>{p0, p1});
    default:
      run(DwAct<Act::kNone>{p0, p1});
      act_row(ep, y, n);
  }
}

}  // namespace avx2
}  // namespace kernels
}  // namespace loadrun
