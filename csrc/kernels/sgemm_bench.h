// Timing of the SGEMM in use for one (m, n, k), for bench/gemm.py: C = A*op(B)
// on seeded data, the call repeated until a timed round lasts a few ms, the
// best round kept (the machine is shared and noisy).
#pragma once
#include <cstdint>

namespace loadrun {
namespace kernels {

struct SgemmBench {
  double seconds = 0;      // best wall time of one call
  double gflops = 0;       // 2*m*n*k / seconds
  double cpu_seconds = 0;  // best thread CPU time of one call (time the thread ran:
                           // on a machine shared with other work, closer to the kernel's own speed)
  double cpu_gflops = 0;
};

// trans_b: B stored n x k (a Linear/Gemm weight); packed_b: B packed once
// beforehand (weight preprocess) and sgemm_packed_b timed.
SgemmBench sgemm_bench(int64_t m, int64_t n, int64_t k, bool trans_b, bool packed_b, int rounds);

}  // namespace kernels
}  // namespace loadrun
