// The direct small-input-channel convolution kernel (conv_small_ic.h) of
// every ISA level this CPU runs (each distinct table once: portable, avx2 /
// neon) against a double-precision direct convolution: 1, 3 and 4 input
// channels, output-channel counts around the 6-channel block (1, 5, 6, 7,
// 13), 3x3, 7x7 and 3x5 kernels, stride 1 and 2, pads 0..3, output widths
// around the 16-column tile (1, 5, 15, 16, 17, 33), with and without a
// residual, each activation in turn. The planes are built with dwconv_fill
// as the operator builds them (its deinterleave is checked in
// test_kernels_dwconv); plane columns that no stored output reads hold NaN
// (the tile computes them and must drop them), and the output is followed
// by a sentinel.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "expect.h"
#include "kernels/conv_small_ic.h"
#include "kernels/dwconv.h"
#include "kernels/kernel_table.h"

using namespace loadrun;
using namespace loadrun::kernels;

namespace {

uint32_t g_seed = 11;
float rnd() {
  g_seed = g_seed * 1664525u + 1013904223u;
  return static_cast<float>(g_seed >> 8) / 16777216.f * 2.f - 1.f;
}
const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kSentinel = 12345.f;

void run_case(const ConvSmallIcImpl& t, const char* level, int64_t ic, int64_t oc, int64_t kh,
              int64_t kw, int64_t s, int64_t oh, int64_t ow, int64_t pad, bool residual, Act act) {
  const int64_t ph = std::min(pad, kh - 1), pw = std::min(pad, kw - 1);
  const int64_t ih = (oh - 1) * s + kh - 2 * ph, iw = (ow - 1) * s + kw - 2 * pw;
  if (ih < 1 || iw < 1) return;
  ++g_cases;
  std::vector<float> x(ic * ih * iw), w(oc * ic * kh * kw), bias(oc), res(oc * oh * ow);
  for (float& v : x) v = rnd();
  for (float& v : w) v = rnd();
  for (float& v : bias) v = rnd();
  for (float& v : res) v = rnd();
  SmallIcGeo g{ic, oc, kh, kw, s, oh, ow, conv_small_ic_rows(kh, s, ih, ph, oh),
               conv_small_ic_pitch(kw, s, iw, pw, ow)};
  const int64_t plane = g.rows * g.ld;
  std::vector<float> planes(ic * s * plane, 0.f);
  // NaN past the columns a stored output reads (and past the input).
  const int64_t used = ow + (kw - 1) / s, filled = (pw + iw + s - 1) / s;
  for (int64_t c = 0; c < ic * s; ++c)
    for (int64_t r = 0; r < g.rows; ++r)
      for (int64_t q = std::max(used, filled); q < g.ld; ++q) planes[(c * g.rows + r) * g.ld + q] = kNaN;
  for (int64_t c = 0; c < ic; ++c) {
    float* p0 = &planes[c * s * plane];
    dwconv_fill(int(s), &x[c * ih * iw], ih, iw, ph, pw, g.rows, g.ld, p0, s == 2 ? p0 + plane : nullptr);
  }
  std::vector<float> wp(conv_small_ic_packed_floats(oc, ic, kh, kw));
  conv_small_ic_pack(w.data(), oc, ic, kh, kw, wp.data());
  Epilogue ep;
  ep.bias = bias.data();
  ep.residual = residual ? res.data() : nullptr;
  ep.act = act;
  if (act == Act::kClip) ep.p0 = -0.3f, ep.p1 = 0.4f;
  if (act == Act::kLeakyRelu) ep.p0 = 0.1f;
  std::vector<float> y(oc * oh * ow + 1, kNaN);
  y.back() = kSentinel;
  t.conv(g, planes.data(), wp.data(), ep, y.data());
  for (int64_t o = 0; o < oc; ++o)
    for (int64_t r = 0; r < oh; ++r)
      for (int64_t c = 0; c < ow; ++c) {
        double acc = bias[o], mag = std::fabs(bias[o]);
        const int64_t yi = (o * oh + r) * ow + c;
        if (residual) acc += res[yi], mag += std::fabs(res[yi]);
        for (int64_t ci = 0; ci < ic; ++ci)
          for (int64_t i = 0; i < kh; ++i)
            for (int64_t j = 0; j < kw; ++j) {
              const int64_t xr = r * s + i - ph, xc = c * s + j - pw;
              if (xr < 0 || xr >= ih || xc < 0 || xc >= iw) continue;
              const double pr = double(w[((o * ic + ci) * kh + i) * kw + j]) * x[(ci * ih + xr) * iw + xc];
              acc += pr;
              mag += std::fabs(pr);
            }
        const double want = activate<double>(act, acc, ep.p0, ep.p1);
        if (!(std::fabs(y[yi] - want) <= 1e-5 * (mag + 1))) {
          char buf[240];
          std::snprintf(buf, sizeof buf,
                        "ic=%lld oc=%lld k=%lldx%lld s=%lld oh=%lld ow=%lld pad=%lld res=%d act=%d "
                        "y[%lld](%lld,%lld)=%.7g want %.7g",
                        (long long)ic, (long long)oc, (long long)kh, (long long)kw, (long long)s,
                        (long long)oh, (long long)ow, (long long)pad, int(residual), int(act),
                        (long long)o, (long long)r, (long long)c, y[yi], want);
          return fail(level, buf);
        }
      }
  if (y.back() != kSentinel) fail(level, "write past the output");
}

}  // namespace

int main() {
  std::vector<const ConvSmallIcImpl*> tested;
  const Act acts[] = {Act::kNone, Act::kRelu, Act::kRelu6, Act::kClip, Act::kLeakyRelu,
                      Act::kHardSwish, Act::kSigmoid, Act::kGelu};
  const int64_t kernels[][2] = {{3, 3}, {7, 7}, {3, 5}};
  for (IsaLevel level : isa_levels_supported()) {
    const ConvSmallIcImpl& t = kernel_table_for(level).conv_small_ic;
    bool seen = false;
    for (const ConvSmallIcImpl* o : tested) seen = seen || o->conv == t.conv;
    if (seen) continue;
    tested.push_back(&t);
    const char* name = isa_level_name(level);
    int idx = 0;
    for (int64_t ic : {1, 3, 4})
      for (const auto& k : kernels)
        for (int64_t s : {1, 2})
          for (int64_t ow : {1, 5, 15, 16, 17, 33}) {
            const int64_t ocs[] = {1, 5, 6, 7, 13};
            run_case(t, name, ic, ocs[idx % 5], k[0], k[1], s, 1 + idx % 3, ow, idx % 4,
                     idx % 3 == 1, acts[idx % 8]);
            ++idx;
          }
    std::printf("%s: tested\n", name);
  }
  std::printf("%d cases, %d failures\n", g_cases, g_failures);
  return g_failures ? 1 : 0;
}
