// The NCHWc convolution kernels (conv_nchwc.h), dense and depthwise, b = 4
// and 8, of every ISA level this CPU runs (each distinct table once) against
// a double-precision scalar reference written here on the plain NCHW data:
// channels not a multiple of b and below b, output widths around the tiles
// (1..9, 11-13, 17, 26, 41), strides 1/2/3, pads 0..k/2 (asymmetric end pads through
// the output size), dilation 2, kernels 1x1/3x3/5x5/7x7 and 2x3, bias or
// none, residual or none, activations in turn, and calls on part of the
// blocks and rows. The padded lanes of the input's and residual's last block
// hold NaN, the output is pre-filled with NaN and followed by a sentinel; a
// real lane must match, a padded one must be finite, and outside the asked
// blocks/rows the NaN must stay.
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "expect.h"
#include "kernels/conv_nchwc.h"
#include "kernels/kernel_table.h"

using namespace loadrun;
using namespace loadrun::kernels;

namespace {

uint32_t g_seed = 7;
float rnd() {
  g_seed = g_seed * 1664525u + 1013904223u;
  return static_cast<float>(g_seed >> 8) / 16777216.f * 2.f - 1.f;
}
const float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Case {
  bool dw;
  int64_t b, ic, oc, ih, iw, kh, kw, sh, sw, dh, dw_, ph, pw, pe;  // pe: extra end pad
  bool bias, res;
  Act act;
  bool part;  // compute only part of the blocks / rows
};

// Blocked copy of a plane stack [c][h][w]; padded lanes NaN.
std::vector<float> to_blocked(const std::vector<float>& x, int64_t c, int64_t h, int64_t w,
                              int64_t b) {
  const int64_t cb = (c + b - 1) / b;
  std::vector<float> y(cb * h * w * b, kNaN);
  for (int64_t k = 0; k < c; ++k)
    for (int64_t i = 0; i < h * w; ++i) y[((k / b) * h * w + i) * b + k % b] = x[k * h * w + i];
  return y;
}

void run_case(const ConvNchwcImpl& t, const char* level, const Case& c) {
  ++g_cases;
  NchwcGeo g;
  g.b = c.b;
  g.ic = c.ic;
  g.oc = c.dw ? c.ic : c.oc;
  g.icb = (g.ic + g.b - 1) / g.b;
  g.ocb = (g.oc + g.b - 1) / g.b;
  g.ih = c.ih, g.iw = c.iw, g.kh = c.kh, g.kw = c.kw, g.sh = c.sh, g.sw = c.sw, g.dh = c.dh,
  g.dw = c.dw_, g.ph = c.ph, g.pw = c.pw;
  g.oh = (g.ih + 2 * g.ph + c.pe - g.dh * (g.kh - 1) - 1) / g.sh + 1;
  g.ow = (g.iw + 2 * g.pw + c.pe - g.dw * (g.kw - 1) - 1) / g.sw + 1;
  if (g.oh < 1 || g.ow < 1) return;
  const int64_t icg = c.dw ? 1 : g.ic;
  std::vector<float> x(g.ic * g.ih * g.iw), w(g.oc * icg * g.kh * g.kw), bias(g.oc),
      r(g.oc * g.oh * g.ow);
  for (float& v : x) v = rnd();
  for (float& v : w) v = rnd();
  for (float& v : bias) v = rnd();
  for (float& v : r) v = rnd();
  const std::vector<float> xb = to_blocked(x, g.ic, g.ih, g.iw, g.b);
  const std::vector<float> rb = to_blocked(r, g.oc, g.oh, g.ow, g.b);
  std::vector<float> wp(c.dw ? dwconv_nchwc_packed_floats(g) : conv_nchwc_packed_floats(g));
  if (c.dw)
    dwconv_nchwc_pack(g, w.data(), wp.data());
  else
    conv_nchwc_pack(g, w.data(), wp.data());
  const int64_t ysize = g.ocb * g.oh * g.ow * g.b;
  std::vector<float> y(ysize + 1, kNaN);
  y[ysize] = 12345.f;
  Epilogue ep;
  ep.act = c.act;
  if (c.act == Act::kClip) ep.p0 = -0.3f, ep.p1 = 0.4f;
  if (c.act == Act::kLeakyRelu) ep.p0 = 0.1f;
  int64_t ob0 = 0, ob1 = g.ocb, oh0 = 0, oh1 = g.oh;
  if (c.part) {
    ob0 = g.ocb > 1 ? 1 : 0;
    oh0 = g.oh > 2 ? 1 : 0;
    oh1 = g.oh > 2 ? g.oh - 1 : g.oh;
  }
  ConvNchwcFn fn = c.dw ? t.dw(g.b) : t.dense(g.b);
  fn(g, xb.data(), wp.data(), c.bias ? bias.data() : nullptr, c.res ? rb.data() : nullptr, ep,
     y.data(), ob0, ob1, oh0, oh1);
  char desc[300];
  std::snprintf(desc, sizeof desc,
                "%s b=%lld ic=%lld oc=%lld in=%lldx%lld k=%lldx%lld s=%lld,%lld d=%lld,%lld "
                "p=%lld,%lld+%lld bias=%d res=%d act=%d part=%d",
                c.dw ? "dw" : "dense", (long long)g.b, (long long)g.ic, (long long)g.oc,
                (long long)g.ih, (long long)g.iw, (long long)g.kh, (long long)g.kw,
                (long long)g.sh, (long long)g.sw, (long long)g.dh, (long long)g.dw,
                (long long)g.ph, (long long)g.pw, (long long)c.pe, c.bias, c.res, int(c.act),
                c.part);
  for (int64_t ob = 0; ob < g.ocb; ++ob)
    for (int64_t oh = 0; oh < g.oh; ++oh)
      for (int64_t ow = 0; ow < g.ow; ++ow)
        for (int64_t l = 0; l < g.b; ++l) {
          const float got = y[((ob * g.oh + oh) * g.ow + ow) * g.b + l];
          const int64_t o = ob * g.b + l;
          const bool asked = ob >= ob0 && ob < ob1 && oh >= oh0 && oh < oh1;
          if (!asked) {
            if (!std::isnan(got)) {
              fail(level, std::string(desc) + ": wrote outside the asked blocks/rows");
              return;
            }
            continue;
          }
          if (o >= g.oc) {
            if (!std::isfinite(got)) {
              fail(level, std::string(desc) + ": padded output lane not finite");
              return;
            }
            continue;
          }
          double acc = c.bias ? bias[o] : 0.0, mag = std::fabs(acc);
          const int64_t c0 = c.dw ? o : 0, c1 = c.dw ? o + 1 : g.ic;
          for (int64_t ci = c0; ci < c1; ++ci)
            for (int64_t i = 0; i < g.kh; ++i)
              for (int64_t j = 0; j < g.kw; ++j) {
                const int64_t xr = oh * g.sh - g.ph + i * g.dh, xc = ow * g.sw - g.pw + j * g.dw;
                if (xr < 0 || xr >= g.ih || xc < 0 || xc >= g.iw) continue;
                const double p = double(w[((o * icg + (ci - c0)) * g.kh + i) * g.kw + j]) *
                                 x[(ci * g.ih + xr) * g.iw + xc];
                acc += p;
                mag += std::fabs(p);
              }
          if (c.res) {
            acc += r[(o * g.oh + oh) * g.ow + ow];
            mag += std::fabs(r[(o * g.oh + oh) * g.ow + ow]);
          }
          const double want = activate<double>(c.act, acc, ep.p0, ep.p1);
          if (!(std::fabs(got - want) <= 1e-5 * (mag + 1))) {
            char buf[120];
            std::snprintf(buf, sizeof buf, ": y(c%lld,%lld,%lld)=%.7g want %.7g", (long long)o,
                          (long long)oh, (long long)ow, got, want);
            fail(level, std::string(desc) + buf);
            return;
          }
        }
  if (y[ysize] != 12345.f) fail(level, std::string(desc) + ": write past the output");
}

}  // namespace

