// NEON SGEMM (AArch64): C = alpha*op(A)*op(B) + beta*C, then the epilogue.
//
// Method (the Goto/BLIS scheme, as sgemm_avx2.cpp): op(B) is packed in
// blocks of KC x NC and op(A) in blocks of MC x KC into panels the
// micro-kernel streams. The micro-kernel keeps an 8x12 tile of C in 24 of
// the 32 128-bit registers; per step of k it loads 8 values of the A panel
// (2 registers) and 12 of the B panel (3 registers) and issues 24 FMAs by
// lane (FMLA v.4s, v.4s, v.s[i]: no broadcasts needed), 5 loads for 24 FMAs.
// 24 independent chains cover the 4-cycle FMA latency on two FMA pipes
// (Cortex-A76/Neoverse N1 and later) with room to spare. The same 8x12 shape
// is the one of XNNPACK's and ncnn's aarch64 SGEMM kernels.
//
// Blocking (untuned on hardware: these sessions have only qemu, where time
// means nothing), sized for the common AArch64 caches, 64 KiB L1d and
// 256 KiB - 1 MiB L2 per core:
//   KC = 256: a 256x12 B micro-panel is 12 KiB, an 8x256 A one 8 KiB: both
//             stay in L1 while the tile's k loop runs;
//   MC = 128: the packed 128x256 A block (128 KiB) stays in L2;
//   NC = 3072: the 256x3072 B block (3 MiB) lives in L2/L3.
// Loops (outer to inner): jc (NC) > pc (KC, pack B) > ic (MC, pack A) > jr
// (12) > ir (8) > micro-kernel. The first pc block applies beta to C (beta
// == 0 never reads C, so it may hold NaN), later ones accumulate, and the
// last one applies the epilogue (bias, residual, activation by
// activation_neon.h) as it stores the tile, while it is in registers. Tiles
// with fewer valid rows or columns run on the zero-padded panels into a
// local tile, and only the valid part is stored.
// m == 1 and n == 1 go to the GEMV kernels (sgemm_gemv_neon.cpp).
//
// Packed formats (for weights, Algo::preprocess):
//   packed A: ceil(m/8) panels of 8 rows, each k steps of 8 floats
//             (row-padded with zeros): ceil(m/8)*8*k floats;
//   packed B: ceil(n/12) panels of 12 columns, each k steps of 12 floats
//             (zero-padded): ceil(n/12)*12*k floats.
// A KC block of a panel is then the contiguous run starting at pc*8
// (pc*12), what the block packers produce, so one driver serves all cases.
// Cost: 2*m*n*k flops; packing O(m*k + k*n) per call; scratch per thread:
// MC*KC floats for A and KC*min(n,NC) floats for B.
#include <cstdlib>
#include <new>

#include "kernels/sgemm_impl.h"
#include "kernels/sgemm_neon_common.h"

