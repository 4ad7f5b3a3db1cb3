// Depthwise plane kernels: the portable one (plain loops over the padded
// planes; the stride-1 inner loop is contiguous, so the compiler vectorises
// it) and the dispatch through kernel_table(). See dwconv.h.
#include "kernels/dwconv.h"

#include <algorithm>

#include "kernels/kernel_table.h"

namespace loadrun {
namespace kernels {

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

void dwconv_fill(int s, const float* x, int64_t ih, int64_t iw, int64_t ph, int64_t pw,
                 int64_t rows, int64_t ld, float* p0, float* p1) {
  int64_t r0 = std::max<int64_t>(0, ph), r1 = std::min(rows, ih + ph);
  if (s == 1) {
    int64_t q0 = std::max<int64_t>(0, pw), q1 = std::min(ld, iw + pw);
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + (r - ph) * iw + (q0 - pw);
      std::copy(xr, xr + (q1 - q0), p0 + r * ld + q0);
    }
    return;
  }
  // [qa, qb): both E[q] = x[2q - pw] and O[q] = x[2q + 1 - pw] inside (a
  // deinterleave); the columns around it hold one of the two.
  int64_t qa = std::min((pw + 1) / 2, ld), qb = std::max(qa, std::min(ld, (iw + pw) / 2));
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + (r - ph) * iw;
    float* e = p0 + r * ld;
    float* o = p1 + r * ld;
    const float* src = xr + 2 * qa - pw;
    kernel_table().dwconv.deinterleave(src, qb - qa, e + qa, o + qa);
    for (int par = 0; par < 2; ++par) {
      float* d = par ? o : e;
      int64_t off = par - pw;  // iw = 2q + off
      int64_t q0 = off >= 0 ? 0 : (-off + 1) / 2;
      int64_t q1 = std::min(ld, (iw - off + 1) / 2);
      for (int64_t q = q0; q < std::min(q1, qa); ++q) d[q] = xr[2 * q + off];
      for (int64_t q = std::max(q0, qb); q < q1; ++q) d[q] = xr[2 * q + off];
    }
  }
}

void deinterleave_portable(const float* src, int64_t n, float* even, float* odd) {
  for (int64_t i = 0; i < n; ++i) {
    even[i] = src[2 * i];
    odd[i] = src[2 * i + 1];
  }
}

void dwconv_plane(int k, int s, const float* p0, const float* p1, int64_t ld, const float* w,
                  float bias, const Epilogue& ep, float* y, int64_t oh, int64_t ow) {
  kernel_table().dwconv.plane(k, s, p0, p1, ld, w, bias, ep, y, oh, ow);
}

}  // namespace kernels
}  // namespace loadrun
