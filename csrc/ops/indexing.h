// Index helpers for the gather/scatter family (GatherElements, GatherND,
// ScatterElements, ScatterND, TensorScatter, ReverseSequence): reading an
// int32 or int64 index tensor as int64, and wrapping a possibly negative
// index into [0, dim) with a ModelError when it is out of range, so that no
// kernel ever reads or writes outside its tensors.
#pragma once
#include <cstdint>

#include "core/errors.h"
#include "core/tensor.h"

namespace loadrun {

inline bool is_index_dtype(DType dt) { return dt == DType::Int32 || dt == DType::Int64; }

// Element i (contiguous order) of an int32/int64 tensor.
inline int64_t index_at(const Tensor& t, int64_t i) {
  return t.dtype() == DType::Int32 ? static_cast<int64_t>(t.ptr<int32_t>()[i]) : t.ptr<int64_t>()[i];
}

// idx in [-dim, dim) -> [0, dim); ModelError otherwise. `pos` is where the
// index sits in its tensor (for the message).
inline int64_t wrap_index(int64_t idx, int64_t dim, int64_t pos, const char* what = "indices") {
  LR_CHECK(idx >= -dim && idx < dim, ModelError, "index ", idx, " (at position ", pos, " of ", what,
           ") is out of range for a dim of ", dim, " (valid: ", -dim, "..", dim - 1, ")");
  return idx < 0 ? idx + dim : idx;
}

}  // namespace loadrun
