// Single-precision GEMM for MatMul, Gemm and convolution, behind one
// interface: C = alpha * op(A) * op(B) + beta * C, then an epilogue (bias and
// activation) applied while the block is still in cache. All matrices are
// row-major with leading dimensions; op(X) is X or X^T. The implementation
// (portable C++ or AVX2+FMA) is the one of kernel_table() (kernel_table.h).
//
// Weights can be packed once (Algo::preprocess) and reused: pack_a for a
// constant left operand (conv filters: M = output channels), pack_b for a
// constant right operand (MatMul/Gemm weights). Packed buffers are opaque and
// only valid for the implementation that packed them.
//
// Threads: given a CompNode with several threads, a GEMM big enough (about
// kSgemmMacsPerThread multiply-adds per thread or more) is cut into slices of
// C's rows or columns, one per thread (sgemm.cpp); K is never split, so every
// element is computed by the same instructions in the same order and the
// result is bit-identical to the one-thread run. Null: the caller's thread.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/activation.h"

namespace loadrun {
class CompNode;
namespace kernels {

struct Epilogue {
  enum BiasMode : uint8_t { kPerRow, kPerCol };
  const float* bias = nullptr;  // null: no bias
  BiasMode bias_mode = kPerRow;  // per row of C (conv: per output channel) or per column
  Act act = Act::kNone;       // activation.h
  float p0 = 0.f, p1 = 0.f;  // its parameters (activation.h)
  // Residual (fused Add, e.g. ResNet's shortcut): added after the bias and
  // before the activation; C(i, j) of the whole output (the row0/col0
  // coordinates below) gets residual[i * res_ld + j]. Null: none.
  const float* residual = nullptr;
  int64_t res_ld = 0;
  bool empty() const { return !bias && !residual && act == Act::kNone; }
};

// Applies ep to the block c[m x n] (leading dim ldc) whose top-left element
// is (row0, col0) of the whole output (that selects the bias entries).
void apply_epilogue(const Epilogue& ep, float* c, int64_t ldc, int64_t m, int64_t n,
                    int64_t row0 = 0, int64_t col0 = 0);
// The epilogue's activation, scalar (activation.h's definition).
inline float apply_act(const Epilogue& ep, float v) { return activate(ep.act, v, ep.p0, ep.p1); }

// beta == 0: C is only written (it may hold garbage, even NaN, before).
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc, const Epilogue& ep = {}, CompNode* cn = nullptr);

size_t sgemm_packed_a_floats(int64_t m, int64_t k);
void sgemm_pack_a(bool trans_a, int64_t m, int64_t k, const float* a, int64_t lda, float* packed);
// C = packed_a * op(B) + beta * C, then ep.
void sgemm_packed_a(bool trans_b, int64_t m, int64_t n, int64_t k, const float* packed_a,
                    const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
                    const Epilogue& ep = {}, CompNode* cn = nullptr);

size_t sgemm_packed_b_floats(int64_t k, int64_t n);
// cn: the packing splits by column panels over its threads (where the format
// allows; the packed bytes are the same).
void sgemm_pack_b(bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb, float* packed,
                  CompNode* cn = nullptr);
// C = op(A) * packed_b + beta * C, then ep.
void sgemm_packed_b(bool trans_a, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                    const float* packed_b, float beta, float* c, int64_t ldc,
                    const Epilogue& ep = {}, CompNode* cn = nullptr);

// Multiply-adds per thread below which a GEMM stays on fewer threads.
constexpr int64_t kSgemmMacsPerThread = 1 << 17;

// "avx2_fma" or "portable": the implementation in use.
const char* sgemm_impl_name();

}  // namespace kernels
}  // namespace loadrun