int main() {
  std::vector<const ConvNchwcImpl*> tested;
  const Act acts[] = {Act::kNone, Act::kRelu, Act::kRelu6, Act::kClip, Act::kLeakyRelu,
                      Act::kHardSwish, Act::kSigmoid, Act::kGelu};
  const int64_t widths[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 17, 26, 41};
  struct Kern {
    int64_t kh, kw, sh, sw, dh, dw;
  };
  const Kern kerns[] = {{1, 1, 1, 1, 1, 1}, {1, 1, 2, 2, 1, 1}, {3, 3, 1, 1, 1, 1},
                        {3, 3, 2, 2, 1, 1}, {3, 3, 1, 1, 2, 2}, {5, 5, 1, 1, 1, 1},
                        {5, 5, 2, 2, 1, 1}, {7, 7, 2, 2, 1, 1}, {2, 3, 1, 2, 1, 1},
                        {3, 3, 3, 3, 1, 1}, {3, 3, 2, 1, 1, 2}};
  for (IsaLevel level : isa_levels_supported()) {
    const ConvNchwcImpl& t = kernel_table_for(level).conv_nchwc;
    bool seen = false;
    for (const ConvNchwcImpl* o : tested) seen = seen || o->dense8 == t.dense8;
    if (seen) continue;
    tested.push_back(&t);
    const char* name = isa_level_name(level);
    int idx = 0;
    for (bool dw : {false, true})
      for (int64_t b : {4, 8})
        for (const Kern& k : kerns)
          for (int64_t ow : widths) {
            // Channels: below b, a multiple of b, and not one, in turn.
            const int64_t chans[] = {3, b, 2 * b + 3, b + 1, 2 * b};
            Case c;
            c.dw = dw;
            c.b = b;
            c.ic = chans[idx % 5];
            c.oc = chans[(idx + 2) % 5] + (idx % 3 == 0 ? 2 * b : 0);
            c.kh = k.kh, c.kw = k.kw, c.sh = k.sh, c.sw = k.sw, c.dh = k.dh, c.dw_ = k.dw;
            c.ph = idx % (k.kh / 2 + 1);
            c.pw = (idx / 2) % (k.kw / 2 + 1);
            c.pe = idx % 2;
            // Input width giving about `ow` outputs; height a few rows.
            c.iw = std::max<int64_t>(1, (ow - 1) * k.sw + (k.kw - 1) * k.dw + 1 - 2 * c.pw);
            c.ih = std::max<int64_t>(1, (idx % 4 + 1) * k.sh + (k.kh - 1) * k.dh - 2 * c.ph);
            c.bias = idx % 4 != 1;
            c.res = idx % 3 == 1;
            c.act = acts[idx % 8];
            c.part = idx % 5 == 4;
            run_case(t, name, c);
            ++idx;
          }
    std::printf("%s: tested\n", name);
  }
  std::printf("%d cases, %d failures\n", g_cases, g_failures);
  return g_failures ? 1 : 0;
}
