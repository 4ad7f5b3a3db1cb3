// Every SGEMM implementation table (portable, AVX2+FMA where the CPU has it,
// the AVX-512 kernels emulated on AVX2 (the test level avx512_emu) and real
// where the CPU has AVX-512F) and the public dispatch functions against a
// double-precision reference: awkward sizes around the 6x16 and 12x32 tiles
// and the KC/MC/NC blocks of both, transposes, leading dimensions larger than
// the width, beta 0 (C pre-filled with NaN, so an unwritten or wrongly read
// element fails), 1 and 0.5, alpha != 1, every epilogue (bias per row / per
// column, residual, each activation), packed A and packed B, and the GEMV
// shapes (m == 1, n == 1). Elements outside the m x n window of C (the ldc
// padding) must stay untouched. And the slices of packed operands the
// threaded split runs (test_slices).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "expect.h"
#include "kernels/kernel_table.h"
#include "kernels/sgemm.h"
#include "kernels/sgemm_impl.h"

using namespace loadrun;
using namespace loadrun::kernels;

namespace {

uint32_t g_seed = 1;
float rnd() {
  g_seed = g_seed * 1664525u + 1013904223u;
  return static_cast<float>(g_seed >> 8) / 16777216.f * 2.f - 1.f;
}

double act_ref(const Epilogue& ep, double v) {
  switch (ep.act) {
    case Act::kNone: return v;
    case Act::kRelu: return v > 0 ? v : 0;
    case Act::kRelu6: return std::min(std::max(v, 0.0), 6.0);
    case Act::kHardSwish: return v * std::min(std::max(v + 3, 0.0), 6.0) / 6;
    case Act::kSigmoid: return 1 / (1 + std::exp(-v));
    case Act::kClip: return std::min(std::max(v, double(ep.p0)), double(ep.p1));
    case Act::kLeakyRelu: return v >= 0 ? v : v * ep.p0;
    case Act::kHardSigmoid: return std::min(std::max(ep.p0 * v + ep.p1, 0.0), 1.0);
    case Act::kSwish: return v / (1 + std::exp(-ep.p0 * v));
    case Act::kTanh: return std::tanh(v);
    case Act::kGelu: return 0.5 * v * std::erfc(-v / std::sqrt(2.0));
    case Act::kGeluTanh: {
      const double u = std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v);
      return 0.5 * v * (1 + std::tanh(u));
    }
  }
  return v;
}

struct Case {
  int64_t m, n, k;
  bool ta = false, tb = false;
  float alpha = 1.f, beta = 0.f;
  int pad = 0;  // extra leading-dimension elements on A, B and C
  int bias = 0;  // 0 none, 1 per row, 2 per column
  Act act = Act::kNone;
  bool residual = false;  // a fused residual (ld n + 5)
  std::string str() const {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "m=%lld n=%lld k=%lld ta=%d tb=%d alpha=%g beta=%g pad=%d bias=%d act=%d res=%d",
                  (long long)m, (long long)n, (long long)k, ta, tb, alpha, beta, pad, bias, int(act),
                  residual);
    return buf;
  }
};

// s[i][j] = sum_p A(i,p) B(p,j) and m[i][j] = sum_p |A(i,p) B(p,j)|, with
// A(i,p) = a[i*sai + p*sap] and B(p,j) = b[p*sbp + j*sbj]. Optimised even in
// the Debug build, where it would otherwise dominate the test's time.
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("O2")))
#endif
void reference(int64_t m, int64_t n, int64_t k, const float* a, int64_t sai, int64_t sap,
               const float* b, int64_t sbp, int64_t sbj, double* s, double* mag) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0, ms = 0;
      const float* ai = a + i * sai;
      const float* bj = b + j * sbj;
      for (int64_t p = 0; p < k; ++p) {
        double prod = double(ai[p * sap]) * double(bj[p * sbp]);
        acc += prod;
        ms += std::fabs(prod);
      }
      s[i * n + j] = acc;
      mag[i * n + j] = ms;
    }
}

enum class Path { kGemm, kPackedA, kPackedB };

