// Portable NCHWc convolution kernels (conv_nchwc.h) and the weight packing
// every ISA shares: the tile code of conv_nchwc_tile.h over a vector of b
// plain floats, whose per-lane loops the compiler vectorises.
#include <algorithm>
#include <cstring>

#include "kernels/activation.h"
#include "kernels/conv_nchwc.h"
#include "kernels/conv_nchwc_tile.h"

namespace loadrun {
namespace kernels {

int64_t conv_nchwc_packed_floats(const NchwcGeo& g) {
  return g.ocb * g.icb * g.kh * g.kw * g.b * g.b;
}

void conv_nchwc_pack(const NchwcGeo& g, const float* w, float* wp) {
  const int64_t b = g.b, taps = g.kh * g.kw;
  std::fill(wp, wp + conv_nchwc_packed_floats(g), 0.f);
  for (int64_t o = 0; o < g.oc; ++o)
    for (int64_t c = 0; c < g.ic; ++c)
      for (int64_t t = 0; t < taps; ++t)
        wp[(((o / b) * g.icb + c / b) * taps + t) * b * b + (c % b) * b + o % b] =
            w[(o * g.ic + c) * taps + t];
}

int64_t dwconv_nchwc_packed_floats(const NchwcGeo& g) { return g.ocb * g.kh * g.kw * g.b; }

void dwconv_nchwc_pack(const NchwcGeo& g, const float* w, float* wp) {
  const int64_t b = g.b, taps = g.kh * g.kw;
  std::fill(wp, wp + dwconv_nchwc_packed_floats(g), 0.f);
  for (int64_t c = 0; c < g.oc; ++c)
    for (int64_t t = 0; t < taps; ++t) wp[((c / b) * taps + t) * b + c % b] = w[c * taps + t];
}

namespace {

// b lanes of plain floats; a mask is 1 in the kept lanes, 0 elsewhere.
template <int kB>
struct Lanes {
  static constexpr int B = kB, kT = 4, kNb = 2, kDwT = 4;
  struct R {
    float v[kB];
  };
  static R zero() {
    R r;
    for (int l = 0; l < kB; ++l) r.v[l] = 0.f;
    return r;
  }
  static R load(const float* p) {
    R r;
    std::memcpy(r.v, p, sizeof r.v);
    return r;
  }
  static R bcast(const float* p) {
    R r;
    for (int l = 0; l < kB; ++l) r.v[l] = *p;
    return r;
  }
  static void store(float* p, const R& r) { std::memcpy(p, r.v, sizeof r.v); }
  static R fma(const R& a, const R& b, R c) {
    for (int l = 0; l < kB; ++l) c.v[l] += a.v[l] * b.v[l];
    return c;
  }
  static R add(R a, const R& b) {
    for (int l = 0; l < kB; ++l) a.v[l] += b.v[l];
    return a;
  }
  static R band(R a, const R& m) {
    for (int l = 0; l < kB; ++l) a.v[l] = m.v[l] != 0.f ? a.v[l] : 0.f;
    return a;
  }
  static R mask(int lanes) {
    R r;
    for (int l = 0; l < kB; ++l) r.v[l] = l < lanes ? 1.f : 0.f;
    return r;
  }
  static R act(const Epilogue& ep, R a) {
    if (ep.act == Act::kNone) return a;
    for (int l = 0; l < kB; ++l) a.v[l] = apply_act(ep, a.v[l]);
    return a;
  }
};

}  // namespace

ConvNchwcImpl conv_nchwc_portable_impl() {
  return {nchwc::dense<Lanes<4>>, nchwc::dense<Lanes<8>>, nchwc::depthwise<Lanes<4>>,
          nchwc::depthwise<Lanes<8>>};
}

}  // namespace kernels
}  // namespace loadrun
