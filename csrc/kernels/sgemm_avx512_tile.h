// The AVX-512 SGEMM micro-kernel, written once over the 16-lane traits V
// (simd16_avx512.h: real AVX-512F; simd16_emu.h: the same on two __m256 for
// the test-only avx512_emu level). Include only from sgemm_avx512_driver.h.
//
// A tile of R <= 12 rows x 32 columns of C lives in 2R accumulators (24 of
// the 32 zmm registers for a full tile, plus 2 for the B row and one for the
// A broadcast). Per step of k: 2 vector loads of the packed B panel, R
// broadcasts of the packed A panel, 2R FMAs (24 independent chains cover the
// 4-cycle FMA latency on two pipes). 12 rows rather than the 14 the registers
// would hold: the threaded split of sgemm.cpp cuts GEMV-shaped products of a
// packed A at multiples of 192 rows, which must be whole panels. The row
// count is a template parameter, so the last rows of a block run a tile of
// exactly their height instead of a zero-padded 12-row one.
// The store applies alpha, beta (0: C is not read, it may hold NaN), and on
// the last k block the epilogue: bias (per row or per column), residual,
// then the activation. Columns past the matrix edge are masked off (loads and
// stores, lane masks from V::tail), so a partial tile needs no local copy.
// Activations made of clamps and selects are applied in registers here;
// transcendental ones (sigmoid, swish, tanh, gelu) run, after the store, the
// standalone activation kernel of the avx2 table on the row just written (in
// L1): the vector definition every level built on x86 shares (activation.h).
#pragma once
#include <cstdint>

#include "kernels/sgemm.h"