// Runs one case through `impl` (null: the public dispatch functions) by `path`.
void run_case(const SgemmImpl* impl, const char* impl_name, const Case& cs, Path path) {
  ++g_cases;
  const int64_t m = cs.m, n = cs.n, k = cs.k;
  // Stored shapes: A is m x k (k x m transposed), B is k x n (n x k transposed).
  const int64_t a_rows = cs.ta ? k : m, a_cols = cs.ta ? m : k;
  const int64_t b_rows = cs.tb ? n : k, b_cols = cs.tb ? k : n;
  const int64_t lda = a_cols + cs.pad, ldb = b_cols + cs.pad, ldc = n + cs.pad;
  std::vector<float> a(a_rows * lda + 1), b(b_rows * ldb + 1), c(m * ldc + 1), bias;
  for (float& v : a) v = rnd();
  for (float& v : b) v = rnd();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (float& v : c) v = cs.beta == 0.f ? nan : rnd();
  // Padding elements of C get a sentinel that must survive.
  const float sentinel = 12345.f;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = n; j < ldc; ++j) c[i * ldc + j] = sentinel;
  Epilogue ep;
  if (cs.bias) {
    bias.resize(cs.bias == 1 ? m : n);
    for (float& v : bias) v = rnd();
    ep.bias = bias.data();
    ep.bias_mode = cs.bias == 1 ? Epilogue::kPerRow : Epilogue::kPerCol;
  }
  ep.act = cs.act;
  if (cs.act == Act::kClip) ep.p0 = -0.5f, ep.p1 = 0.7f;
  if (cs.act == Act::kLeakyRelu) ep.p0 = 0.1f;
  if (cs.act == Act::kHardSigmoid) ep.p0 = 0.2f, ep.p1 = 0.5f;
  if (cs.act == Act::kSwish) ep.p0 = 1.5f;
  // The implementations' GEMV and k == 0 paths take no residual (sgemm.cpp
  // adds it after them): called directly, only the blocked path gets one.
  const bool residual = cs.residual && (!impl || (m > 1 && n > 1 && k > 0));
  std::vector<float> res;
  if (residual) {
    res.resize(m * (n + 5));
    for (float& v : res) v = rnd();
    ep.residual = res.data();
    ep.res_ld = n + 5;
  }
  const float alpha = path == Path::kGemm ? cs.alpha : 1.f;

  // Reference, in double, with the magnitude of each sum for the tolerance.
  std::vector<double> ref(m * n), mag(m * n);
  reference(m, n, k, a.data(), cs.ta ? 1 : lda, cs.ta ? lda : 1, b.data(), cs.tb ? 1 : ldb,
            cs.tb ? ldb : 1, ref.data(), mag.data());
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double v = alpha * ref[i * n + j], mv = std::fabs(alpha) * mag[i * n + j];
      if (cs.beta != 0.f) {
        v += double(cs.beta) * c[i * ldc + j];
        mv += std::fabs(double(cs.beta) * c[i * ldc + j]);
      }
      if (ep.bias) {
        double bv = ep.bias_mode == Epilogue::kPerRow ? bias[i] : bias[j];
        v += bv;
        mv += std::fabs(bv);
      }
      if (residual) {
        v += res[i * (n + 5) + j];
        mv += std::fabs(res[i * (n + 5) + j]);
      }
      ref[i * n + j] = act_ref(ep, v);
      mag[i * n + j] = mv;
    }

  std::vector<float> packed;
  switch (path) {
    case Path::kGemm:
      if (impl)
        impl->gemm(cs.ta, cs.tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, cs.beta, c.data(),
                   ldc, ep);
      else
        sgemm(cs.ta, cs.tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, cs.beta, c.data(), ldc,
              ep);
      break;
    case Path::kPackedA:
      packed.assign((impl ? impl->packed_a_floats(m, k) : sgemm_packed_a_floats(m, k)) + 1, nan);
      if (impl) {
        impl->pack_a(cs.ta, m, k, a.data(), lda, packed.data());
        impl->packed_a(cs.tb, m, n, k, packed.data(), b.data(), ldb, cs.beta, c.data(), ldc, ep);
      } else {
        sgemm_pack_a(cs.ta, m, k, a.data(), lda, packed.data());
        sgemm_packed_a(cs.tb, m, n, k, packed.data(), b.data(), ldb, cs.beta, c.data(), ldc, ep);
      }
      break;
    case Path::kPackedB:
      packed.assign((impl ? impl->packed_b_floats(k, n) : sgemm_packed_b_floats(k, n)) + 1, nan);
      if (impl) {
        impl->pack_b(cs.tb, k, n, b.data(), ldb, packed.data());
        impl->packed_b(cs.ta, m, n, k, a.data(), lda, packed.data(), cs.beta, c.data(), ldc, ep);
      } else {
        sgemm_pack_b(cs.tb, k, n, b.data(), ldb, packed.data());
        sgemm_packed_b(cs.ta, m, n, k, a.data(), lda, packed.data(), cs.beta, c.data(), ldc, ep);
      }
      break;
  }

  static const char* kPath[] = {"gemm", "packed_a", "packed_b"};
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      float got = c[i * ldc + j];
      bool ok;
      double want;
      if (j >= n) {
        want = sentinel;
        ok = got == sentinel;
      } else {
        want = ref[i * n + j];
        double tol = 2e-6 * (mag[i * n + j] + 1.0) * std::sqrt(double(k) + 1.0) + 1e-6;
        ok = std::fabs(double(got) - want) <= tol;  // false for NaN
      }
      if (!ok) {
        std::fprintf(stderr, "FAIL %s %s %s: C(%lld,%lld) = %.9g, want %.9g\n", impl_name,
                     kPath[int(path)], cs.str().c_str(), (long long)i, (long long)j, got, want);
        ++g_failures;
        return;
      }
    }
  }
}

