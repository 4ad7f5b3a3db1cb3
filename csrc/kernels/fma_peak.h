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

#ifdef LOADRUN_X86_KERNELS
// fma_peak_avx2.cpp: `iters` rounds of 12 independent 8-lane FMA chains
// (iters*12*16 flops); returns a value depending on every chain.
float fma_loop_avx2(int64_t iters);
#endif

}  // namespace kernels
}  // namespace loadrun
