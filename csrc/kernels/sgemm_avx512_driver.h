// The AVX-512 SGEMM (C = alpha*op(A)*op(B) + beta*C, then the epilogue),
// written once over the 16-lane traits V and instantiated twice: with real
// AVX-512F (sgemm_avx512.cpp, the avx512 table) and with its AVX2 emulation
// (sgemm_avx512_emu_avx2.cpp, the test-only avx512_emu table), so the code
// the avx512 level runs is tested on every AVX2 machine. Include only from
// those two files; everything here has internal linkage (each TU has its own
// ISA flags, and the linker must never pick one TU's copy for the other).
//
// Method (Goto/BLIS, as sgemm_avx2.cpp): op(B) is packed in KC x NC blocks
// into 32-column panels, op(A) in MC x KC blocks into 12-row panels, and the
// 12x32 micro-kernel (sgemm_avx512_tile.h) streams them. Blocks: KC = 256
// (a 256x32 B panel is 32 KiB, L1), MC = 144 (the 144x256 A block, 144 KiB,
// stays in L2), NC = 4096 (B block of 4 MiB in L3). Loops (outer to inner):
// jc > pc (pack B) > ic (pack A) > jr (32) > ir (12) > micro-kernel. The
// first pc block applies beta, the last the epilogue. The last rows of a
// block run a tile of exactly their height; the last columns masked stores.
// Not tuned on an AVX-512 machine (none was at hand when it was written).
//
// Packed formats (weights, Algo::preprocess; SgemmImpl mr = 12, nr = 32):
//   packed A: ceil(m/12) panels of 12 rows, each k steps of 12 floats
//             (row-padded with zeros);
//   packed B: ceil(n/32) panels of 32 columns, each k steps of 32 floats
//             (zero-padded).
// GEMV shapes: with unpacked operands (m == 1 or n == 1), and a packed
// operand along its short side (row 0 of a packed A, column 0 of a packed
// B, gathered), the avx2 GEMV kernels run (sgemm_avx2_impl(): they are
// load-bound, wider vectors add little); a packed B times one row and a
// packed A times one column run the kernels of sgemm_avx512_gemv.h.
// Packing: full panels of a row-major A and of a transposed B go 8 k steps
// at a time through two 8x8 register transposes; the rest element by element.
// Cost: 2*m*n*k flops; packing O(m*k + k*n) per call; scratch per thread:
// MC*KC floats for A and KC*min(n,NC) floats for B.
#pragma once
#include <new>

#include "kernels/eltwise.h"
#include "kernels/sgemm_avx512_gemv.h"
#include "kernels/sgemm_avx512_tile.h"
#include "kernels/simd_avx2.h"  // transpose8
#include "kernels/sgemm_avx512.h"