namespace loadrun {
namespace kernels {

namespace {

using namespace neon;

constexpr int64_t kKC = 256, kMC = 128, kNC = 3072;
static_assert(kMC % kMR == 0 && kNC % kNR == 0, "blocks hold whole panels");

// A grow-only, 64-byte aligned scratch buffer (one per thread and purpose).
struct Scratch {
  float* p = nullptr;
  size_t cap = 0;  // floats
  ~Scratch() { std::free(p); }
  float* get(size_t floats) {
    if (floats > cap) {
      std::free(p);
      p = nullptr;
      cap = 0;
      size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
      p = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!p) throw std::bad_alloc();
      cap = bytes / sizeof(float);
    }
    return p;
  }
};

thread_local Scratch tl_pack_a, tl_pack_b, tl_vec;

struct TileStore {
  float alpha;
  float beta;          // 0: C is not read
  const Epilogue* ep;  // non-null on the last k block
};

// One row of a full tile: v = alpha*acc (+ beta*C) (+ bias, residual, act).
inline __attribute__((always_inline)) void store_row(float* cr, float32x4_t v0, float32x4_t v1,
                                                     float32x4_t v2, const TileStore& s,
                                                     int64_t row, int64_t col) {
  if (s.alpha != 1.f) {
    v0 = vmulq_n_f32(v0, s.alpha);
    v1 = vmulq_n_f32(v1, s.alpha);
    v2 = vmulq_n_f32(v2, s.alpha);
  }
  if (s.beta == 1.f) {
    v0 = vaddq_f32(v0, vld1q_f32(cr));
    v1 = vaddq_f32(v1, vld1q_f32(cr + 4));
    v2 = vaddq_f32(v2, vld1q_f32(cr + 8));
  } else if (s.beta != 0.f) {
    const float32x4_t be = vdupq_n_f32(s.beta);
    v0 = vfmaq_f32(v0, be, vld1q_f32(cr));
    v1 = vfmaq_f32(v1, be, vld1q_f32(cr + 4));
    v2 = vfmaq_f32(v2, be, vld1q_f32(cr + 8));
  }
  if (s.ep) {
    const Epilogue& ep = *s.ep;
    if (ep.bias) {
      if (ep.bias_mode == Epilogue::kPerRow) {
        const float32x4_t bv = vdupq_n_f32(ep.bias[row]);
        v0 = vaddq_f32(v0, bv);
        v1 = vaddq_f32(v1, bv);
        v2 = vaddq_f32(v2, bv);
      } else {
        v0 = vaddq_f32(v0, vld1q_f32(ep.bias + col));
        v1 = vaddq_f32(v1, vld1q_f32(ep.bias + col + 4));
        v2 = vaddq_f32(v2, vld1q_f32(ep.bias + col + 8));
      }
    }
    if (ep.residual) {
      const float* r = ep.residual + row * ep.res_ld + col;
      v0 = vaddq_f32(v0, vld1q_f32(r));
      v1 = vaddq_f32(v1, vld1q_f32(r + 4));
      v2 = vaddq_f32(v2, vld1q_f32(r + 8));
    }
    v0 = act4(ep, v0);
    v1 = act4(ep, v1);
    v2 = act4(ep, v2);
  }
  vst1q_f32(cr, v0);
  vst1q_f32(cr + 4, v1);
  vst1q_f32(cr + 8, v2);
}

// The valid mr x nr part of a tile computed into t (rows of 12).
void store_edge(const float* t, float* c, int64_t ldc, int64_t mr, int64_t nr,
                const TileStore& s, int64_t row0, int64_t col0) {
  float row[kNR];
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

// The tile (mr x nr valid at c) from kc steps of an 8-row A panel and a
// 12-column B panel. The k loop is intrinsics: with 32 vector registers the
// compiler keeps all 24 accumulators and the 5 operands in registers.
void kernel_8x12(int64_t kc, const float* __restrict a, const float* __restrict b, float* c,
                 int64_t ldc, int64_t mr, int64_t nr, const TileStore& s, int64_t row0,
                 int64_t col0) {
  const float32x4_t z = vdupq_n_f32(0.f);
  float32x4_t c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z,
              c30 = z, c31 = z, c32 = z, c40 = z, c41 = z, c42 = z, c50 = z, c51 = z, c52 = z,
              c60 = z, c61 = z, c62 = z, c70 = z, c71 = z, c72 = z;
#define LR_NEON_STEP(ao, bo)                                                      \
  do {                                                                            \
    const float32x4_t a0 = vld1q_f32(a + (ao)), a1 = vld1q_f32(a + (ao) + 4);     \
    const float32x4_t b0 = vld1q_f32(b + (bo)), b1 = vld1q_f32(b + (bo) + 4),     \
                      b2 = vld1q_f32(b + (bo) + 8);                               \
    c00 = vfmaq_laneq_f32(c00, b0, a0, 0);                                        \
    c01 = vfmaq_laneq_f32(c01, b1, a0, 0);                                        \
    c02 = vfmaq_laneq_f32(c02, b2, a0, 0);                                        \
    c10 = vfmaq_laneq_f32(c10, b0, a0, 1);                                        \
    c11 = vfmaq_laneq_f32(c11, b1, a0, 1);                                        \
    c12 = vfmaq_laneq_f32(c12, b2, a0, 1);                                        \
    c20 = vfmaq_laneq_f32(c20, b0, a0, 2);                                        \
    c21 = vfmaq_laneq_f32(c21, b1, a0, 2);                                        \
    c22 = vfmaq_laneq_f32(c22, b2, a0, 2);                                        \
    c30 = vfmaq_laneq_f32(c30, b0, a0, 3);                                        \
    c31 = vfmaq_laneq_f32(c31, b1, a0, 3);                                        \
    c32 = vfmaq_laneq_f32(c32, b2, a0, 3);                                        \
    c40 = vfmaq_laneq_f32(c40, b0, a1, 0);                                        \
    c41 = vfmaq_laneq_f32(c41, b1, a1, 0);                                        \
    c42 = vfmaq_laneq_f32(c42, b2, a1, 0);                                        \
    c50 = vfmaq_laneq_f32(c50, b0, a1, 1);                                        \
    c51 = vfmaq_laneq_f32(c51, b1, a1, 1);                                        \
    c52 = vfmaq_laneq_f32(c52, b2, a1, 1);                                        \
    c60 = vfmaq_laneq_f32(c60, b0, a1, 2);                                        \
    c61 = vfmaq_laneq_f32(c61, b1, a1, 2);                                        \
    c62 = vfmaq_laneq_f32(c62, b2, a1, 2);                                        \
    c70 = vfmaq_laneq_f32(c70, b0, a1, 3);                                        \
    c71 = vfmaq_laneq_f32(c71, b1, a1, 3);                                        \
    c72 = vfmaq_laneq_f32(c72, b2, a1, 3);                                        \
  } while (0)
  int64_t p = 0;
  for (; p + 2 <= kc; p += 2, a += 2 * kMR, b += 2 * kNR) {
    __builtin_prefetch(a + 64);
    __builtin_prefetch(b + 96);
    LR_NEON_STEP(0, 0);
    LR_NEON_STEP(kMR, kNR);
  }
  if (p < kc) LR_NEON_STEP(0, 0);
#undef LR_NEON_STEP
  if (mr == kMR && nr == kNR) {
    store_row(c + 0 * ldc, c00, c01, c02, s, row0 + 0, col0);
    store_row(c + 1 * ldc, c10, c11, c12, s, row0 + 1, col0);
    store_row(c + 2 * ldc, c20, c21, c22, s, row0 + 2, col0);
    store_row(c + 3 * ldc, c30, c31, c32, s, row0 + 3, col0);
    store_row(c + 4 * ldc, c40, c41, c42, s, row0 + 4, col0);
    store_row(c + 5 * ldc, c50, c51, c52, s, row0 + 5, col0);
    store_row(c + 6 * ldc, c60, c61, c62, s, row0 + 6, col0);
    store_row(c + 7 * ldc, c70, c71, c72, s, row0 + 7, col0);
    return;
  }
  float t[kMR * kNR];
  const float32x4_t acc[kMR][3] = {{c00, c01, c02}, {c10, c11, c12}, {c20, c21, c22},
                                   {c30, c31, c32}, {c40, c41, c42}, {c50, c51, c52},
                                   {c60, c61, c62}, {c70, c71, c72}};
  for (int i = 0; i < kMR; ++i)
    for (int q = 0; q < 3; ++q) vst1q_f32(t + i * kNR + 4 * q, acc[i][q]);
  store_edge(t, c, ldc, mr, nr, s, row0, col0);
}

// ---- driver ----------------------------------------------------------------

// Where the blocks of op(A) / op(B) come from: a pre-packed buffer (full k
// per panel) or a matrix packed block by block here.
struct Operand {
  const float* x = nullptr;
  int64_t ld = 0;
  bool trans = false;
  const float* packed = nullptr;
};

void blocked(int64_t m, int64_t n, int64_t k, float alpha, const Operand& A, const Operand& B,
             float beta, float* c, int64_t ldc, const Epilogue& ep) {
  const Epilogue* last_ep = ep.empty() ? nullptr : &ep;
  float* abuf = A.packed ? nullptr : tl_pack_a.get(kMC * imin(kKC, k));
  float* bbuf = B.packed ? nullptr : tl_pack_b.get(imin(kKC, k) * round_up(imin(kNC, n), kNR));
  for (int64_t jc = 0; jc < n; jc += kNC) {
    const int64_t nc = imin(kNC, n - jc);
    for (int64_t pc = 0; pc < k; pc += kKC) {
      const int64_t kc = imin(kKC, k - pc);
      const float* bblk;
      int64_t bstride;
      if (B.packed) {
        bblk = B.packed + (jc / kNR) * k * kNR + pc * kNR;
        bstride = k * kNR;
      } else {
        pack_b_block(B.x, B.ld, B.trans, pc, kc, jc, nc, bbuf);
        bblk = bbuf;
        bstride = kc * kNR;
      }
      const TileStore st{alpha, pc == 0 ? beta : 1.f, pc + kc == k ? last_ep : nullptr};
      for (int64_t ic = 0; ic < m; ic += kMC) {
        const int64_t mc = imin(kMC, m - ic);
        const float* ablk;
        int64_t astride;
        if (A.packed) {
          ablk = A.packed + (ic / kMR) * k * kMR + pc * kMR;
          astride = k * kMR;
        } else {
          pack_a_block(A.x, A.ld, A.trans, ic, mc, pc, kc, abuf);
          ablk = abuf;
          astride = kc * kMR;
        }
        for (int64_t jr = 0; jr < nc; jr += kNR) {
          const int64_t nr = imin(kNR, nc - jr);
          const float* bp = bblk + (jr / kNR) * bstride;
          for (int64_t ir = 0; ir < mc; ir += kMR)
            kernel_8x12(kc, ablk + (ir / kMR) * astride, bp, c + (ic + ir) * ldc + jc + jr, ldc,
                        imin(kMR, mc - ir), nr, st, ic + ir, jc + jr);
        }
      }
    }
  }
}

// k == 0: C = beta*C, then the epilogue.
void scale_only(int64_t m, int64_t n, float beta, float* c, int64_t ldc, const Epilogue& ep) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.f ? 0.f : beta * c[i * ldc + j];
  if (!ep.empty()) apply_epilogue(ep, c, ldc, m, n);
}

// x[p] = src[p*inc] as a contiguous vector (src itself when inc == 1).
const float* contiguous(const float* src, int64_t inc, int64_t k) {
  if (inc == 1) return src;
  float* v = tl_vec.get(static_cast<size_t>(k));
  for (int64_t p = 0; p < k; ++p) v[p] = src[p * inc];
  return v;
}

// Bias pointer and stride along the vector of a GEMV: `along_rows` when the
// output vector runs down the rows of C (n == 1).
void gemv_bias(const Epilogue& ep, bool along_rows, const float** bias, int64_t* inc) {
  *bias = ep.bias;
  *inc = (ep.bias_mode == Epilogue::kPerRow) == along_rows ? 1 : 0;
}

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
          const Epilogue& ep) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) return scale_only(m, n, beta, c, ldc, ep);
  const float* bias;
  int64_t binc;
  if (m == 1) {  // row of op(A) times op(B)
    gemv_bias(ep, false, &bias, &binc);
    neon::gemv(n, k, alpha, contiguous(a, ta ? lda : 1, k), b, ldb, tb, beta, c, 1, bias, binc,
               ep);
    return;
  }
  if (n == 1) {  // op(A) times a column of op(B): C^T = op(B)^T op(A)^T
    gemv_bias(ep, true, &bias, &binc);
    neon::gemv(m, k, alpha, contiguous(b, tb ? 1 : ldb, k), a, lda, !ta, beta, c, ldc, bias,
               binc, ep);
    return;
  }
  blocked(m, n, k, alpha, Operand{a, lda, ta, nullptr}, Operand{b, ldb, tb, nullptr}, beta, c,
          ldc, ep);
}

