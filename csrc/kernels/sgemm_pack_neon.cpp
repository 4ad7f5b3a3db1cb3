// Packing for the NEON SGEMM (sgemm_neon.cpp): blocks of op(A) into panels
// of 8 rows and blocks of op(B) into panels of 12 columns, k-major,
// zero-padded (formats in sgemm_neon.cpp). Row-major A and transposed B are
// gathered 4 k steps at a time by 4x4 register transposes (TRN1/TRN2 on
// 32- then 64-bit lanes); the other cases are plain contiguous copies.
// O(rows*cols).
#include "kernels/sgemm_neon_common.h"

namespace loadrun {
namespace kernels {
namespace neon {

namespace {

inline void transpose4(float32x4_t& r0, float32x4_t& r1, float32x4_t& r2, float32x4_t& r3) {
  const float32x4_t t0 = vtrn1q_f32(r0, r1), t1 = vtrn2q_f32(r0, r1);
  const float32x4_t t2 = vtrn1q_f32(r2, r3), t3 = vtrn2q_f32(r2, r3);
  auto d = [](float32x4_t v) { return vreinterpretq_f64_f32(v); };
  r0 = vreinterpretq_f32_f64(vtrn1q_f64(d(t0), d(t2)));
  r1 = vreinterpretq_f32_f64(vtrn1q_f64(d(t1), d(t3)));
  r2 = vreinterpretq_f32_f64(vtrn2q_f64(d(t0), d(t2)));
  r3 = vreinterpretq_f32_f64(vtrn2q_f64(d(t1), d(t3)));
}

// 4 rows (row stride ld) x 4 steps from src into dst[q * stride + r] (r < 4).
inline void gather4x4(const float* src, int64_t ld, float* dst, int64_t stride) {
  float32x4_t r0 = vld1q_f32(src), r1 = vld1q_f32(src + ld);
  float32x4_t r2 = vld1q_f32(src + 2 * ld), r3 = vld1q_f32(src + 3 * ld);
  transpose4(r0, r1, r2, r3);
  vst1q_f32(dst, r0);
  vst1q_f32(dst + stride, r1);
  vst1q_f32(dst + 2 * stride, r2);
  vst1q_f32(dst + 3 * stride, r3);
}

}  // namespace

void pack_a_block(const float* a, int64_t lda, bool ta, int64_t i0, int64_t mc, int64_t p0,
                  int64_t kc, float* dst) {
  for (int64_t ib = 0; ib < mc; ib += kMR, dst += kc * kMR) {
    const int64_t mr = imin(kMR, mc - ib);
    const int64_t i = i0 + ib;
    if (ta) {  // op(A)(i, p) = a[p*lda + i]: 8 contiguous values per step
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = a + (p0 + p) * lda + i;
        float* d = dst + p * kMR;
        if (mr == kMR) {
          vst1q_f32(d, vld1q_f32(src));
          vst1q_f32(d + 4, vld1q_f32(src + 4));
        } else {
          int64_t r = 0;
          for (; r < mr; ++r) d[r] = src[r];
          for (; r < kMR; ++r) d[r] = 0.f;
        }
      }
      continue;
    }
    int64_t p = 0;
    if (mr == kMR) {
      const float* r0 = a + i * lda + p0;
      for (; p + 4 <= kc; p += 4) {
        gather4x4(r0 + p, lda, dst + p * kMR, kMR);
        gather4x4(r0 + 4 * lda + p, lda, dst + p * kMR + 4, kMR);
      }
    }
    for (; p < kc; ++p) {
      float* d = dst + p * kMR;
      int64_t r = 0;
      for (; r < mr; ++r) d[r] = a[(i + r) * lda + p0 + p];
      for (; r < kMR; ++r) d[r] = 0.f;
    }
  }
}

void pack_b_block(const float* b, int64_t ldb, bool tb, int64_t p0, int64_t kc, int64_t j0,
                  int64_t nc, float* dst) {
  for (int64_t jb = 0; jb < nc; jb += kNR, dst += kc * kNR) {
    const int64_t nr = imin(kNR, nc - jb);
    const int64_t j = j0 + jb;
    if (!tb) {  // op(B)(p, j) = b[p*ldb + j]: rows of the panel are contiguous
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = b + (p0 + p) * ldb + j;
        float* d = dst + p * kNR;
        if (nr == kNR) {
          vst1q_f32(d, vld1q_f32(src));
          vst1q_f32(d + 4, vld1q_f32(src + 4));
          vst1q_f32(d + 8, vld1q_f32(src + 8));
        } else {
          int64_t c = 0;
          for (; c < nr; ++c) d[c] = src[c];
          for (; c < kNR; ++c) d[c] = 0.f;
        }
      }
      continue;
    }
    // op(B)(p, j) = b[j*ldb + p]: transpose 4x4 blocks of the stored rows.
    int64_t p = 0;
    if (nr == kNR) {
      for (; p + 4 <= kc; p += 4)
        for (int64_t h = 0; h < 3; ++h)
          gather4x4(b + (j + 4 * h) * ldb + p0 + p, ldb, dst + p * kNR + 4 * h, kNR);
    }
    for (; p < kc; ++p) {
      float* d = dst + p * kNR;
      int64_t c = 0;
      for (; c < nr; ++c) d[c] = b[(j + c) * ldb + p0 + p];
      for (; c < kNR; ++c) d[c] = 0.f;
    }
  }
}

}  // namespace neon
}  // namespace kernels
}  // namespace loadrun
