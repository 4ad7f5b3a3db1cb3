// Helpers shared by operator files: axis normalisation, NumPy broadcasting,
// and reading small constant inputs (axes, shapes, scales).
#pragma once
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/tensor.h"
#include "fastrun/algo.h"
#include "graph/op.h"
#include "graph/op_registry.h"

namespace loadrun {

// Maps a possibly negative axis into [0, rank); ModelError when out of range.
int64_t normalize_axis(int64_t axis, int64_t rank, const char* what = "axis");

// NumPy broadcast of two or more shapes; ModelError when incompatible.
Shape broadcast_shapes(const std::vector<Shape>& shapes);

// Strides (in elements) for reading `in` as if broadcast to `out`: 0 on
// broadcast dims, and `in` right-aligned to `out`'s rank.
Shape broadcast_strides(const Shape& in, const Shape& out);

// Walks the flat indices of `out_shape` and yields, for each operand, the
// element offset it reads. Used by the NAIVE broadcasting kernels.
class BroadcastIndexer {
 public:
  BroadcastIndexer(const Shape& out_shape, const std::vector<Shape>& in_shapes);
  int64_t numel() const { return numel_; }
  // Offsets of operand k for output element i (contiguous order).
  int64_t offset(size_t k, int64_t i) const;
  // True when every operand has the output's shape (offsets are i).
  bool trivial() const { return trivial_; }

 private:
  Shape out_shape_;
  std::vector<Shape> strides_;
  int64_t numel_;
  bool trivial_;
};

// Integer list from a constant input (int32 or int64) or an empty list if absent.
std::vector<int64_t> ints_of(const InferCtx& ctx, size_t i, const char* what);

// Product of dims [begin, end).
int64_t dims_product(const Shape& s, size_t begin, size_t end);

// ONNX TensorProto.DataType number -> loadrun dtype. False when loadrun lacks
// the type (`name` is then its ONNX name) or it is no ONNX type (`name` null).
// Defined in cast.cpp.
bool dtype_of_onnx(int64_t code, DType* out, const char** name);

// bfloat16 <-> float32. bfloat16 is the top half of a float32, so widening
// is exact; narrowing rounds to nearest even (overflow gives inf) and keeps
// NaN a (quiet) NaN -- bit for bit what lowp_from_double and ml_dtypes give.
inline float bf16_to_float(uint16_t b) {
  uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint16_t float_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

// The low-precision floats kernels compute in float32: float16, bfloat16.
inline bool dtype_is_lowp_float(DType dt) { return dt == DType::Float16 || dt == DType::BFloat16; }
// A float dtype the float kernels take: float32, float64, or a low-precision
// float computed in float32 (through with_f16_as_f32 / run_f16_as_f32).
inline bool dtype_is_compute_float(DType dt) {
  return dt == DType::Float32 || dt == DType::Float64 || dtype_is_lowp_float(dt);
}

// float16 / bfloat16 through a float32 kernel: runs `fn` on a context whose
// float16 and bfloat16 inputs and outputs are float32 copies, then rounds each
// float32 output back to its dtype once (float16 MatMul, Gemm, Conv: computed
// in float32). Same as with_f16_as_f32.
void run_f16_as_f32(const KernCtx& ctx, const std::function<void(const KernCtx&)>& fn);

}  // namespace loadrun

namespace loadrun {

// float16 and bfloat16 support for kernels written for float32/float64: runs
// fn with a copy of ctx whose float16 and bfloat16 inputs and outputs are
// float32 tensors (inputs widened first, outputs rounded back once after).
// Other tensors pass through; with none of these dtypes, fn(ctx) directly.
void with_f16_as_f32(const KernCtx& ctx, const std::function<void(const KernCtx&)>& fn);

// Store v into element i of a float tensor (float16/32/64, bfloat16).
void store_f64(Tensor& t, int64_t i, double v);

// A pre-packed constant GEMM operand as an Algo::preprocess result that
// stands in for input `replaces` (the weights it was packed from).
template <class Packed>
Prepared prepared_packed_b(std::shared_ptr<const Packed> p, int replaces) {
  size_t bytes = p ? p->data.size() * sizeof(p->data[0]) : 0;
  return {std::move(p), bytes, replaces};
}

}  // namespace loadrun
