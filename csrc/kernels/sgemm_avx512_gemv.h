// The GEMV shapes of the AVX-512 SGEMM with a packed operand, over the
// 16-lane traits V (include only from sgemm_avx512_driver.h):
//   m == 1, packed B: the row x . B, 32 columns (one B panel) at a time,
//     k unrolled by 4 into 4 pairs of accumulators (8 FMA chains instead of
//     the 2 of a 1-row tile), finished by the tiles' store (beta, bias,
//     residual, activation, masked edge);
//   n == 1, packed A: the column A . x, one 12-row panel at a time as one
//     16-lane vector (4 lanes masked off), k unrolled by 4 into 4
//     accumulators, then beta, bias, residual and the activation (the same
//     definition as the tiles') and a strided store down the column of C.
// Both read each packed float once: they are bound by memory, not FMAs.
// The partial sums are added in a fixed order, so the result does not
// depend on the threaded split (sgemm.cpp cuts these shapes at multiples of
// 192 rows or columns: whole panels of 12 and 32).
#pragma once
#include "kernels/sgemm_avx512_tile.h"

namespace loadrun {
namespace kernels {
namespace {

template <class V>
struct Gemv16 {
  using Reg = typename V::Reg;

  // c[0, n) = x[0, k) . packed B (panels of 32 columns), finished by st.
  static void packed_b_row(int64_t n, int64_t k, const float* x, const float* pb, float* c,
                           const TileStore16& st) {
    for (int64_t j0 = 0; j0 < n; j0 += kNR16) {
      const float* b = pb + (j0 / kNR16) * k * kNR16;
      Reg lo[4], hi[4];
      for (int u = 0; u < 4; ++u) lo[u] = hi[u] = V::zero();
      int64_t p = 0;
      for (; p + 4 <= k; p += 4) {
#pragma GCC unroll 4
        for (int u = 0; u < 4; ++u) {
          const Reg xv = V::set1(x[p + u]);
          const float* bp = b + (p + u) * kNR16;
          lo[u] = V::fmadd(xv, V::loadu(bp), lo[u]);
          hi[u] = V::fmadd(xv, V::loadu(bp + 16), hi[u]);
        }
      }
      for (; p < k; ++p) {
        const Reg xv = V::set1(x[p]);
        lo[0] = V::fmadd(xv, V::loadu(b + p * kNR16), lo[0]);
        hi[0] = V::fmadd(xv, V::loadu(b + p * kNR16 + 16), hi[0]);
      }
      const Reg v0 = V::add(V::add(lo[0], lo[1]), V::add(lo[2], lo[3]));
      const Reg v1 = V::add(V::add(hi[0], hi[1]), V::add(hi[2], hi[3]));
      const int64_t nr = n - j0 < kNR16 ? n - j0 : kNR16;
      store_row16<V>(c + j0, v0, v1, V::tail(nr), V::tail(nr - 16), nr, st, 0, j0);
    }
  }

  // c[i * ldc] (i < m) = row i of a packed A (panels of 12 rows) . x[0, k),
  // then beta, ep (bias, residual, activation).
  static void packed_a_col(int64_t m, int64_t k, const float* pa, const float* x, float beta,
                           float* c, int64_t ldc, const Epilogue& ep, ActRowFn act_row) {
    const typename V::Mask panel = V::tail(kMR16);
    alignas(64) float t[16];
    for (int64_t i0 = 0; i0 < m; i0 += kMR16) {
      const float* a = pa + (i0 / kMR16) * k * kMR16;
      Reg acc[4];
      for (int u = 0; u < 4; ++u) acc[u] = V::zero();
      int64_t p = 0;
      for (; p + 4 <= k; p += 4) {
#pragma GCC unroll 4
        for (int u = 0; u < 4; ++u)
          acc[u] = V::fmadd(V::set1(x[p + u]), V::maskz_loadu(panel, a + (p + u) * kMR16), acc[u]);
      }
      for (; p < k; ++p)
        acc[0] = V::fmadd(V::set1(x[p]), V::maskz_loadu(panel, a + p * kMR16), acc[0]);
      V::storeu(t, V::add(V::add(acc[0], acc[1]), V::add(acc[2], acc[3])));
      const int64_t rows = m - i0 < kMR16 ? m - i0 : kMR16;
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t i = i0 + r;
        float v = t[r];
        if (beta != 0.f) v += beta * c[i * ldc];
        if (ep.bias) v += ep.bias[ep.bias_mode == Epilogue::kPerRow ? i : 0];
        if (ep.residual) v += ep.residual[i * ep.res_ld];
        t[r] = v;
      }
      if (ep.act != Act::kNone) {
        if (act_in_registers(ep.act))
          V::storeu(t, act16<V>(ep.act, V::loadu(t), V::set1(ep.p0), V::set1(ep.p1)));
        else
          act_row(ep.act, t, t, rows, ep.p0, ep.p1);
      }
      for (int64_t r = 0; r < rows; ++r) c[(i0 + r) * ldc] = t[r];
    }
  }
};

}  // namespace
}  // namespace kernels
}  // namespace loadrun