namespace loadrun {
namespace kernels {
namespace {

constexpr int64_t kKC16 = 256, kMC16 = 12 * kMR16, kNC16 = 128 * kNR16;

inline int64_t imin16(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t round_up16(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

// A grow-only, 64-byte aligned scratch buffer (one per thread and purpose).
// The aligned operator new throws std::bad_alloc itself (no inline
// exception constructors emitted here: see epilogue_empty16).
struct Scratch16 {
  float* p = nullptr;
  size_t cap = 0;  // floats
  ~Scratch16() { release(); }
  void release() {
    if (p) ::operator delete(p, std::align_val_t(64));
    p = nullptr;
    cap = 0;
  }
  float* get(size_t floats) {
    if (floats > cap) {
      release();
      const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
      p = static_cast<float*>(::operator new(bytes, std::align_val_t(64)));
      cap = bytes / sizeof(float);
    }
    return p;
  }
};

template <class V>
struct Sgemm16 {
  using Reg = typename V::Reg;

  // Rows [i0, i0+mc) x cols [p0, p0+kc) of op(A) into panels of 12 rows
  // (stride kc*12), zero-padded.
  static void pack_a_block(const float* a, int64_t lda, bool ta, int64_t i0, int64_t mc,
                           int64_t p0, int64_t kc, float* dst) {
    for (int64_t ib = 0; ib < mc; ib += kMR16, dst += kc * kMR16) {
      const int64_t rows = imin16(kMR16, mc - ib), i = i0 + ib;
      if (ta) {  // op(A)(i, p) = a[p*lda + i]: the panel's values are contiguous per step
        for (int64_t p = 0; p < kc; ++p) {
          const float* src = a + (p0 + p) * lda + i;
          float* d = dst + p * kMR16;
          int64_t r = 0;
          for (; r < rows; ++r) d[r] = src[r];
          for (; r < kMR16; ++r) d[r] = 0.f;
        }
      } else if (rows == kMR16) {
        // 8 steps at a time: 12 rows (and 4 of zeros) of 8 floats, transposed
        // as two 8x8 blocks into one 16-lane vector per step (12 lanes stored).
        const typename V::Mask m12 = V::tail(kMR16);
        const float* src = a + i * lda + p0;
        const __m256 z = _mm256_setzero_ps();
        int64_t p = 0;
        for (; p + 8 <= kc; p += 8) {
          __m256 lo[8], hi[8] = {z, z, z, z, z, z, z, z};
          for (int r = 0; r < 8; ++r) lo[r] = _mm256_loadu_ps(src + r * lda + p);
          for (int r = 0; r < kMR16 - 8; ++r) hi[r] = _mm256_loadu_ps(src + (8 + r) * lda + p);
          avx2::transpose8(lo);  // lo[q] lane r = op(A)(i + r, p0 + p + q)
          avx2::transpose8(hi);
          for (int q = 0; q < 8; ++q)
            V::mask_storeu(dst + (p + q) * kMR16, m12, V::join(lo[q], hi[q]));
        }
        for (; p < kc; ++p)
          for (int64_t r = 0; r < kMR16; ++r) dst[p * kMR16 + r] = src[r * lda + p];
      } else {  // the last rows: a row of op(A) is contiguous, scatter it down the panel
        for (int64_t r = 0; r < kMR16; ++r) {
          float* d = dst + r;
          if (r < rows) {
            const float* src = a + (i + r) * lda + p0;
            for (int64_t p = 0; p < kc; ++p) d[p * kMR16] = src[p];
          } else {
            for (int64_t p = 0; p < kc; ++p) d[p * kMR16] = 0.f;
          }
        }
      }
    }
  }

  // Rows [p0, p0+kc) x cols [j0, j0+nc) of op(B) into panels of 32 columns
  // (stride kc*32), zero-padded.
  static void pack_b_block(const float* b, int64_t ldb, bool tb, int64_t p0, int64_t kc,
                           int64_t j0, int64_t nc, float* dst) {
    for (int64_t jb = 0; jb < nc; jb += kNR16, dst += kc * kNR16) {
      const int64_t cols = imin16(kNR16, nc - jb), j = j0 + jb;
      if (!tb) {  // op(B)(p, j) = b[p*ldb + j]: masked vector copies of each row
        const typename V::Mask m0 = V::tail(cols), m1 = V::tail(cols - 16);
        for (int64_t p = 0; p < kc; ++p) {
          const float* src = b + (p0 + p) * ldb + j;
          float* d = dst + p * kNR16;
          V::storeu(d, V::maskz_loadu(m0, src));
          V::storeu(d + 16, V::maskz_loadu(m1, src + 16));
        }
      } else if (cols == kNR16) {
        // op(B)(p, j) = b[j*ldb + p]: 8 steps at a time, 16 stored rows of 8
        // floats transposed as two 8x8 blocks into one 16-lane vector per step.
        int64_t p = 0;
        for (; p + 8 <= kc; p += 8) {
          for (int h = 0; h < 2; ++h) {
            const float* src = b + (j + 16 * h) * ldb + p0 + p;
            __m256 lo[8], hi[8];
            for (int cix = 0; cix < 8; ++cix) {
              lo[cix] = _mm256_loadu_ps(src + cix * ldb);
              hi[cix] = _mm256_loadu_ps(src + (8 + cix) * ldb);
            }
            avx2::transpose8(lo);  // lo[q] lane c = op(B)(p0 + p + q, j + 16h + c)
            avx2::transpose8(hi);
            for (int q = 0; q < 8; ++q)
              V::storeu(dst + (p + q) * kNR16 + 16 * h, V::join(lo[q], hi[q]));
          }
        }
        for (; p < kc; ++p)
          for (int64_t cix = 0; cix < kNR16; ++cix)
            dst[p * kNR16 + cix] = b[(j + cix) * ldb + p0 + p];
      } else {  // the last columns: read each stored row once
        for (int64_t cix = 0; cix < kNR16; ++cix) {
          float* d = dst + cix;
          if (cix < cols) {
            const float* src = b + (j + cix) * ldb + p0;
            for (int64_t p = 0; p < kc; ++p) d[p * kNR16] = src[p];
          } else {
            for (int64_t p = 0; p < kc; ++p) d[p * kNR16] = 0.f;
          }
        }
      }
    }
  }

  // Where the blocks of op(A) / op(B) come from: a pre-packed buffer (full
  // k per panel) or a matrix packed block by block here.
  struct Operand {
    const float* x = nullptr;
    int64_t ld = 0;
    bool trans = false;
    const float* packed = nullptr;
  };

  static void blocked(int64_t m, int64_t n, int64_t k, float alpha, const Operand& A,
                      const Operand& B, float beta, float* c, int64_t ldc, const Epilogue& ep) {
    static thread_local Scratch16 tl_a, tl_b;
    const Epilogue* last_ep = epilogue_empty16(ep) ? nullptr : &ep;
    const ActRowFn act_row = eltwise_avx2_impl().act;
    float* abuf = A.packed ? nullptr : tl_a.get(kMC16 * kKC16);
    float* bbuf =
        B.packed ? nullptr : tl_b.get(imin16(kKC16, k) * round_up16(imin16(kNC16, n), kNR16));
    for (int64_t jc = 0; jc < n; jc += kNC16) {
      const int64_t nc = imin16(kNC16, n - jc);
      for (int64_t pc = 0; pc < k; pc += kKC16) {
        const int64_t kc = imin16(kKC16, k - pc);
        const float* bblk;
        int64_t bstride;
        if (B.packed) {
          bblk = B.packed + (jc / kNR16) * k * kNR16 + pc * kNR16;
          bstride = k * kNR16;
        } else {
          pack_b_block(B.x, B.ld, B.trans, pc, kc, jc, nc, bbuf);
          bblk = bbuf;
          bstride = kc * kNR16;
        }
        const TileStore16 st{alpha, pc == 0 ? beta : 1.f, pc + kc == k ? last_ep : nullptr,
                             act_row};
        for (int64_t ic = 0; ic < m; ic += kMC16) {
          const int64_t mc = imin16(kMC16, m - ic);
          const float* ablk;
          int64_t astride;
          if (A.packed) {
            ablk = A.packed + (ic / kMR16) * k * kMR16 + pc * kMR16;
            astride = k * kMR16;
          } else {
            pack_a_block(A.x, A.ld, A.trans, ic, mc, pc, kc, abuf);
            ablk = abuf;
            astride = kc * kMR16;
          }
          const int64_t panels = (mc + kMR16 - 1) / kMR16;
          const TileFn16 full = tile16_for<V>(kMR16);
          const TileFn16 last = tile16_for<V>(mc - (panels - 1) * kMR16);
          for (int64_t jr = 0; jr < nc; jr += kNR16) {
            const int64_t nr = imin16(kNR16, nc - jr);
            const float* bp = bblk + (jr / kNR16) * bstride;
            for (int64_t q = 0; q < panels; ++q) {
              const int64_t ir = q * kMR16;
              (q + 1 < panels ? full : last)(kc, ablk + q * astride, bp,
                                             c + (ic + ir) * ldc + jc + jr, ldc, nr, st, ic + ir,
                                             jc + jr);
            }
          }
        }
      }
    }
  }

  // k == 0: C = beta*C, then the epilogue.
  static void scale_only(int64_t m, int64_t n, float beta, float* c, int64_t ldc,
                         const Epilogue& ep) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.f ? 0.f : beta * c[i * ldc + j];
    if (!epilogue_empty16(ep)) apply_epilogue(ep, c, ldc, m, n);
  }

  static void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                   const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                   int64_t ldc, const Epilogue& ep) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) return scale_only(m, n, beta, c, ldc, ep);
    if (m == 1 || n == 1)
      return sgemm_avx2_impl().gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep);
    blocked(m, n, k, alpha, Operand{a, lda, ta, nullptr}, Operand{b, ldb, tb, nullptr}, beta, c,
            ldc, ep);
  }

