// Depthwise plane kernel (dwconv.h) written once over the 16-lane traits V
// (simd16_avx512.h: AVX-512F for the avx512 table; simd16_emu.h: its AVX2
// emulation for the test-only avx512_emu table). Per output row, 32 then 16
// outputs at a time in registers (two accumulators, then one), each tap one
// unaligned load and one FMA with the broadcast weight held in a register
// (K*K of them: 9 or 25 of the 32 zmm). The last partial vector of a row
// uses masked loads and a masked store (V::tail), so nothing past the row's
// window is read or written. Bias and the clamp/select activations are
// applied in registers; transcendental ones run, after the row is stored,
// the standalone activation kernel of the avx2 table (the vector definition
// every x86 level shares, as in sgemm_avx512_tile.h). Specialised for
// k = 3, 5 and s = 1, 2 so the taps unroll. Include only from
// dwconv_avx512.cpp and dwconv_avx512_emu_avx2.cpp: internal linkage.
#pragma once
#include <cstdint>

#include "kernels/dwconv.h"
#include "kernels/eltwise.h"
#include "kernels/sgemm_avx512_tile.h"  // act_in_registers, act16

namespace loadrun {
namespace kernels {
namespace {

template <class V, int K, int S>
void dw_plane16(const float* p0, const float* p1, int64_t ld, const float* w, float bias,
                const Epilogue& ep, float* y, int64_t oh, int64_t ow) {
  using Reg = typename V::Reg;
  using Mask = typename V::Mask;
  Reg wv[K * K];
  for (int t = 0; t < K * K; ++t) wv[t] = V::set1(w[t]);
  const Reg bv = V::set1(bias);
  const bool act_regs = ep.act != Act::kNone && act_in_registers(ep.act);
  const bool act_after = ep.act != Act::kNone && !act_regs;
  const Reg a0p = V::set1(ep.p0), a1p = V::set1(ep.p1);
  auto finish = [&](Reg v) { return act_regs ? act16<V>(ep.act, v, a0p, a1p) : v; };
  // Tap (i, j) of output c reads row(i)[c + j] (stride 1), or, stride 2,
  // even row(i)[c + j/2] for even j and odd row(i)[c + j/2] for odd j.
  auto src = [&](const float* const* e, const float* const* o, int i, int j) {
    return S == 1 ? e[i] + j : (j % 2 == 0 ? e[i] : o[i]) + j / 2;
  };
  for (int64_t r = 0; r < oh; ++r) {
    float* yr = y + r * ow;
    const float* e[K];
    const float* o[K];
    for (int i = 0; i < K; ++i) {
      e[i] = p0 + (r * S + i) * ld;
      o[i] = S == 2 ? p1 + (r * S + i) * ld : nullptr;
    }
    int64_t c = 0;
    for (; c + 32 <= ow; c += 32) {
      Reg acc0 = bv, acc1 = bv;
      for (int i = 0; i < K; ++i)
        for (int j = 0; j < K; ++j) {
          const float* s = src(e, o, i, j) + c;
          acc0 = V::fmadd(wv[i * K + j], V::loadu(s), acc0);
          acc1 = V::fmadd(wv[i * K + j], V::loadu(s + 16), acc1);
        }
      V::storeu(yr + c, finish(acc0));
      V::storeu(yr + c + 16, finish(acc1));
    }
    for (; c < ow; c += 16) {
      const Mask m = V::tail(ow - c);
      Reg acc = bv;
      for (int i = 0; i < K; ++i)
        for (int j = 0; j < K; ++j)
          acc = V::fmadd(wv[i * K + j], V::maskz_loadu(m, src(e, o, i, j) + c), acc);
      V::mask_storeu(yr + c, m, finish(acc));
    }
    if (act_after) eltwise_avx2_impl().act(ep.act, yr, yr, ow, ep.p0, ep.p1);
  }
}

template <class V>
void dw_plane16_any(int k, int s, const float* p0, const float* p1, int64_t ld, const float* w,
                    float bias, const Epilogue& ep, float* y, int64_t oh, int64_t ow) {
  if (k == 3 && s == 1) return dw_plane16<V, 3, 1>(p0, p1, ld, w, bias, ep, y, oh, ow);
  if (k == 3 && s == 2) return dw_plane16<V, 3, 2>(p0, p1, ld, w, bias, ep, y, oh, ow);
  if (k == 5 && s == 1) return dw_plane16<V, 5, 1>(p0, p1, ld, w, bias, ep, y, oh, ow);
  if (k == 5 && s == 2) return dw_plane16<V, 5, 2>(p0, p1, ld, w, bias, ep, y, oh, ow);
  dwconv_plane_portable(k, s, p0, p1, ld, w, bias, ep, y, oh, ow);
}

}  // namespace
}  // namespace kernels
}  // namespace loadrun
