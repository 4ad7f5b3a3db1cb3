// The depthwise plane kernels (dwconv.h) of every ISA level this CPU runs
// (each distinct table once) against a double-precision direct reference:
// k = 3 and 5 (and 7, which every table hands to the portable loop), stride
// 1 and 2, output widths and heights around the vector widths (1..9, 15-17,
// 33), each activation in turn. The padded planes are built here in
// dwconv_fill's layout from an input plane with pads 0..2; plane columns
// past what a stored output reads hold NaN, the output
// is pre-filled with NaN and followed by a sentinel, so a wrong tap, an
// unwritten output or a write past the plane fails. The deinterleave is also
// checked alone on lengths 0..37. The direct 3x3 kernels, stride 1 and 2
// (tables that have one), run on input planes with NaN on both sides, a zero row
// followed by NaN, pads 0..2 on top and left and 0..1 more on the bottom
// and right, output sizes 1..9 by 1..57, so a read outside the input's rows
// or of the wrong column fails.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "expect.h"
#include "kernels/dwconv.h"
#include "kernels/kernel_table.h"

using namespace loadrun;
using namespace loadrun::kernels;

namespace {

uint32_t g_seed = 3;
float rnd() {
  g_seed = g_seed * 1664525u + 1013904223u;
  return static_cast<float>(g_seed >> 8) / 16777216.f * 2.f - 1.f;
}
const float kNaN = std::numeric_limits<float>::quiet_NaN();

void test_deinterleave(const DwconvImpl& t, const char* level) {
  for (int64_t n = 0; n <= 37; ++n) {
    std::vector<float> src(2 * n), e(n + 1, 12345.f), o(n + 1, 12345.f);
    for (float& v : src) v = rnd();
    t.deinterleave(src.data(), n, e.data(), o.data());
    bool ok = e[n] == 12345.f && o[n] == 12345.f;
    for (int64_t i = 0; i < n; ++i) ok = ok && e[i] == src[2 * i] && o[i] == src[2 * i + 1];
    if (!ok) fail(level, ("deinterleave n=" + std::to_string(n)).c_str());
  }
}

// The epilogue of a case: act, with the parameters Clip and LeakyRelu take.
Epilogue epilogue_for(Act act) {
  Epilogue ep;
  ep.act = act;
  if (act == Act::kClip) ep.p0 = -0.3f, ep.p1 = 0.4f;
  if (act == Act::kLeakyRelu) ep.p0 = 0.1f;
  return ep;
}

// An output plane pre-filled with NaN and followed by a sentinel.
std::vector<float> nan_plane(int64_t oh, int64_t ow) {
  std::vector<float> y(oh * ow + 1, kNaN);
  y[oh * ow] = 12345.f;
  return y;
}

// Checks y (oh x ow, from nan_plane) against a double-precision direct k x k
// convolution at stride s of x (ih x iw) with pads (ph, pw) on top and left,
// plus bias and ep's activation; reports the first wrong output, then a write
// past the plane, under `what`.
void check_plane(const char* level, const std::string& what, const float* x, int64_t ih,
                 int64_t iw, int k, int s, int64_t ph, int64_t pw, const float* w, float bias,
                 const Epilogue& ep, const std::vector<float>& y, int64_t oh, int64_t ow) {
  for (int64_t r = 0; r < oh; ++r)
    for (int64_t c = 0; c < ow; ++c) {
      double acc = bias, mag = std::fabs(bias);
      for (int i = 0; i < k; ++i)
        for (int j = 0; j < k; ++j) {
          int64_t xr = r * s + i - ph, xc = c * s + j - pw;
          if (xr < 0 || xr >= ih || xc < 0 || xc >= iw) continue;
          double pr = double(w[i * k + j]) * x[xr * iw + xc];
          acc += pr;
          mag += std::fabs(pr);
        }
      double want = activate<double>(ep.act, acc, ep.p0, ep.p1);
      float got = y[r * ow + c];
      if (!(std::fabs(got - want) <= 1e-5 * (mag + 1))) {
        char buf[96];
        std::snprintf(buf, sizeof buf, " y(%lld,%lld)=%.7g want %.7g", (long long)r,
                      (long long)c, got, want);
        fail(level, (what + buf).c_str());
        return;
      }
    }
  if (y[oh * ow] != 12345.f) fail(level, (what + ": write past the output plane").c_str());
}

// One plane: input ih x iw with pads (ph, pw), output oh x ow.
void run_case(const DwconvImpl& t, const char* level, int k, int s, int64_t oh, int64_t ow,
              int64_t ph, int64_t pw, Act act) {
  ++g_cases;
  const int64_t ih = (oh - 1) * s + k - 2 * ph, iw = (ow - 1) * s + k - 2 * pw;
  if (ih < 1 || iw < 1) return;
  std::vector<float> x(ih * iw);
  for (float& v : x) v = rnd();
  std::vector<float> w(k * k);
  for (float& v : w) v = rnd();
  const float bias = rnd();
  const int64_t ld = dwconv_pitch(k, s, ow), rows = dwconv_rows(k, s, oh);
  std::vector<float> p0(rows * ld, 0.f), p1(s == 2 ? rows * ld : 0, 0.f);
  // The padded plane: zeros where the window reads padding, NaN in columns
  // no stored output reads (dwconv_fill writes only inside the input).
  const int64_t used = s == 1 ? ow + k - 1 : ow + (k - 1) / 2;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t q = used; q < ld; ++q) {
      p0[r * ld + q] = kNaN;
      if (s == 2) p1[r * ld + q] = kNaN;
    }
  // (dwconv_fill's layout, written out directly: dwconv_fill itself runs
  // kernel_table()'s deinterleave, tested separately above.)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t xr = r - ph;
    if (xr < 0 || xr >= ih) continue;
    for (int64_t q = 0; q < used; ++q) {
      if (s == 1) {
        int64_t c = q - pw;
        if (c >= 0 && c < iw) p0[r * ld + q] = x[xr * iw + c];
      } else {
        int64_t ce = 2 * q - pw, co = 2 * q + 1 - pw;
        if (ce >= 0 && ce < iw) p0[r * ld + q] = x[xr * iw + ce];
        if (co >= 0 && co < iw) p1[r * ld + q] = x[xr * iw + co];
      }
    }
  }
  const Epilogue ep = epilogue_for(act);
  std::vector<float> y = nan_plane(oh, ow);
  t.plane(k, s, p0.data(), s == 2 ? p1.data() : nullptr, ld, w.data(), bias, ep, y.data(), oh, ow);
  char what[96];
  std::snprintf(what, sizeof what, "k=%d s=%d oh=%lld ow=%lld pad=%lld,%lld act=%d", k, s,
                (long long)oh, (long long)ow, (long long)ph, (long long)pw, int(act));
  check_plane(level, what, x.data(), ih, iw, k, s, ph, pw, w.data(), bias, ep, y, oh, ow);
}