  static size_t packed_a_floats(int64_t m, int64_t k) {
    return static_cast<size_t>(round_up16(m, kMR16) * k);
  }
  static size_t packed_b_floats(int64_t k, int64_t n) {
    return static_cast<size_t>(round_up16(n, kNR16) * k);
  }
  static void pack_a(bool ta, int64_t m, int64_t k, const float* a, int64_t lda, float* packed) {
    if (m > 0 && k > 0) pack_a_block(a, lda, ta, 0, m, 0, k, packed);
  }
  static void pack_b(bool tb, int64_t k, int64_t n, const float* b, int64_t ldb, float* packed) {
    if (n > 0 && k > 0) pack_b_block(b, ldb, tb, 0, k, 0, n, packed);
  }

  // x[p] = src[p * inc] for p < k, contiguous (a thread's scratch).
  static const float* gather(const float* src, int64_t inc, int64_t k) {
    static thread_local Scratch16 tl_vec;
    float* v = tl_vec.get(static_cast<size_t>(k));
    for (int64_t p = 0; p < k; ++p) v[p] = src[p * inc];
    return v;
  }

  static void packed_a(bool tb, int64_t m, int64_t n, int64_t k, const float* pa, const float* b,
                       int64_t ldb, float beta, float* c, int64_t ldc, const Epilogue& ep) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) return scale_only(m, n, beta, c, ldc, ep);
    if (n == 1) {
      const float* x = tb || ldb == 1 ? b : gather(b, ldb, k);
      return Gemv16<V>::packed_a_col(m, k, pa, x, beta, c, ldc, ep, eltwise_avx2_impl().act);
    }
    if (m == 1)  // row 0 of the packed A sits at stride 12
      return sgemm_avx2_impl().gemm(false, tb, 1, n, k, 1.f, gather(pa, kMR16, k), k, b, ldb,
                                    beta, c, ldc, ep);
    blocked(m, n, k, 1.f, Operand{nullptr, 0, false, pa}, Operand{b, ldb, tb, nullptr}, beta, c,
            ldc, ep);
  }

  static void packed_b(bool ta, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                       const float* pb, float beta, float* c, int64_t ldc, const Epilogue& ep) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) return scale_only(m, n, beta, c, ldc, ep);
    if (m == 1) {
      const float* x = !ta || lda == 1 ? a : gather(a, lda, k);
      const TileStore16 st{1.f, beta, epilogue_empty16(ep) ? nullptr : &ep,
                           eltwise_avx2_impl().act};
      return Gemv16<V>::packed_b_row(n, k, x, pb, c, st);
    }
    if (n == 1)  // column 0 of the packed B sits at stride 32
      return sgemm_avx2_impl().gemm(ta, false, m, 1, k, 1.f, a, lda, gather(pb, kNR16, k), 1,
                                    beta, c, ldc, ep);
    blocked(m, n, k, 1.f, Operand{a, lda, ta, nullptr}, Operand{nullptr, 0, false, pb}, beta, c,
            ldc, ep);
  }

  static const SgemmImpl& impl() {
    static const SgemmImpl s{V::kName, gemm,   packed_a_floats, pack_a, packed_a,
                             packed_b_floats, pack_b, packed_b,        kMR16, kNR16};
    return s;
  }
};

}  // namespace
}  // namespace kernels
}  // namespace loadrun