namespace loadrun {
namespace kernels {
namespace {  // internal linkage: each including TU has its own ISA flags

constexpr int64_t kMR16 = 12, kNR16 = 32;  // the micro-tile of C

using ActRowFn = void (*)(Act, const float*, float*, int64_t, float, float);

struct TileStore16 {
  float alpha;
  float beta;          // 0: C is not read
  const Epilogue* ep;  // non-null on the last k block
  ActRowFn act_row;    // the transcendental activations, in place on a row
};

// ep.empty(), here so that no out-of-line copy of a shared inline function
// is ever emitted from these translation units (at -O0 it would be, and the
// linker could pick the AVX-512 copy for code that runs on any CPU).
inline bool epilogue_empty16(const Epilogue& ep) {
  return !ep.bias && !ep.residual && ep.act == Act::kNone;
}

// Whether the tile applies ep's activation in registers (else act_row).
inline bool act_in_registers(Act a) {
  switch (a) {
    case Act::kNone:
    case Act::kRelu:
    case Act::kRelu6:
    case Act::kClip:
    case Act::kLeakyRelu:
    case Act::kHardSigmoid:
    case Act::kHardSwish: return true;
    default: return false;
  }
}

// activation.h's formulas for the activations of act_in_registers, with the
// same operand order as activation_avx2.h (NaN passes through the clamps).
template <class V>
inline typename V::Reg act16(Act a, typename V::Reg v, typename V::Reg p0, typename V::Reg p1) {
  const typename V::Reg zero = V::zero();
  switch (a) {
    case Act::kRelu: return V::blend(V::cmp_nle_uq(v, zero), zero, v);
    case Act::kRelu6: return V::min(V::set1(6.f), V::max(zero, v));
    case Act::kClip: return V::min(p1, V::max(p0, v));
    case Act::kLeakyRelu: return V::blend(V::cmp_ge_oq(v, zero), V::mul(v, p0), v);
    case Act::kHardSigmoid:
      return V::max(V::min(V::fmadd(p0, v, p1), V::set1(1.f)), zero);
    case Act::kHardSwish: {
      const typename V::Reg t = V::mul(V::add(v, V::set1(3.f)), V::set1(1.f / 6.f));
      return V::mul(v, V::max(V::min(t, V::set1(1.f)), zero));
    }
    default: return v;
  }
}

// Row r of a tile: v0, v1 (columns [0, 16), [16, 32)) finished and stored
// into cr under the column masks m0, m1 (nr valid columns).
template <class V>
inline __attribute__((always_inline)) void store_row16(float* cr, typename V::Reg v0,
                                                       typename V::Reg v1, typename V::Mask m0,
                                                       typename V::Mask m1, int64_t nr,
                                                       const TileStore16& s, int64_t row,
                                                       int64_t col) {
  if (s.alpha != 1.f) {
    const typename V::Reg al = V::set1(s.alpha);
    v0 = V::mul(v0, al);
    v1 = V::mul(v1, al);
  }
  if (s.beta == 1.f) {
    v0 = V::add(v0, V::maskz_loadu(m0, cr));
    v1 = V::add(v1, V::maskz_loadu(m1, cr + 16));
  } else if (s.beta != 0.f) {
    const typename V::Reg be = V::set1(s.beta);
    v0 = V::fmadd(be, V::maskz_loadu(m0, cr), v0);
    v1 = V::fmadd(be, V::maskz_loadu(m1, cr + 16), v1);
  }
  bool act_after = false;
  if (s.ep) {
    const Epilogue& ep = *s.ep;
    if (ep.bias) {
      if (ep.bias_mode == Epilogue::kPerRow) {
        const typename V::Reg bv = V::set1(ep.bias[row]);
        v0 = V::add(v0, bv);
        v1 = V::add(v1, bv);
      } else {
        v0 = V::add(v0, V::maskz_loadu(m0, ep.bias + col));
        v1 = V::add(v1, V::maskz_loadu(m1, ep.bias + col + 16));
      }
    }
    if (ep.residual) {
      const float* r = ep.residual + row * ep.res_ld + col;
      v0 = V::add(v0, V::maskz_loadu(m0, r));
      v1 = V::add(v1, V::maskz_loadu(m1, r + 16));
    }
    if (ep.act != Act::kNone) {
      if (act_in_registers(ep.act)) {
        const typename V::Reg p0 = V::set1(ep.p0), p1 = V::set1(ep.p1);
        v0 = act16<V>(ep.act, v0, p0, p1);
        v1 = act16<V>(ep.act, v1, p0, p1);
      } else {
        act_after = true;
      }
    }
  }
  V::mask_storeu(cr, m0, v0);
  V::mask_storeu(cr + 16, m1, v1);
  if (act_after) s.act_row(s.ep->act, cr, cr, nr, s.ep->p0, s.ep->p1);
}

// C tile (R rows x nr <= 32 columns at c) from kc steps of a packed A panel
// (kMR16 floats per step, rows [0, R) used) and a packed B panel (32 floats
// per step). (row0, col0): the tile's place in the whole C (bias, residual).
template <class V, int R>
void tile16(int64_t kc, const float* a, const float* __restrict b, float* c, int64_t ldc,
            int64_t nr, const TileStore16& s, int64_t row0, int64_t col0) {
  static_assert(R >= 1 && R <= kMR16, "tile height");
  using Reg = typename V::Reg;
  Reg acc0[R], acc1[R];
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r) acc0[r] = acc1[r] = V::zero();
  for (int64_t p = 0; p < kc; ++p, a += kMR16, b += kNR16) {
    const Reg b0 = V::loadu(b), b1 = V::loadu(b + 16);
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      const Reg av = V::set1(a[r]);
      acc0[r] = V::fmadd(av, b0, acc0[r]);
      acc1[r] = V::fmadd(av, b1, acc1[r]);
    }
  }
  const typename V::Mask m0 = V::tail(nr), m1 = V::tail(nr - 16);
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r)
    store_row16<V>(c + r * ldc, acc0[r], acc1[r], m0, m1, nr, s, row0 + r, col0);
}

using TileFn16 = void (*)(int64_t, const float*, const float*, float*, int64_t, int64_t,
                          const TileStore16&, int64_t, int64_t);

// tile16<V, rows> for rows in [1, kMR16].
template <class V>
inline TileFn16 tile16_for(int64_t rows) {
  static constexpr TileFn16 kTiles[kMR16] = {
      tile16<V, 1>, tile16<V, 2>,  tile16<V, 3>,  tile16<V, 4>,  tile16<V, 5>,
      tile16<V, 6>, tile16<V, 7>,  tile16<V, 8>,  tile16<V, 9>,  tile16<V, 10>,
      tile16<V, 11>, tile16<V, 12>};
  return kTiles[rows - 1];
}

}  // namespace
}  // namespace kernels
}  // namespace loadrun
