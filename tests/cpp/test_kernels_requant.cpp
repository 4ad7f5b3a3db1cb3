// The requantisation rows (kernels/requant.h) of every ISA level this CPU
// runs (portable, avx2 on x86; neon under qemu on the aarch64 build) against
// a scalar reference written here, exactly: the same bytes.
// Rows of 0, 1, 2, 3, 5, 8 and 17 pixels (the 2-pixel AVX2 step and its
// tail); s absent, one per pixel and one per lane; int8 and uint8 output;
// multipliers that make halves (0.5, 0.25: ties must go to even), small and
// large ones (saturation at both ends), per-lane multipliers; sums, biases
// and zero-point products that wrap around int32; y zero points at the
// range's ends. The output buffer is pre-filled with a sentinel and the
// byte past the row must keep it.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "expect.h"
#include "kernels/isa.h"
#include "kernels/kernel_table.h"
#include "kernels/requant.h"

using namespace loadrun;
using namespace loadrun::kernels;

namespace {

uint32_t g_seed = 7;
uint32_t rnd() {
  g_seed = g_seed * 1664525u + 1013904223u;
  return g_seed >> 8;
}
int32_t rnd_i32(int mode) {
  const uint32_t r = (rnd() << 8) ^ rnd();
  if (mode == 0) return static_cast<int32_t>(r % 2001) - 1000;  // small: ties at 0.5
  if (mode == 1) return static_cast<int32_t>(r % 200001) - 100000;
  return static_cast<int32_t>(r);  // the whole range: wraps
}

int g_ties = 0;  // elements whose exact value was half-way between integers

uint8_t reference(int32_t acc, const int32_t* s, int l, const Requant4& q) {
  uint32_t a = static_cast<uint32_t>(acc) + static_cast<uint32_t>(q.bias[l]);
  if (s) a -= static_cast<uint32_t>(q.wz[l]) * static_cast<uint32_t>(*s);
  volatile double prod = static_cast<double>(static_cast<int32_t>(a)) * q.mult[l];  // no FMA
  const double exact = prod + q.yzp;
  g_ties += exact - std::floor(exact) == 0.5;
  double v = std::nearbyint(exact);
  v = v < q.lo ? q.lo : v > q.hi ? q.hi : v;
  return q.out_signed ? static_cast<uint8_t>(static_cast<int8_t>(v)) : static_cast<uint8_t>(v);
}

void row_case(IsaLevel level, const KernelTable& t, int64_t npix, int s_mode, bool out_signed,
              int mult_mode, int acc_mode) {
  ++g_cases;
  Requant4 q;
  for (int l = 0; l < 4; ++l) {
    q.bias[l] = acc_mode == 2 ? rnd_i32(2) : rnd_i32(0) / 4;
    q.wz[l] = acc_mode == 2 ? rnd_i32(2) : static_cast<int32_t>(rnd() % 256) - 128;
    static const double kHalves[] = {0.5, 0.25, 1.5, 0.125};
    switch (mult_mode) {
      case 0: q.mult[l] = kHalves[l]; break;
      case 1: q.mult[l] = static_cast<float>(1e-4 + (rnd() % 100000) * 1e-6); break;
      case 2: q.mult[l] = static_cast<float>(0.5 + (rnd() % 1000) * 0.01); break;  // saturates
      default: q.mult[l] = 0.0; break;
    }
  }
  q.out_signed = out_signed;
  q.lo = out_signed ? -128 : 0;
  q.hi = out_signed ? 127 : 255;
  q.yzp = q.lo + static_cast<double>(rnd() % 256);
  if (rnd() % 4 == 0) q.yzp = q.lo;
  std::vector<int32_t> acc(static_cast<size_t>(npix * 4) + 1), s(static_cast<size_t>(npix * 4) + 1);
  for (auto& v : acc) v = rnd_i32(acc_mode);
  for (auto& v : s) v = acc_mode == 2 ? rnd_i32(2) : static_cast<int32_t>(rnd() % 2300);
  const int32_t* sp = s_mode == 0 ? nullptr : s.data();
  const bool per_lane = s_mode == 2;
  std::vector<uint8_t> got(static_cast<size_t>(npix * 4) + 1, 0xA5);
  t.requant.row4(acc.data(), npix, sp, per_lane, q, got.data());
  for (int64_t p = 0; p < npix; ++p)
    for (int l = 0; l < 4; ++l) {
      const int32_t* sv = sp ? sp + (per_lane ? p * 4 + l : p) : nullptr;
      const uint8_t want = reference(acc[p * 4 + l], sv, l, q);
      if (got[p * 4 + l] != want) {
        fail(isa_level_name(level),
             "npix " + std::to_string(npix) + " s_mode " + std::to_string(s_mode) + " signed " +
                 std::to_string(out_signed) + " mult_mode " + std::to_string(mult_mode) +
                 " acc_mode " + std::to_string(acc_mode) + " at " + std::to_string(p) + "." +
                 std::to_string(l) + ": " + std::to_string(got[p * 4 + l]) + " != " +
                 std::to_string(want));
        return;
      }
    }
  if (got[npix * 4] != 0xA5) fail(isa_level_name(level), "wrote past the row");
}

}  // namespace

int main() {
  std::printf("isa level %s\n", isa_level_name());
  for (IsaLevel level : isa_levels_supported()) {
    const KernelTable& t = kernel_table_for(level);
    for (int64_t npix : {0, 1, 2, 3, 5, 8, 17})
      for (int s_mode = 0; s_mode < 3; ++s_mode)
        for (bool sgn : {false, true})
          for (int mult_mode = 0; mult_mode < 4; ++mult_mode)
            for (int acc_mode = 0; acc_mode < 3; ++acc_mode)
              for (int rep = 0; rep < 3; ++rep) row_case(level, t, npix, s_mode, sgn, mult_mode, acc_mode);
    std::printf("requant rows at %s checked\n", isa_level_name(level));
  }
  // The half-way values that round-half-even decides were among them.
  EXPECT(g_ties > 100);
  std::printf("%d cases, %d half-way values\n", g_cases, g_ties);
  return expect_exit("test_kernels_requant OK");
}
