#include "kernels/sgemm_bench.h"

#include <time.h>

#include <chrono>
#include <vector>

#include "kernels/sgemm.h"

namespace loadrun {
namespace kernels {

SgemmBench sgemm_bench(int64_t m, int64_t n, int64_t k, bool trans_b, bool packed_b,
                       int rounds) {
  std::vector<float> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(k * n)),
      c(static_cast<size_t>(m * n));
  uint32_t s = 12345;
  auto rnd = [&] {
    s = s * 1664525u + 1013904223u;
    return static_cast<float>(s >> 8) / 16777216.f - 0.5f;
  };
  for (float& v : a) v = rnd();
  for (float& v : b) v = rnd();
  const int64_t ldb = trans_b ? k : n;
  std::vector<float> pb;
  if (packed_b) {
    pb.resize(sgemm_packed_b_floats(k, n));
    sgemm_pack_b(trans_b, k, n, b.data(), ldb, pb.data());
  }
  auto call = [&] {
    if (packed_b)
      sgemm_packed_b(false, m, n, k, a.data(), k, pb.data(), 0.f, c.data(), n);
    else
      sgemm(false, trans_b, m, n, k, 1.f, a.data(), k, b.data(), ldb, 0.f, c.data(), n);
  };
  using clock = std::chrono::steady_clock;
  auto secs = [](clock::time_point t0) {
    return std::chrono::duration<double>(clock::now() - t0).count();
  };
  call();  // warm-up: caches, scratch buffers
  int64_t reps = 1;
  for (;;) {  // calls per round: a round of >= 5 ms
    auto t0 = clock::now();
    for (int64_t i = 0; i < reps; ++i) call();
    if (secs(t0) >= 0.005 || reps >= (int64_t(1) << 30)) break;
    reps *= 2;
  }
  auto cpu_now = [] {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  };
  SgemmBench r;
  for (int i = 0; i < (rounds > 0 ? rounds : 1); ++i) {
    double c0 = cpu_now();
    auto t0 = clock::now();
    for (int64_t j = 0; j < reps; ++j) call();
    double t = secs(t0) / double(reps);
    double ct = (cpu_now() - c0) / double(reps);
    if (r.seconds == 0 || t < r.seconds) r.seconds = t;
    if (r.cpu_seconds == 0 || ct < r.cpu_seconds) r.cpu_seconds = ct;
  }
  const double flops = 2.0 * double(m) * double(n) * double(k);
  r.gflops = flops / r.seconds * 1e-9;
  r.cpu_gflops = flops / r.cpu_seconds * 1e-9;
  return r;
}

}  // namespace kernels
}  // namespace loadrun