// 3x3 stride s straight from the input: pads (ph, pw) on top and left and
// (pb, pr) more rows/columns of padding than the window needs below and right.
void run_direct(const DwconvImpl& t, const char* level, int s, int64_t oh, int64_t ow,
                int64_t ph, int64_t pw, int64_t pb, int64_t pr, Act act) {
  ++g_cases;
  const int64_t ih = s * (oh - 1) + 3 - ph - pb, iw = s * (ow - 1) + 3 - pw - pr;
  if (ih < 1 || iw < 1) return;
  const int64_t guard = 24;
  std::vector<float> buf(ih * iw + 2 * guard, kNaN), zero(iw + guard, kNaN);
  float* x = buf.data() + guard;
  for (int64_t i = 0; i < ih * iw; ++i) x[i] = rnd();
  std::fill(zero.begin(), zero.begin() + iw, 0.f);
  float w[9];
  for (float& v : w) v = rnd();
  const float bias = rnd();
  const Epilogue ep = epilogue_for(act);
  std::vector<float> y = nan_plane(oh, ow);
  t.direct3x3(s, x, ih, iw, ph, pw, w, bias, ep, y.data(), oh, ow, zero.data());
  char what[112];
  std::snprintf(what, sizeof what,
                "direct 3x3 s=%d oh=%lld ow=%lld pads=%lld,%lld,+%lld,+%lld act=%d", s,
                (long long)oh, (long long)ow, (long long)ph, (long long)pw, (long long)pb,
                (long long)pr, int(act));
  check_plane(level, what, x, ih, iw, 3, s, ph, pw, w, bias, ep, y, oh, ow);
}

}  // namespace

int main() {
  std::vector<const DwconvImpl*> tested;
  const Act acts[] = {Act::kNone, Act::kRelu, Act::kRelu6, Act::kClip, Act::kLeakyRelu,
                      Act::kHardSwish, Act::kSigmoid, Act::kGelu};
  const int64_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33};
  for (IsaLevel level : isa_levels_supported()) {
    const DwconvImpl& t = kernel_table_for(level).dwconv;
    bool seen = false;
    for (const DwconvImpl* o : tested) seen = seen || o->plane == t.plane;
    if (seen) continue;
    tested.push_back(&t);
    const char* name = isa_level_name(level);
    test_deinterleave(t, name);
    int idx = 0;
    for (int k : {3, 5, 7})
      for (int s : {1, 2})
        for (int64_t oh : {int64_t(1), int64_t(2), int64_t(3), int64_t(4), int64_t(5), int64_t(7),
                           int64_t(8), int64_t(9)})
          for (int64_t ow : sizes) {
            const int64_t pad = idx % 3 <= (k / 2) ? idx % 3 : k / 2;
            run_case(t, name, k, s, oh, ow, pad, (pad + idx) % (k / 2 + 1), acts[idx % 8]);
            ++idx;
          }
    if (t.direct3x3) {
      int d = 0;
      for (int s : {1, 2})
      for (int64_t oh : {1, 2, 3, 4, 5, 7, 9})
        for (int64_t ow : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 33, 40, 57})
          for (int64_t ph = 0; ph <= 2; ++ph)
            for (int64_t pw = 0; pw <= 2; ++pw)
              for (int64_t pb = 0; pb <= 1; ++pb, ++d)
                run_direct(t, name, s, oh, ow, ph, pw, pb, (d / 2) % 2, acts[d % 8]);
    }
    std::printf("%s: tested\n", name);
  }
  std::printf("%d cases, %d failures\n", g_cases, g_failures);
  return g_failures ? 1 : 0;
}
