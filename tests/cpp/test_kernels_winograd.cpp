// The Winograd input / output transforms (winograd.h) of every ISA level
// this CPU runs (each distinct table once: portable, avx2 / neon), checked
// as a whole convolution against a double-precision direct one: 3x3, stride
// 1, pads 1, F(4,3) and F(6,3), output planes of 1..13 rows and 1..25
// columns (tile counts that leave every tail of the 4- and 8-tile groups),
// a few input and output channels, each activation in turn. The test does
// the rest of the algorithm itself: U = G g G^T (winograd_filter), the
// per-xi products over channels in double, and the transforms under test in
// between. Padded-plane columns no tile uses hold NaN (a transform that
// reads them, or lets an unused lane leak, fails); the output rows have
// gaps and the transformed buffer a tail that hold a sentinel (a write past
// the plane or the tiles fails).
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "expect.h"
#include "kernels/kernel_table.h"
#include "kernels/winograd.h"

using namespace loadrun;
using namespace loadrun::kernels;

namespace {

uint32_t g_seed = 7;
float rnd() {
  g_seed = g_seed * 1664525u + 1013904223u;
  return static_cast<float>(g_seed >> 8) / 16777216.f * 2.f - 1.f;
}
const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kSentinel = 12345.f;

void run_case(const WinogradImpl& t, const char* level, int m, int64_t ic, int64_t oc, int64_t h,
              int64_t w, Act act) {
  ++g_cases;
  const int T = m + 2, TT = T * T;
  const int64_t th = (h + m - 1) / m, tw = (w + m - 1) / m, nt = th * tw;
  const int64_t rows = th * m + 2, ld = tw * m + 8;  // 8 readable floats from each tile's start
  std::vector<float> x(ic * h * w), g(oc * ic * 9), bias(oc);
  for (float& v : x) v = rnd();
  for (float& v : g) v = rnd() / 3.f;
  for (float& v : bias) v = rnd();
  // Padded planes: input at (r + 1, c + 1), zeros where the tiles read
  // padding, NaN in the columns past the last tile's t.
  std::vector<float> p(ic * rows * ld, 0.f);
  for (int64_t c = 0; c < ic; ++c)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t q = 0; q < ld; ++q) {
        float& d = p[(c * rows + r) * ld + q];
        if (q >= tw * m + 2) d = kNaN;
        else if (r >= 1 && r <= h && q >= 1 && q <= w) d = x[(c * h + r - 1) * w + q - 1];
      }
  std::vector<float> u(TT * oc * ic);  // u[xi][o][c]
  for (int64_t o = 0; o < oc; ++o)
    for (int64_t c = 0; c < ic; ++c) winograd_filter(m, &g[(o * ic + c) * 9], &u[o * ic + c], oc * ic);
  std::vector<float> v(TT * ic * nt + 1, kNaN);  // v[xi][c][tile]
  v.back() = kSentinel;
  for (int64_t c = 0; c < ic; ++c) t.input_tiles(m, &p[c * rows * ld], ld, tw, nt, &v[c * nt], ic * nt);
  if (v.back() != kSentinel) return fail(level, "input transform wrote past its tiles");
  std::vector<float> mm(TT * oc * nt);  // mm[xi][o][tile]
  for (int xi = 0; xi < TT; ++xi)
    for (int64_t o = 0; o < oc; ++o)
      for (int64_t j = 0; j < nt; ++j) {
        double s = 0;
        for (int64_t c = 0; c < ic; ++c)
          s += double(u[(xi * oc + o) * ic + c]) * v[(xi * ic + c) * nt + j];
        mm[(xi * oc + o) * nt + j] = static_cast<float>(s);
      }
  Epilogue ep;
  ep.act = act;
  if (act == Act::kClip) ep.p0 = -0.3f, ep.p1 = 0.4f;
  if (act == Act::kLeakyRelu) ep.p0 = 0.1f;
  const int64_t ldy = w + 3;  // 3 sentinel columns per row
  std::vector<float> y(oc * h * ldy + 1, kSentinel);
  for (int64_t o = 0; o < oc; ++o)
    t.output_tiles(m, &mm[o * nt], oc * nt, tw, nt, bias[o], ep, &y[o * h * ldy], ldy, h, w);
  for (int64_t o = 0; o < oc; ++o)
    for (int64_t r = 0; r < h; ++r) {
      for (int64_t c = w; c < ldy; ++c)
        if (y[(o * h + r) * ldy + c] != kSentinel) return fail(level, "output written past a row");
      for (int64_t c = 0; c < w; ++c) {
        double acc = bias[o], mag = std::fabs(bias[o]);
        for (int64_t ci = 0; ci < ic; ++ci)
          for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j) {
              const int64_t xr = r + i - 1, xc = c + j - 1;
              if (xr < 0 || xr >= h || xc < 0 || xc >= w) continue;
              const double pr = double(g[(o * ic + ci) * 9 + i * 3 + j]) * x[(ci * h + xr) * w + xc];
              acc += pr;
              mag += std::fabs(pr);
            }
        const double want = activate<double>(act, acc, ep.p0, ep.p1);
        const float got = y[(o * h + r) * ldy + c];
        if (!(std::fabs(got - want) <= 1e-4 * (mag + 1))) {
          char buf[200];
          std::snprintf(buf, sizeof buf, "F(%d,3) ic=%lld oc=%lld h=%lld w=%lld act=%d y[%lld](%lld,%lld)=%.7g want %.7g",
                        m, (long long)ic, (long long)oc, (long long)h, (long long)w, int(act),
                        (long long)o, (long long)r, (long long)c, got, want);
          return fail(level, buf);
        }
      }
    }
  if (y.back() != kSentinel) fail(level, "output written past the last plane");
}

}  // namespace

int main() {
  std::vector<const WinogradImpl*> tested;
  const Act acts[] = {Act::kNone, Act::kRelu, Act::kRelu6, Act::kClip, Act::kLeakyRelu,
                      Act::kHardSwish, Act::kSigmoid, Act::kGelu};
  for (IsaLevel level : isa_levels_supported()) {
    const WinogradImpl& t = kernel_table_for(level).winograd;
    bool seen = false;
    for (const WinogradImpl* o : tested) seen = seen || o->input_tiles == t.input_tiles;
    if (seen) continue;
    tested.push_back(&t);
    const char* name = isa_level_name(level);
    int idx = 0;
    for (int m : {4, 6})
      for (int64_t h : {1, 2, 5, 7, 13})
        for (int64_t w : {1, 3, 4, 6, 7, 9, 13, 17, 25}) {
          run_case(t, name, m, 1 + idx % 3, 1 + (idx / 3) % 3, h, w, acts[idx % 8]);
          ++idx;
        }
    std::printf("%s: tested\n", name);
  }
  std::printf("%d cases, %d failures\n", g_cases, g_failures);
  return g_failures ? 1 : 0;
}