// Compares c (m x n, ld n) rows [i0, m) and columns [j0, n) with ref.
bool check_window(const char* what, const char* name, const std::vector<float>& c,
                  const std::vector<double>& ref, const std::vector<double>& mag, int64_t m,
                  int64_t n, int64_t k, int64_t i0, int64_t j0) {
  for (int64_t i = i0; i < m; ++i)
    for (int64_t j = j0; j < n; ++j) {
      const double want = ref[i * n + j];
      const double tol = 2e-6 * (mag[i * n + j] + 1.0) * std::sqrt(double(k) + 1.0) + 1e-6;
      if (!(std::fabs(double(c[i * n + j]) - want) <= tol)) {
        std::fprintf(stderr,
                     "FAIL %s %s m=%lld n=%lld k=%lld from (%lld,%lld): C(%lld,%lld) = %.9g, "
                     "want %.9g\n",
                     name, what, (long long)m, (long long)n, (long long)k, (long long)i0,
                     (long long)j0, (long long)i, (long long)j, c[i * n + j], want);
        ++g_failures;
        return false;
      }
    }
  return true;
}

// The threaded split of sgemm.cpp runs an implementation on slices of C:
// rows [i0, m) of a packed A from packed + i0*k (i0 a multiple of mr),
// columns [j0, n) of a packed B from packed + j0*k (j0 a multiple of nr), and
// it cuts GEMV-shaped products (m == 1 or n == 1) at multiples of 192 rows or
// columns, which must therefore be whole panels too. Each slice against the
// reference.
void test_slices(const SgemmImpl& impl, const char* name) {
  constexpr int64_t kGemvUnit = 192;  // sgemm.cpp
  if ((impl.mr > 0 && kGemvUnit % impl.mr) || (impl.nr > 0 && kGemvUnit % impl.nr)) {
    std::fprintf(stderr, "FAIL %s: mr %lld / nr %lld do not divide the GEMV split unit 192\n",
                 name, (long long)impl.mr, (long long)impl.nr);
    ++g_failures;
  }
  const int64_t k = 37, big = 400;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int64_t other : {int64_t(1), int64_t(45)}) {
    for (int side = 0; side < 2; ++side) {  // 0: packed A, rows sliced; 1: packed B, columns
      const int64_t unit = side == 0 ? impl.mr : impl.nr;
      if (unit <= 0) continue;
      const int64_t m = side == 0 ? big : other, n = side == 0 ? other : big;
      std::vector<float> a(m * k), b(k * n), c(m * n);
      for (float& v : a) v = rnd();
      for (float& v : b) v = rnd();
      std::vector<double> ref(m * n), mag(m * n);
      reference(m, n, k, a.data(), k, 1, b.data(), n, 1, ref.data(), mag.data());
      std::vector<float> packed;
      if (side == 0) {
        packed.assign(impl.packed_a_floats(m, k), nan);
        impl.pack_a(false, m, k, a.data(), k, packed.data());
      } else {
        packed.assign(impl.packed_b_floats(k, n), nan);
        impl.pack_b(false, k, n, b.data(), n, packed.data());
      }
      for (int64_t start : {unit, 2 * unit, kGemvUnit}) {
        ++g_cases;
        std::fill(c.begin(), c.end(), nan);
        if (side == 0) {
          impl.packed_a(false, m - start, n, k, packed.data() + start * k, b.data(), n, 0.f,
                        c.data() + start * n, n, Epilogue{});
          check_window("packed_a slice", name, c, ref, mag, m, n, k, start, 0);
        } else {
          impl.packed_b(false, m, n - start, k, a.data(), k, packed.data() + start * k, 0.f,
                        c.data() + start, n, Epilogue{});
          check_window("packed_b slice", name, c, ref, mag, m, n, k, 0, start);
        }
      }
    }
  }
}

