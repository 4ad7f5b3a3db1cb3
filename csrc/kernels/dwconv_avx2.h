// The fused activation of the AVX2 depthwise kernels, chosen once per plane
// rather than per stored vector: the clamps a conv epilogue usually carries
// (none, Relu, Relu6, Clip) are folded into the kernel as a functor whose
// kind is a template argument, so activation_avx2.h's activate8 inlines to
// its one or two instructions (called with a run-time kind it stays an
// out-of-line call, and every live accumulator is spilled around it). Other
// kinds run the kernel without one and then act_row over the plane, still in
// cache. Include only from *_avx2.cpp files.
#pragma once
#include <immintrin.h>

#include "kernels/activation_avx2.h"

namespace loadrun {
namespace kernels {
namespace avx2 {

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
