// Times the FMA loop of the kernel level in use (fma_peak.h).
#include "kernels/fma_peak.h"

#include <chrono>

#include "kernels/kernel_table.h"

namespace loadrun {
namespace kernels {

namespace {

volatile float g_sink;

}  // namespace

// Portable stand-in: 8 independent scalar multiply-add chains (2 flops each).
float fma_loop_portable(int64_t iters) {
  float a[8] = {1.f, 1.1f, 1.2f, 1.3f, 1.4f, 1.5f, 1.6f, 1.7f};
  const float mul = 0.9999999f, add = 1e-7f;
  for (int64_t i = 0; i < iters; ++i)
    for (int j = 0; j < 8; ++j) a[j] = a[j] * mul + add;
  return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
}

FmaPeak fma_peak(int repeats) {
  FmaPeak r;
  const FmaLoopImpl& impl = kernel_table().fma;
  r.isa = impl.isa;
  const double flops_per_iter = impl.flops_per_iter;
  auto run = [&](int64_t iters) { return impl.loop(iters); };
  int64_t iters = 1 << 16;
  // Grow the loop until one run lasts >= 4 ms: short runs, many of them, so
  // that on a shared machine some run is not interrupted.
  for (;;) {
    auto t0 = std::chrono::steady_clock::now();
    g_sink = run(iters);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s >= 0.004 || iters >= (int64_t(1) << 40)) break;
    iters *= 2;
  }
  for (int i = 0; i < repeats; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    g_sink = run(iters);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double g = flops_per_iter * double(iters) / s * 1e-9;
    if (g > r.gflops) r.gflops = g;
  }
  return r;
}

}  // namespace kernels
}  // namespace loadrun
