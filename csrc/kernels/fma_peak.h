// The machine's measured single-core FMA peak: a loop of independent FMA
// chains (enough of them to cover the FMA latency on every FMA pipe), timed
// many times in short (~4 ms) runs, best kept. The yardstick SGEMM efficiency is quoted against
// (bench/gemm.py); not used by any kernel.
#pragma once
#include <cstdint>

namespace loadrun {
namespace kernels {

struct FmaPeak {
  double gflops = 0;        // best of the timed runs, one thread
  const char* isa = "";     // "avx2_fma" (8-lane FMAs) or "scalar" (portable build/CPU)
};

FmaPeak fma_peak(int repeats = 20);

// The timed loop of one ISA level (kernel_table.h picks it): `iters` rounds
// of independent multiply-add chains, flops_per_iter flops per round; returns
// a value depending on every chain.
struct FmaLoopImpl {
  const char* isa;  // as FmaPeak::isa
  float (*loop)(int64_t iters);
  double flops_per_iter;
};

float fma_loop_portable(int64_t iters);  // 8 scalar chains, 16 flops per round
#ifdef LOADRUN_X86_KERNELS
// fma_peak_avx2.cpp: 12 independent 8-lane FMA chains (12*16 flops per round).
float fma_loop_avx2(int64_t iters);
#endif

}  // namespace kernels
}  // namespace loadrun