size_t packed_a_floats(int64_t m, int64_t k) { return static_cast<size_t>(round_up(m, kMR) * k); }
size_t packed_b_floats(int64_t k, int64_t n) { return static_cast<size_t>(round_up(n, kNR) * k); }

void pack_a(bool ta, int64_t m, int64_t k, const float* a, int64_t lda, float* packed) {
  if (m > 0 && k > 0) pack_a_block(a, lda, ta, 0, m, 0, k, packed);
}

void pack_b(bool tb, int64_t k, int64_t n, const float* b, int64_t ldb, float* packed) {
  if (n > 0 && k > 0) pack_b_block(b, ldb, tb, 0, k, 0, n, packed);
}

void packed_a(bool tb, int64_t m, int64_t n, int64_t k, const float* pa, const float* b,
              int64_t ldb, float beta, float* c, int64_t ldc, const Epilogue& ep) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) return scale_only(m, n, beta, c, ldc, ep);
  const float* bias;
  int64_t binc;
  if (n == 1) {
    gemv_bias(ep, true, &bias, &binc);
    gemv_packed_a(m, k, pa, contiguous(b, tb ? 1 : ldb, k), beta, c, ldc, bias, binc, ep);
    return;
  }
  if (m == 1) {  // row 0 of the packed A sits at stride 8
    gemv_bias(ep, false, &bias, &binc);
    neon::gemv(n, k, 1.f, contiguous(pa, kMR, k), b, ldb, tb, beta, c, 1, bias, binc, ep);
    return;
  }
  blocked(m, n, k, 1.f, Operand{nullptr, 0, false, pa}, Operand{b, ldb, tb, nullptr}, beta, c,
          ldc, ep);
}

void packed_b(bool ta, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
              const float* pb, float beta, float* c, int64_t ldc, const Epilogue& ep) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) return scale_only(m, n, beta, c, ldc, ep);
  const float* bias;
  int64_t binc;
  if (m == 1) {
    gemv_bias(ep, false, &bias, &binc);
    gemv_packed_b(n, k, contiguous(a, ta ? lda : 1, k), pb, beta, c, bias, binc, ep);
    return;
  }
  if (n == 1) {  // column 0 of the packed B sits at stride 12
    gemv_bias(ep, true, &bias, &binc);
    neon::gemv(m, k, 1.f, contiguous(pb, kNR, k), a, lda, !ta, beta, c, ldc, bias, binc, ep);
    return;
  }
  blocked(m, n, k, 1.f, Operand{a, lda, ta, nullptr}, Operand{nullptr, 0, false, pb}, beta, c,
          ldc, ep);
}

}  // namespace

const SgemmImpl& sgemm_neon_impl() {
  static const SgemmImpl impl{"neon",   gemm,     packed_a_floats, pack_a,
                              packed_a, packed_b_floats, pack_b,   packed_b, kMR, kNR};
  return impl;
}

}  // namespace kernels
}  // namespace loadrun
