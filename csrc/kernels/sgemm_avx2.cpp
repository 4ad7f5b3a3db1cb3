// AVX2+FMA SGEMM: C = alpha*op(A)*op(B) + beta*C, then the epilogue.
//
// Method (the Goto/BLIS scheme): op(B) is packed in blocks of KC x NC and
// op(A) in blocks of MC x KC into panels the micro-kernel streams; the
// micro-kernel keeps a 6x16 tile of C in 12 ymm accumulators and, per step
// of k, loads 2 vectors of the B panel and broadcasts 6 values of the A
// panel into 12 FMAs (8 loads for 12 FMAs: the two FMA pipes stay fed, and
// 12 independent chains cover the 4-cycle FMA latency x 2 pipes).
//
// Blocking for this machine (AMD EPYC Zen 4: 32 KiB L1d and 1 MiB L2 per
// core, 32 MiB L3 shared), chosen by measurement around the cache sizes:
//   KC = 512: a 512x16 B micro-panel (32 KiB, the size of L1) is reused by
//             every 6-row A micro-panel of the block, from L1 and, for the
//             part L1 cannot hold, L2 with the kernel's prefetches ahead; the
//             A micro-panel (12 KiB) streams from L2. A deeper k block than
//             the L1-only 256 halves the passes over C and the per-tile
//             overhead: +3% at 1024^3, and k <= 512 (most layers) is one pass;
//   MC = 96:  the packed 96x512 A block (192 KiB) stays in L2 beside the B
//             panels in flight;
//   NC = 4080: the 512x4080 B block (8 MiB) lives in L3; n up to 4080 packs
//             each k block of B once.
// Loops (outer to inner): jc (NC) > pc (KC, pack B) > ic (MC, pack A) > jr
// (16) > ir (6) > micro-kernel. The first pc block applies beta to C (beta
// == 0 never reads C, so it may hold NaN), later ones accumulate, and the
// last one applies the epilogue (bias, activation) as it stores the tile, so
// C is touched once more only while the tile is still in registers.
// The last rows of a block run a 4x16 kernel (8 accumulators) when 1-4 rows
// remain (with 1-2 rows, the last 6-row tile and they become two 4-row
// tiles), which costs less than a padded 6-row tile; 5 remaining rows, and
// pre-packed A (6-row panels), take a padded 6-row tile. Tiles with fewer
// valid rows or columns than the kernel's run it on zero-padded panels into a
// local tile and copy the valid part.
// With n <= 512 a row-major A is not packed: the kernel reads its 6 rows in
// place (the same asm loop with row-strided broadcasts), and only a last
// partial micro-panel is packed.
// m == 1 and n == 1 go to the GEMV kernels (sgemm_gemv_avx2.cpp).
//
// Packed formats (for weights, Algo::preprocess):
//   packed A: ceil(m/6) panels of 6 rows, each k steps of 6 floats
//             (row-padded with zeros): ceil(m/6)*6*k floats;
//   packed B: ceil(n/16) panels of 16 columns, each k steps of 16 floats
//             (zero-padded): ceil(n/16)*16*k floats.
// A KC block of a panel is then the contiguous run starting at pc*6 (pc*16),
// exactly what the block packers produce, so one driver serves all cases.
// Cost: 2*m*n*k flops; packing O(m*k + k*n) per call; scratch per thread:
// MC*KC floats for A and KC*min(n,NC) floats for B.
#include <cstdlib>
#include <new>

#include "kernels/sgemm_avx2_common.h"
#include "kernels/sgemm_avx2_ukernels.h"
#include "kernels/sgemm_impl.h"

