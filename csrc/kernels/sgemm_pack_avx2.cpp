// Packing for the AVX2+FMA SGEMM (sgemm_avx2.cpp): blocks of op(A) into
// panels of 6 (or, for the last rows of a block, 4) rows and blocks of op(B) into panels of 16 columns, k-major,
// zero-padded (formats in sgemm_avx2.cpp). Row-major A is gathered 8 k steps
// at a time by an 8x8 register transpose (6 real rows); transposed B likewise
// in 8x8 blocks; the other cases are plain contiguous copies. O(rows*cols).
#include "kernels/sgemm_avx2_common.h"

namespace loadrun {
namespace kernels {
namespace avx2 {

// Rows [i0, i0+mc) x cols [p0, p0+kc) of op(A) into panels of 6 (stride kc*6).
void pack_a_block(const float* a, int64_t lda, bool ta, int64_t i0, int64_t mc, int64_t p0,
                  int64_t kc, float* dst, int64_t panel) {
  for (int64_t ib = 0; ib < mc; ib += panel, dst += kc * panel) {
    const int64_t mr = imin(panel, mc - ib);
    const int64_t i = i0 + ib;
    if (ta) {  // op(A)(i, p) = a[p*lda + i]: `panel` contiguous values per step
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = a + (p0 + p) * lda + i;
        float* d = dst + p * panel;
        int64_t r = 0;
        for (; r < mr; ++r) d[r] = src[r];
        for (; r < panel; ++r) d[r] = 0.f;
      }
    } else if (mr == kMR && panel == kMR) {
      const float* r0 = a + i * lda + p0;
      const float* r1 = r0 + lda;
      const float* r2 = r1 + lda;
      const float* r3 = r2 + lda;
      const float* r4 = r3 + lda;
      const float* r5 = r4 + lda;
      int64_t p = 0;
      // 8 steps at a time: an 8x8 transpose of 6 rows (2 rows of zeros), each
      // column's 6 valid lanes stored in turn (the 2 extra lanes of a store
      // are overwritten by the next one; the last column stores 6 lanes).
      const __m256 z = _mm256_setzero_ps();
      for (; p + 8 <= kc; p += 8) {
        __m256 v0 = _mm256_loadu_ps(r0 + p), v1 = _mm256_loadu_ps(r1 + p);
        __m256 v2 = _mm256_loadu_ps(r2 + p), v3 = _mm256_loadu_ps(r3 + p);
        __m256 v4 = _mm256_loadu_ps(r4 + p), v5 = _mm256_loadu_ps(r5 + p);
        __m256 v6 = z, v7 = z;
        transpose8(v0, v1, v2, v3, v4, v5, v6, v7);
        float* d = dst + p * kMR;
        _mm256_storeu_ps(d + 0, v0);
        _mm256_storeu_ps(d + 6, v1);
        _mm256_storeu_ps(d + 12, v2);
        _mm256_storeu_ps(d + 18, v3);
        _mm256_storeu_ps(d + 24, v4);
        _mm256_storeu_ps(d + 30, v5);
        _mm256_storeu_ps(d + 36, v6);
        _mm_storeu_ps(d + 42, _mm256_castps256_ps128(v7));
        _mm_storel_pi(reinterpret_cast<__m64*>(d + 46), _mm256_extractf128_ps(v7, 1));
      }
      for (; p < kc; ++p) {
        float* d = dst + p * kMR;
        d[0] = r0[p];
        d[1] = r1[p];
        d[2] = r2[p];
        d[3] = r3[p];
        d[4] = r4[p];
        d[5] = r5[p];
      }
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        float* d = dst + p * panel;
        int64_t r = 0;
        for (; r < mr; ++r) d[r] = a[(i + r) * lda + p0 + p];
        for (; r < panel; ++r) d[r] = 0.f;
      }
    }
  }
}

// Rows [p0, p0+kc) x cols [j0, j0+nc) of op(B) into panels of 16 (stride kc*16).
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
          _mm256_storeu_ps(d, _mm256_loadu_ps(src));
          _mm256_storeu_ps(d + 8, _mm256_loadu_ps(src + 8));
        } else {
          int64_t c = 0;
          for (; c < nr; ++c) d[c] = src[c];
          for (; c < kNR; ++c) d[c] = 0.f;
        }
      }
      continue;
    }
    // op(B)(p, j) = b[j*ldb + p]: transpose 8x8 blocks of the stored rows.
    int64_t p = 0;
    if (nr == kNR) {
      for (; p + 8 <= kc; p += 8) {
        for (int64_t h = 0; h < 2; ++h) {
          const float* s = b + (j + 8 * h) * ldb + p0 + p;
          __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + ldb);
          __m256 r2 = _mm256_loadu_ps(s + 2 * ldb), r3 = _mm256_loadu_ps(s + 3 * ldb);
          __m256 r4 = _mm256_loadu_ps(s + 4 * ldb), r5 = _mm256_loadu_ps(s + 5 * ldb);
          __m256 r6 = _mm256_loadu_ps(s + 6 * ldb), r7 = _mm256_loadu_ps(s + 7 * ldb);
          transpose8(r0, r1, r2, r3, r4, r5, r6, r7);
          float* d = dst + p * kNR + 8 * h;
          _mm256_storeu_ps(d + 0 * kNR, r0);
          _mm256_storeu_ps(d + 1 * kNR, r1);
          _mm256_storeu_ps(d + 2 * kNR, r2);
          _mm256_storeu_ps(d + 3 * kNR, r3);
          _mm256_storeu_ps(d + 4 * kNR, r4);
          _mm256_storeu_ps(d + 5 * kNR, r5);
          _mm256_storeu_ps(d + 6 * kNR, r6);
          _mm256_storeu_ps(d + 7 * kNR, r7);
        }
      }
    }
    for (; p < kc; ++p) {
      float* d = dst + p * kNR;
      int64_t c = 0;
      for (; c < nr; ++c) d[c] = b[(j + c) * ldb + p0 + p];
      for (; c < kNR; ++c) d[c] = 0.f;
    }
  }
}

}  // namespace avx2
}  // namespace kernels
}  // namespace loadrun
