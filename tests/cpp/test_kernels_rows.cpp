// The row kernels of the elementwise table (eltwise.h) that the pooling and
// normalisation operators and the transposes run, for every ISA level this
// CPU runs (each distinct table once: portable, avx2 / neon): layer-norm
// rows against a double-precision reference (lengths 0..13, 31, 64, 1000,
// with and without bias, data offset far from zero so a one-pass variance
// would cancel), max / sum pooling taps at strides 1, 2, 3 on lengths
// around the vector width (NaN in the taps, which max skips, and a NaN
// accumulator, which it keeps), and 32-bit transposes of awkward shapes
// bit-exact (signalling-NaN bit patterns included), each followed by
// sentinels that must survive.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "expect.h"
#include "kernels/eltwise.h"
#include "kernels/kernel_table.h"

using namespace loadrun;
using namespace loadrun::kernels;

namespace {

uint32_t g_seed = 5;
float rnd() {
  g_seed = g_seed * 1664525u + 1013904223u;
  return static_cast<float>(g_seed >> 8) / 16777216.f * 2.f - 1.f;
}
const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kSentinel = 12345.f;

void test_layer_norm(const EltwiseImpl& t, const char* level) {
  for (int64_t n : {0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 31, 64, 1000})
    for (int with_bias = 0; with_bias < 2; ++with_bias) {
      ++g_cases;
      std::vector<float> x(n), scale(n), bias(n), y(n + 1, kNaN);
      for (float& v : x) v = 100.f + rnd();
      for (float& v : scale) v = rnd();
      for (float& v : bias) v = rnd();
      y[n] = kSentinel;
      float mean = kNaN, inv = kNaN;
      const double eps = 1e-5;
      t.layer_norm_row(x.data(), y.data(), n, scale.data(), with_bias ? bias.data() : nullptr, eps,
                       &mean, &inv);
      if (y[n] != kSentinel) fail(level, "layer_norm wrote past the row n=" + std::to_string(n));
      if (n == 0) continue;
      double m = 0, var = 0;
      for (float v : x) m += v;
      m /= double(n);
      for (float v : x) var += (v - m) * (v - m);
      var /= double(n);
      const double iv = 1.0 / std::sqrt(var + eps);
      bool ok = std::fabs(mean - m) <= 2e-6 * std::fabs(m) && std::fabs(inv - iv) <= 2e-4 * iv;
      for (int64_t i = 0; i < n && ok; ++i) {
        const double want = (x[i] - m) * iv * scale[i] + (with_bias ? bias[i] : 0.0);
        // x - mean loses the bits of |x| ~ 100: the bound scales with |x|.
        const double tol = 4e-7 * std::fabs(scale[i]) * iv * (std::fabs(x[i]) + std::fabs(m)) +
                           1e-6 * std::fabs(want) + 1e-6;
        ok = std::fabs(y[i] - want) <= tol;
      }
      if (!ok) fail(level, "layer_norm n=" + std::to_string(n) + " bias=" + std::to_string(with_bias));
    }
}

void test_taps(const EltwiseImpl& t, const char* level) {
  for (int64_t stride : {1, 2, 3})
    for (int64_t n = 0; n <= 19; ++n)
      for (int is_max = 0; is_max < 2; ++is_max) {
        ++g_cases;
        std::vector<float> x(n ? (n - 1) * stride + 1 : 0), acc(n + 1), want(n);
        for (size_t i = 0; i < x.size(); ++i) x[i] = (i % 7 == 3) ? kNaN : rnd();
        for (int64_t o = 0; o < n; ++o) acc[o] = (o % 5 == 4) ? kNaN : rnd();
        acc[n] = kSentinel;
        for (int64_t o = 0; o < n; ++o) {
          const float v = x[o * stride], a = acc[o];
          want[o] = is_max ? (v > a ? v : a) : a + v;
        }
        // An exact-size copy: a tap that reads past the last output's value
        // reads past the vector (ASan / valgrind builds catch it).
        (is_max ? t.row_max_tap : t.row_sum_tap)(acc.data(), x.data(), stride, n);
        bool ok = acc[n] == kSentinel;
        for (int64_t o = 0; o < n; ++o)
          ok = ok && (std::memcmp(&acc[o], &want[o], 4) == 0 ||
                      (std::isnan(acc[o]) && std::isnan(want[o])));
        if (!ok)
          fail(level, std::string(is_max ? "row_max_tap" : "row_sum_tap") +
                          " stride=" + std::to_string(stride) + " n=" + std::to_string(n));
      }
}

void test_transpose(const EltwiseImpl& t, const char* level) {
  for (int64_t rows : {1, 3, 4, 5, 8, 17, 35})
    for (int64_t cols : {1, 2, 4, 7, 16, 33}) {
      ++g_cases;
      const int64_t lds = cols + 3, ldd = rows + 2;
      std::vector<uint32_t> src(rows * lds), dst(cols * ldd + 1, 0xdeadbeefu);
      for (size_t i = 0; i < src.size(); ++i) src[i] = 0x7f800001u + uint32_t(i) * 2654435761u % 977u;
      t.transpose32(reinterpret_cast<const float*>(src.data()), lds,
                    reinterpret_cast<float*>(dst.data()), ldd, rows, cols);
      bool ok = dst.back() == 0xdeadbeefu;
      for (int64_t c = 0; c < cols; ++c)
        for (int64_t r = 0; r < ldd; ++r) {
          const uint32_t want = r < rows ? src[r * lds + c] : 0xdeadbeefu;
          ok = ok && dst[c * ldd + r] == want;
        }
      if (!ok) fail(level, "transpose32 " + std::to_string(rows) + "x" + std::to_string(cols));
    }
}

}  // namespace

int main() {
  std::vector<const EltwiseImpl*> tested;
  for (IsaLevel level : isa_levels_supported()) {
    const EltwiseImpl& t = kernel_table_for(level).eltwise;
    bool seen = false;
    for (const EltwiseImpl* o : tested)  // the same four kernels as a table already tested
      seen = seen || (o->layer_norm_row == t.layer_norm_row && o->row_max_tap == t.row_max_tap &&
                      o->row_sum_tap == t.row_sum_tap && o->transpose32 == t.transpose32);
    if (seen) continue;
    tested.push_back(&t);
    const char* name = isa_level_name(level);
    test_layer_norm(t, name);
    test_taps(t, name);
    test_transpose(t, name);
    std::printf("%s (%s): tested\n", name, t.name);
  }
  std::printf("%d cases, %d failures\n", g_cases, g_failures);
  return g_failures ? 1 : 0;
}