namespace loadrun {
namespace kernels {

namespace {

using namespace avx2;

constexpr int64_t kKC = 512, kMC = 96, kNC = 4080;
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
  // A row-major (not transposed) A is read in place by the kernel when few
  // column panels reuse each A block (n <= 512, measured): packing it would
  // cost more than it saves (at 128x128x128: 103 against 98 GFLOP/s; at
  // 1024^3 packing wins, 105 against 100).
  const bool in_place = !A.packed && !A.trans && n <= 512;
  float* abuf = A.packed ? nullptr : tl_pack_a.get((kMC + kMR) * kKC);  // + 4-row tail panels
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
        // Row tiles: n6 of 6 rows, then `tail` rows as 4-row tiles (8 rows
        // when a 6-row tile and 1 or 2 rows remain), or as one padded 6-row
        // tile when 5 remain or A comes pre-packed in 6-row panels.
        int64_t n6 = mc / kMR, tail = mc % kMR;
        const bool tail4 = !A.packed && tail != 0 && tail != 5;
        if (tail4 && tail <= 2 && n6 > 0) --n6, tail += kMR;
        const int64_t main_rows = n6 * kMR, tail_panel = tail4 ? 4 : kMR;
        const float* ablk = nullptr;
        const float* atail = nullptr;
        int64_t astride = 0;
        if (A.packed) {
          ablk = A.packed + (ic / kMR) * k * kMR + pc * kMR;
          astride = k * kMR;
          atail = ablk + n6 * astride;
        } else {
          if (!in_place) {
            pack_a_block(A.x, A.ld, A.trans, ic, main_rows, pc, kc, abuf);
            ablk = abuf;
            astride = kc * kMR;
          }
          atail = abuf + main_rows * kc;
          if (tail) pack_a_block(A.x, A.ld, A.trans, ic + main_rows, tail, pc, kc, abuf + main_rows * kc,
                                 tail_panel);
        }
        for (int64_t jr = 0; jr < nc; jr += kNR) {
          const int64_t nr = imin(kNR, nc - jr);
          const float* bp = bblk + (jr / kNR) * bstride;
          float* cblk = c + ic * ldc + jc + jr;
          for (int64_t q = 0; q < n6; ++q) {
            const int64_t ir = q * kMR;
            if (in_place)
              kernel_6x16<1>(kc, A.x + (ic + ir) * A.ld + pc, A.ld, bp, cblk + ir * ldc, ldc, kMR, nr,
                             st, ic + ir, jc + jr);
            else
              kernel_6x16<kMR>(kc, ablk + q * astride, 1, bp, cblk + ir * ldc, ldc, kMR, nr, st,
                               ic + ir, jc + jr);
          }
          if (!tail) continue;
          if (!tail4) {
            kernel_6x16<kMR>(kc, atail, 1, bp, cblk + main_rows * ldc, ldc, tail, nr, st,
                             ic + main_rows, jc + jr);
            continue;
          }
          for (int64_t t0 = 0; t0 < tail; t0 += 4) {
            const int64_t ir = main_rows + t0;
            kernel_4x16<4>(kc, atail + t0 * kc, 1, bp, cblk + ir * ldc, ldc, imin(4, tail - t0), nr,
                           st, ic + ir, jc + jr);
          }
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
    avx2::gemv(n, k, alpha, contiguous(a, ta ? lda : 1, k), b, ldb, tb, beta, c, 1, bias, binc,
               ep);
    return;
  }
  if (n == 1) {  // op(A) times a column of op(B): C^T = op(B)^T op(A)^T
    gemv_bias(ep, true, &bias, &binc);
    avx2::gemv(m, k, alpha, contiguous(b, tb ? 1 : ldb, k), a, lda, !ta, beta, c, ldc, bias,
               binc, ep);
    return;
  }
  Operand A{a, lda, ta, nullptr}, B{b, ldb, tb, nullptr};
  blocked(m, n, k, alpha, A, B, beta, c, ldc, ep);
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
  if (m == 1) {  // row 0 of the packed A sits at stride 6
    gemv_bias(ep, false, &bias, &binc);
    avx2::gemv(n, k, 1.f, contiguous(pa, kMR, k), b, ldb, tb, beta, c, 1, bias, binc, ep);
    return;
  }
  Operand A{nullptr, 0, false, pa}, B{b, ldb, tb, nullptr};
  blocked(m, n, k, 1.f, A, B, beta, c, ldc, ep);
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
  if (n == 1) {  // column 0 of the packed B sits at stride 16
    gemv_bias(ep, true, &bias, &binc);
    avx2::gemv(m, k, 1.f, contiguous(pb, kNR, k), a, lda, !ta, beta, c, ldc, bias, binc, ep);
    return;
  }
  Operand A{a, lda, ta, nullptr}, B{nullptr, 0, false, pb};
  blocked(m, n, k, 1.f, A, B, beta, c, ldc, ep);
}

}  // namespace

const SgemmImpl& sgemm_avx2_impl() {
  static const SgemmImpl impl{"avx2_fma", gemm,     packed_a_floats, pack_a,
                              packed_a,   packed_b_floats, pack_b,   packed_b, kMR, kNR};
  return impl;
}

}  // namespace kernels
}  // namespace loadrun
