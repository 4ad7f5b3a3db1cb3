// Helpers for operator algorithms built on SGEMM (MatMul, Gemm, convolution):
// a pre-packed constant B operand (Algo::preprocess result), and a packed B
// in the step's workspace when nothing was preprocessed.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/sgemm.h"

namespace loadrun {
namespace kernels {

// `count` packed k x n matrices op(B) (pack_b format of the implementation in
// use), each scaled by alpha.
struct SgemmPackedB {
  std::vector<float> data;
  size_t per_matrix = 0;  // floats per packed matrix
  const float* matrix(int64_t i) const { return data.data() + static_cast<size_t>(i) * per_matrix; }
};

// Matrix i of B is stored at b + i*stride with leading dimension ldb.
std::shared_ptr<const SgemmPackedB> sgemm_pack_b_weights(bool trans_b, int64_t k, int64_t n,
                                                         const float* b, int64_t ldb,
                                                         int64_t count, int64_t stride,
                                                         float alpha);

// Workspace bytes for one packed k x n B, and where in a workspace it goes
// (aligned to 64 bytes).
size_t sgemm_packed_b_workspace(int64_t k, int64_t n);
float* sgemm_workspace_ptr(void* workspace);

}  // namespace kernels
}  // namespace loadrun
