// The AVX2+FMA SGEMM micro-kernels (used by sgemm_avx2.cpp only; include
// from *_avx2.cpp files only): a 6x16 tile of C in 12 ymm accumulators, and
// a 4x16 tile for the last rows of a block, each with its k loop in inline
// assembly, and the store of a finished tile (alpha, beta, epilogue).
#pragma once
#include "kernels/sgemm_avx2_common.h"

namespace loadrun {
namespace kernels {
namespace avx2 {
namespace {

struct TileStore {
  float alpha;
  float beta;            // 0: C is not read
  const Epilogue* ep;    // non-null on the last k block
};

// One row of a full tile: v = alpha*acc (+ beta*C) (+ bias, act), stored.
static inline __attribute__((always_inline)) void store_row(float* cr, __m256 v0, __m256 v1,
                                                            const TileStore& s, int64_t row,
                                                            int64_t col) {
  if (s.alpha != 1.f) {
    const __m256 al = _mm256_set1_ps(s.alpha);
    v0 = _mm256_mul_ps(v0, al);
    v1 = _mm256_mul_ps(v1, al);
  }
  if (s.beta == 1.f) {
    v0 = _mm256_add_ps(v0, _mm256_loadu_ps(cr));
    v1 = _mm256_add_ps(v1, _mm256_loadu_ps(cr + 8));
  } else if (s.beta != 0.f) {
    const __m256 be = _mm256_set1_ps(s.beta);
    v0 = _mm256_fmadd_ps(be, _mm256_loadu_ps(cr), v0);
    v1 = _mm256_fmadd_ps(be, _mm256_loadu_ps(cr + 8), v1);
  }
  if (s.ep) {
    const Epilogue& ep = *s.ep;
    if (ep.bias) {
      if (ep.bias_mode == Epilogue::kPerRow) {
        const __m256 bv = _mm256_set1_ps(ep.bias[row]);
        v0 = _mm256_add_ps(v0, bv);
        v1 = _mm256_add_ps(v1, bv);
      } else {
        v0 = _mm256_add_ps(v0, _mm256_loadu_ps(ep.bias + col));
        v1 = _mm256_add_ps(v1, _mm256_loadu_ps(ep.bias + col + 8));
      }
    }
    if (ep.residual) {
      const float* r = ep.residual + row * ep.res_ld + col;
      v0 = _mm256_add_ps(v0, _mm256_loadu_ps(r));
      v1 = _mm256_add_ps(v1, _mm256_loadu_ps(r + 8));
    }
    v0 = act8(ep, v0);
    v1 = act8(ep, v1);
  }
  _mm256_storeu_ps(cr, v0);
  _mm256_storeu_ps(cr + 8, v1);
}

// The valid mr x nr part of a tile computed into t (rows of 16); the
// activation by the vector definition, as for full tiles.
static void store_edge(const float* t, float* c, int64_t ldc, int64_t mr, int64_t nr,
                const TileStore& s, int64_t row0, int64_t col0) {
  alignas(32) float row[kNR];
  for (int64_t i = 0; i < mr; ++i) {
    float* cr = c + i * ldc;
    for (int64_t j = 0; j < nr; ++j) {
      float v = s.alpha * t[i * kNR + j];
      if (s.beta != 0.f) v += s.beta * cr[j];
      if (s.ep) {
        const Epilogue& ep = *s.ep;
        if (ep.bias) v += ep.bias_mode == Epilogue::kPerRow ? ep.bias[row0 + i] : ep.bias[col0 + j];
        if (ep.residual) v += ep.residual[(row0 + i) * ep.res_ld + col0 + j];
      }
      row[j] = v;
    }
    if (s.ep) act_row(*s.ep, row, nr);
    for (int64_t j = 0; j < nr; ++j) cr[j] = row[j];
  }
}

// C tile (mr x nr at c) from kc steps of 6 rows of A and a 16-column B panel.
// Row i of A at step p is a[p*KS + i*rs]: KS = 6, rs = 1 for a packed panel;
// KS = 1, rs = lda for rows of a row-major A read in place (no packing).
template <int KS>
void kernel_6x16(int64_t kc, const float* a, int64_t rs, const float* __restrict b, float* c,
                 int64_t ldc, int64_t mr, int64_t nr, const TileStore& s, int64_t row0,
                 int64_t col0) {
  // The tile of C is read (beta != 0) or written at the end: start fetching it now.
  for (int64_t i = 0; i < mr; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + nr - 1), _MM_HINT_T0);
  }
  __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
#if defined(__x86_64__)
  // The k loop in assembly: GCC's allocation of the intrinsics version spills
  // accumulators (16 ymm registers are exactly 12 accumulators + 2 B vectors +
  // 2 broadcasts). 4 steps per iteration; per iteration, prefetch A 16 steps
  // ahead (it streams from L2; a packed panel: 384 bytes) and B 2 KiB ahead.
  const float* a0 = a;
  const float* a3 = a + 3 * rs;
  const int64_t rs_bytes = rs * 4;
  int64_t k = kc;
  __m256 b0, b1, t0, t1;
  asm volatile(
      "vxorps %[c00], %[c00], %[c00]\n\t"
      "vxorps %[c01], %[c01], %[c01]\n\t"
      "vxorps %[c10], %[c10], %[c10]\n\t"
      "vxorps %[c11], %[c11], %[c11]\n\t"
      "vxorps %[c20], %[c20], %[c20]\n\t"
      "vxorps %[c21], %[c21], %[c21]\n\t"
      "vxorps %[c30], %[c30], %[c30]\n\t"
      "vxorps %[c31], %[c31], %[c31]\n\t"
      "vxorps %[c40], %[c40], %[c40]\n\t"
      "vxorps %[c41], %[c41], %[c41]\n\t"
      "vxorps %[c50], %[c50], %[c50]\n\t"
      "vxorps %[c51], %[c51], %[c51]\n\t"
      "cmp $4, %[k]\n\t"
      "jb 3f\n\t"
      ".p2align 5\n"
      "1:\n\t"
      "prefetcht0 %c[pfa](%[a0])\n\t"
      "prefetcht0 %c[pfa](%[a3],%[rs],2)\n\t"
      "prefetcht0 2048(%[b])\n\t"
      "vmovups 0(%[b]), %[b0]\n\t"
      "vmovups 32(%[b]), %[b1]\n\t"
      "vbroadcastss (%[a0]), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c00]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c01]\n\t"
      "vbroadcastss (%[a0],%[rs],1), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c10]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c11]\n\t"
      "vbroadcastss (%[a0],%[rs],2), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c20]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c21]\n\t"
      "vbroadcastss (%[a3]), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c30]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c31]\n\t"
      "vbroadcastss (%[a3],%[rs],1), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c40]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c41]\n\t"
      "vbroadcastss (%[a3],%[rs],2), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c50]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c51]\n\t"
      "vmovups 64(%[b]), %[b0]\n\t"
      "vmovups 96(%[b]), %[b1]\n\t"
      "vbroadcastss %c[o1](%[a0]), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c00]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c01]\n\t"
      "vbroadcastss %c[o1](%[a0],%[rs],1), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c10]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c11]\n\t"
      "vbroadcastss %c[o1](%[a0],%[rs],2), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c20]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c21]\n\t"
      "vbroadcastss %c[o1](%[a3]), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c30]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c31]\n\t"
      "vbroadcastss %c[o1](%[a3],%[rs],1), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c40]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c41]\n\t"
      "vbroadcastss %c[o1](%[a3],%[rs],2), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c50]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c51]\n\t"
      "vmovups 128(%[b]), %[b0]\n\t"
      "vmovups 160(%[b]), %[b1]\n\t"
      "vbroadcastss %c[o2](%[a0]), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c00]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c01]\n\t"
      "vbroadcastss %c[o2](%[a0],%[rs],1), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c10]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c11]\n\t"
      "vbroadcastss %c[o2](%[a0],%[rs],2), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c20]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c21]\n\t"
      "vbroadcastss %c[o2](%[a3]), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c30]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c31]\n\t"
      "vbroadcastss %c[o2](%[a3],%[rs],1), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c40]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c41]\n\t"
      "vbroadcastss %c[o2](%[a3],%[rs],2), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c50]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c51]\n\t"
      "vmovups 192(%[b]), %[b0]\n\t"
      "vmovups 224(%[b]), %[b1]\n\t"
      "vbroadcastss %c[o3](%[a0]), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c00]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c01]\n\t"
      "vbroadcastss %c[o3](%[a0],%[rs],1), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c10]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c11]\n\t"
      "vbroadcastss %c[o3](%[a0],%[rs],2), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c20]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c21]\n\t"
      "vbroadcastss %c[o3](%[a3]), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c30]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c31]\n\t"
      "vbroadcastss %c[o3](%[a3],%[rs],1), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c40]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c41]\n\t"
      "vbroadcastss %c[o3](%[a3],%[rs],2), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c50]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c51]\n\t"
      "add $%c[o4], %[a0]\n\t"
      "add $%c[o4], %[a3]\n\t"
      "add $256, %[b]\n\t"
      "sub $4, %[k]\n\t"
      "cmp $4, %[k]\n\t"
      "jae 1b\n"
      "3:\n\t"
      "test %[k], %[k]\n\t"
      "jz 4f\n"
      "2:\n\t"
      "vmovups 0(%[b]), %[b0]\n\t"
      "vmovups 32(%[b]), %[b1]\n\t"
      "vbroadcastss (%[a0]), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c00]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c01]\n\t"
      "vbroadcastss (%[a0],%[rs],1), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c10]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c11]\n\t"
      "vbroadcastss (%[a0],%[rs],2), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c20]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c21]\n\t"
      "vbroadcastss (%[a3]), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c30]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c31]\n\t"
      "vbroadcastss (%[a3],%[rs],1), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c40]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c41]\n\t"
      "vbroadcastss (%[a3],%[rs],2), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c50]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c51]\n\t"
      "add $%c[o1], %[a0]\n\t"
      "add $%c[o1], %[a3]\n\t"
      "add $64, %[b]\n\t"
      "dec %[k]\n\t"
      "jnz 2b\n"
      "4:\n\t"
      : [a0] "+r"(a0), [a3] "+r"(a3), [b] "+r"(b), [k] "+r"(k),
        [c00] "=&x"(c00), [c01] "=&x"(c01), [c10] "=&x"(c10), [c11] "=&x"(c11),
        [c20] "=&x"(c20), [c21] "=&x"(c21), [c30] "=&x"(c30), [c31] "=&x"(c31),
        [c40] "=&x"(c40), [c41] "=&x"(c41), [c50] "=&x"(c50), [c51] "=&x"(c51),
        [b0] "=&x"(b0), [b1] "=&x"(b1), [t0] "=&x"(t0), [t1] "=&x"(t1)
      : [rs] "r"(rs_bytes), [o1] "i"(4 * KS), [o2] "i"(8 * KS), [o3] "i"(12 * KS),
        [o4] "i"(16 * KS), [pfa] "i"(64 * KS)
      : "cc", "memory");
#else
  c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = _mm256_setzero_ps();
  for (int64_t p = 0; p < kc; ++p, a += KS, b += 16) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 av = _mm256_broadcast_ss(a);
    c00 = _mm256_fmadd_ps(av, b0, c00);
    c01 = _mm256_fmadd_ps(av, b1, c01);
    av = _mm256_broadcast_ss(a + rs);
    c10 = _mm256_fmadd_ps(av, b0, c10);
    c11 = _mm256_fmadd_ps(av, b1, c11);
    av = _mm256_broadcast_ss(a + 2 * rs);
    c20 = _mm256_fmadd_ps(av, b0, c20);
    c21 = _mm256_fmadd_ps(av, b1, c21);
    av = _mm256_broadcast_ss(a + 3 * rs);
    c30 = _mm256_fmadd_ps(av, b0, c30);
    c31 = _mm256_fmadd_ps(av, b1, c31);
    av = _mm256_broadcast_ss(a + 4 * rs);
    c40 = _mm256_fmadd_ps(av, b0, c40);
    c41 = _mm256_fmadd_ps(av, b1, c41);
    av = _mm256_broadcast_ss(a + 5 * rs);
    c50 = _mm256_fmadd_ps(av, b0, c50);
    c51 = _mm256_fmadd_ps(av, b1, c51);
  }
#endif
  if (mr == kMR && nr == kNR) {
    store_row(c + 0 * ldc, c00, c01, s, row0 + 0, col0);
    store_row(c + 1 * ldc, c10, c11, s, row0 + 1, col0);
    store_row(c + 2 * ldc, c20, c21, s, row0 + 2, col0);
    store_row(c + 3 * ldc, c30, c31, s, row0 + 3, col0);
    store_row(c + 4 * ldc, c40, c41, s, row0 + 4, col0);
    store_row(c + 5 * ldc, c50, c51, s, row0 + 5, col0);
    return;
  }
  alignas(32) float t[kMR * kNR];
  _mm256_store_ps(t + 0, c00);
  _mm256_store_ps(t + 8, c01);
  _mm256_store_ps(t + 16, c10);
  _mm256_store_ps(t + 24, c11);
  _mm256_store_ps(t + 32, c20);
  _mm256_store_ps(t + 40, c21);
  _mm256_store_ps(t + 48, c30);
  _mm256_store_ps(t + 56, c31);
  _mm256_store_ps(t + 64, c40);
  _mm256_store_ps(t + 72, c41);
  _mm256_store_ps(t + 80, c50);
  _mm256_store_ps(t + 88, c51);
  store_edge(t, c, ldc, mr, nr, s, row0, col0);
}

// The same for a 4-row tile (8 accumulators: still 8 independent FMA chains),
// for the last rows of a block: 2/3 of a 6-row tile's time, so 8 rows as two
// 4-row tiles cost less than a 6-row tile and a padded one. KS = 4, rs = 1
// for a 4-row packed panel; KS = 1, rs = lda in place.
template <int KS>
void kernel_4x16(int64_t kc, const float* a, int64_t rs, const float* __restrict b, float* c,
                 int64_t ldc, int64_t mr, int64_t nr, const TileStore& s, int64_t row0,
                 int64_t col0) {
  for (int64_t i = 0; i < mr; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + nr - 1), _MM_HINT_T0);
  }
  __m256 c00, c01, c10, c11, c20, c21, c30, c31;
