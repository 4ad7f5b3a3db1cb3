// Depthwise plane kernels: the portable one (plain loops over the padded
// planes; the stride-1 inner loop is contiguous, so the compiler vectorises
// it) and the dispatch to the AVX2 one. See dwconv.h.
#include "kernels/dwconv.h"

#include "kernels/cpu_features.h"

namespace loadrun {
namespace kernels {

#ifdef LOADRUN_X86_KERNELS
namespace {
// Looked up once: the dispatchers run per row or per band.
bool use_avx2() {
  static const bool avx2 = cpu_features().use_avx2();
  return avx2;
}
}  // namespace
#endif

int64_t dwconv_pitch(int k, int s, int64_t ow) {
  int64_t ow8 = (ow + 7) / 8 * 8;
  return s == 1 ? ow8 + k : ow8 + k / 2 + 1;
}

int64_t dwconv_rows(int k, int s, int64_t oh) { return (oh - 1) * s + k; }

void dwconv_plane_portable(int k, int s, const float* p0, const float* p1, int64_t ld,
                           const float* w, float bias, const Epilogue& ep, float* y, int64_t oh,
                           int64_t ow) {
  for (int64_t r = 0; r < oh; ++r) {
    float* yr = y + r * ow;
    for (int64_t c = 0; c < ow; ++c) yr[c] = bias;
    for (int i = 0; i < k; ++i) {
      const float* e = p0 + (r * s + i) * ld;
      const float* o = s == 2 ? p1 + (r * s + i) * ld : nullptr;
      for (int j = 0; j < k; ++j) {
        float wv = w[i * k + j];
        const float* src = s == 1 ? e + j : (j % 2 == 0 ? e + j / 2 : o + j / 2);
        for (int64_t c = 0; c < ow; ++c) yr[c] += wv * src[c];
      }
    }
    if (ep.act != Act::kNone)
      for (int64_t c = 0; c < ow; ++c) yr[c] = apply_act(ep, yr[c]);
  }
}

void deinterleave(const float* src, int64_t n, float* even, float* odd) {
#ifdef LOADRUN_X86_KERNELS
  if (use_avx2()) return deinterleave_avx2(src, n, even, odd);
#endif
  for (int64_t i = 0; i < n; ++i) {
    even[i] = src[2 * i];
    odd[i] = src[2 * i + 1];
  }
}

void dwconv_plane(int k, int s, const float* p0, const float* p1, int64_t ld, const float* w,
                  float bias, const Epilogue& ep, float* y, int64_t oh, int64_t ow) {
#ifdef LOADRUN_X86_KERNELS
  if (use_avx2()) {
    dwconv_plane_avx2(k, s, p0, p1, ld, w, bias, ep, y, oh, ow);
    return;
  }
#endif
  dwconv_plane_portable(k, s, p0, p1, ld, w, bias, ep, y, oh, ow);
}

}  // namespace kernels
}  // namespace loadrun