void test_impl(const SgemmImpl* impl, const char* name) {
  const int64_t sizes[] = {1, 5, 6, 7, 11, 12, 13, 15, 16, 17, 31, 33, 97, 255};
  const int64_t ks[] = {1, 7, 16, 97, 600};
  const Act acts[] = {Act::kNone,        Act::kRelu,  Act::kRelu6, Act::kHardSwish,
                      Act::kSigmoid,     Act::kClip,  Act::kLeakyRelu, Act::kHardSigmoid,
                      Act::kSwish,       Act::kTanh,  Act::kGelu,  Act::kGeluTanh};
  constexpr int kActs = sizeof(acts) / sizeof(acts[0]);
  const float betas[] = {0.f, 1.f, 0.5f};
  // Every (m, n) pair with a few k, cycling through the other parameters so
  // that each appears with many shapes.
  int idx = 0;
  for (int64_t m : sizes)
    for (int64_t n : sizes)
      for (int64_t k : ks) {
        if (m * n * k > 400000) continue;  // keep the -O0 reference fast
        Case cs{m, n, k};
        cs.ta = idx & 1;
        cs.tb = (idx >> 1) & 1;
        cs.beta = betas[idx % 3];
        cs.alpha = idx % 5 == 0 ? 0.75f : 1.f;
        cs.pad = idx % 4 == 3 ? 3 : 0;
        cs.bias = idx % 7 % 3;
        cs.act = acts[idx % 13 % kActs];
        cs.residual = idx % 5 == 2;
        run_case(impl, name, cs, Path(idx % 3));
        ++idx;
      }
  // Every combination of transposes, beta, bias and activation on shapes that
  // cross the AVX2 KC (512) and MC (96) blocks, and n > 512 (A packed rather than
  // read in place), m % 6 == 2 (the last 8 rows as two 4-row tiles), the
  // AVX-512 KC (256) and MC (144) blocks, m and n one off a 12x32 tile, and
  // k == 1, with ld padding (paths in turn).
  const int64_t shapes[][3] = {{31, 97, 17}, {14, 37, 29},  {100, 9, 530}, {13, 530, 37},
                               {128, 20, 9}, {1, 40, 600},  {45, 1, 600},  {29, 63, 257},
                               {145, 33, 5}, {13, 65, 1},   {2, 3, 300}, {203, 1, 45}};
  for (const auto& sh : shapes)
    for (int t = 0; t < 4; ++t)
      for (float beta : betas)
        for (int bias = 0; bias < 3; ++bias)
          for (Act act : acts) {
            const int path = idx++ % 3;
            Case cs{sh[0], sh[1], sh[2], bool(t & 1), bool(t & 2), 1.f, beta, 2, bias, act};
            if (path == 0) cs.alpha = -1.5f;
            cs.residual = idx % 4 == 1;
            run_case(impl, name, cs, Path(path));
          }
  // k == 0 (C = beta*C, then the epilogue), n past the NC blocks (4080, 4096),
  // m == n == 1.
  for (int path = 0; path < 3; ++path) {
    run_case(impl, name, Case{5, 17, 0, false, false, 1.f, 0.5f, 1, 2, Act::kRelu}, Path(path));
    run_case(impl, name, Case{5, 17, 0, false, false, 1.f, 0.f, 0, 1, Act::kNone}, Path(path));
    run_case(impl, name, Case{7, 4100, 5, false, true, 1.f, 0.5f, 0, 2, Act::kClip}, Path(path));
    run_case(impl, name, Case{3, 4130, 2, true, false, 1.f, 0.f, 1, 1, Act::kGelu, true},
             Path(path));
    run_case(impl, name, Case{1, 1, 33, true, true, 1.f, 1.f, 2, 1, Act::kSigmoid}, Path(path));
    run_case(impl, name, Case{1, 1, 1, false, false, 1.f, 0.f, 0, 2, Act::kNone}, Path(path));
  }
}

}  // namespace

int main() {
  // The table of every level this CPU runs, then the public functions (the
  // level in use, kernel_table()). A level whose SGEMM is one already tested
  // (neon_dotprod = neon) is not run again: under qemu the suite's time is
  // this test's. On an AVX-512 machine both avx512 and avx512_emu run: the
  // same kernel source, real and emulated.
  std::vector<const SgemmImpl*> tested;
  for (IsaLevel level : isa_levels_supported()) {
    const KernelTable& t = kernel_table_for(level);
    bool seen = false;
    for (const SgemmImpl* o : tested)
      seen = seen || (o->gemm == t.sgemm.gemm && o->pack_a == t.sgemm.pack_a);
    if (seen) {
      std::printf("%s: the same SGEMM as a level tested above\n", isa_level_name(level));
      continue;
    }
    tested.push_back(&t.sgemm);
    test_impl(&t.sgemm, isa_level_name(level));
    test_slices(t.sgemm, isa_level_name(level));
  }
  test_impl(nullptr, sgemm_impl_name());
  if (&kernel_table() != &kernel_table_for(isa_level()) ||
      std::strcmp(sgemm_impl_name(), kernel_table().sgemm.name) != 0) {
    std::fprintf(stderr, "FAIL: the public functions do not run kernel_table()\n");
    ++g_failures;
  }
  std::printf("%d cases, %d failures (levels:", g_cases, g_failures);
  for (IsaLevel level : isa_levels_supported()) std::printf(" %s", isa_level_name(level));
  std::printf("; in use: %s)\n", isa_level_name());
  return g_failures ? 1 : 0;
}