#if defined(__x86_64__)
  const float* a0 = a;
  const float* a3 = a + 3 * rs;
  const int64_t rs_bytes = rs * 4;
  int64_t k = kc;
  __m256 b0, b1, t0, t1;
  asm volatile(
      "vxorps %[c00], %[c00], %[c00]\n\t"
      "vxorps %[c01], %[c01], %[c01]\n\t"
      "vxorps %[c10], %[c10], %[c10]\n\t"
      "vxorps %[c11], %[c11], %[c11]\n\t"
      "vxorps %[c20], %[c20], %[c20]\n\t"
      "vxorps %[c21], %[c21], %[c21]\n\t"
      "vxorps %[c30], %[c30], %[c30]\n\t"
      "vxorps %[c31], %[c31], %[c31]\n\t"
      "cmp $4, %[k]\n\t"
      "jb 3f\n\t"
      ".p2align 5\n"
      "1:\n\t"
      "prefetcht0 %c[pfa](%[a0])\n\t"
      "prefetcht0 %c[pfa](%[a3])\n\t"
      "prefetcht0 2048(%[b])\n\t"
      "vmovups 0(%[b]), %[b0]\n\t"
      "vmovups 32(%[b]), %[b1]\n\t"
      "vbroadcastss (%[a0]), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c00]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c01]\n\t"
      "vbroadcastss (%[a0],%[rs],1), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c10]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c11]\n\t"
      "vbroadcastss (%[a0],%[rs],2), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c20]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c21]\n\t"
      "vbroadcastss (%[a3]), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c30]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c31]\n\t"
      "vmovups 64(%[b]), %[b0]\n\t"
      "vmovups 96(%[b]), %[b1]\n\t"
      "vbroadcastss %c[o1](%[a0]), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c00]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c01]\n\t"
      "vbroadcastss %c[o1](%[a0],%[rs],1), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c10]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c11]\n\t"
      "vbroadcastss %c[o1](%[a0],%[rs],2), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c20]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c21]\n\t"
      "vbroadcastss %c[o1](%[a3]), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c30]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c31]\n\t"
      "vmovups 128(%[b]), %[b0]\n\t"
      "vmovups 160(%[b]), %[b1]\n\t"
      "vbroadcastss %c[o2](%[a0]), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c00]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c01]\n\t"
      "vbroadcastss %c[o2](%[a0],%[rs],1), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c10]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c11]\n\t"
      "vbroadcastss %c[o2](%[a0],%[rs],2), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c20]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c21]\n\t"
      "vbroadcastss %c[o2](%[a3]), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c30]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c31]\n\t"
      "vmovups 192(%[b]), %[b0]\n\t"
      "vmovups 224(%[b]), %[b1]\n\t"
      "vbroadcastss %c[o3](%[a0]), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c00]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c01]\n\t"
      "vbroadcastss %c[o3](%[a0],%[rs],1), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c10]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c11]\n\t"
      "vbroadcastss %c[o3](%[a0],%[rs],2), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c20]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c21]\n\t"
      "vbroadcastss %c[o3](%[a3]), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c30]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c31]\n\t"
      "add $%c[o4], %[a0]\n\t"
      "add $%c[o4], %[a3]\n\t"
      "add $256, %[b]\n\t"
      "sub $4, %[k]\n\t"
      "cmp $4, %[k]\n\t"
      "jae 1b\n"
      "3:\n\t"
      "test %[k], %[k]\n\t"
      "jz 4f\n"
      "2:\n\t"
      "vmovups 0(%[b]), %[b0]\n\t"
      "vmovups 32(%[b]), %[b1]\n\t"
      "vbroadcastss (%[a0]), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c00]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c01]\n\t"
      "vbroadcastss (%[a0],%[rs],1), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c10]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c11]\n\t"
      "vbroadcastss (%[a0],%[rs],2), %[t0]\n\t"
      "vfmadd231ps %[b0], %[t0], %[c20]\n\t"
      "vfmadd231ps %[b1], %[t0], %[c21]\n\t"
      "vbroadcastss (%[a3]), %[t1]\n\t"
      "vfmadd231ps %[b0], %[t1], %[c30]\n\t"
      "vfmadd231ps %[b1], %[t1], %[c31]\n\t"
      "add $%c[o1], %[a0]\n\t"
      "add $%c[o1], %[a3]\n\t"
      "add $64, %[b]\n\t"
      "dec %[k]\n\t"
      "jnz 2b\n"
      "4:\n\t"
      : [a0] "+r"(a0), [a3] "+r"(a3), [b] "+r"(b), [k] "+r"(k),
        [c00] "=&x"(c00), [c01] "=&x"(c01), [c10] "=&x"(c10), [c11] "=&x"(c11),
        [c20] "=&x"(c20), [c21] "=&x"(c21), [c30] "=&x"(c30), [c31] "=&x"(c31),
        [b0] "=&x"(b0), [b1] "=&x"(b1), [t0] "=&x"(t0), [t1] "=&x"(t1)
      : [rs] "r"(rs_bytes), [o1] "i"(4 * KS), [o2] "i"(8 * KS), [o3] "i"(12 * KS),
        [o4] "i"(16 * KS), [pfa] "i"(64 * KS)
      : "cc", "memory");
#else
  c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = _mm256_setzero_ps();
  for (int64_t p = 0; p < kc; ++p, a += KS, b += 16) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 av = _mm256_broadcast_ss(a);
    c00 = _mm256_fmadd_ps(av, b0, c00);
    c01 = _mm256_fmadd_ps(av, b1, c01);
    av = _mm256_broadcast_ss(a + rs);
    c10 = _mm256_fmadd_ps(av, b0, c10);
    c11 = _mm256_fmadd_ps(av, b1, c11);
    av = _mm256_broadcast_ss(a + 2 * rs);
    c20 = _mm256_fmadd_ps(av, b0, c20);
    c21 = _mm256_fmadd_ps(av, b1, c21);
    av = _mm256_broadcast_ss(a + 3 * rs);
    c30 = _mm256_fmadd_ps(av, b0, c30);
    c31 = _mm256_fmadd_ps(av, b1, c31);
  }
#endif
  if (mr == 4 && nr == kNR) {
    store_row(c + 0 * ldc, c00, c01, s, row0 + 0, col0);
    store_row(c + 1 * ldc, c10, c11, s, row0 + 1, col0);
    store_row(c + 2 * ldc, c20, c21, s, row0 + 2, col0);
    store_row(c + 3 * ldc, c30, c31, s, row0 + 3, col0);
    return;
  }
  alignas(32) float t[4 * kNR];
  _mm256_store_ps(t + 0, c00);
  _mm256_store_ps(t + 8, c01);
  _mm256_store_ps(t + 16, c10);
  _mm256_store_ps(t + 24, c11);
  _mm256_store_ps(t + 32, c20);
  _mm256_store_ps(t + 40, c21);
  _mm256_store_ps(t + 48, c30);
  _mm256_store_ps(t + 56, c31);
  store_edge(t, c, ldc, mr, nr, s, row0, col0);
}

}  // namespace
}  // namespace avx2
}  // namespace kernels
}  // namespace loadrun
