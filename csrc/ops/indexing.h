// Index helpers for the gather/scatter family (GatherElements, GatherND,
// ScatterElements, ScatterND, TensorScatter, ReverseSequence): reading an
// int32 or int64 index tensor as int64, and wrapping a possibly negative
// index into [0, dim) with a ModelError when it is out of range, so that no
// kernel ever reads or writes outside its tensors.
#pragma once
#include <cstdint>

#include "core/errors.h"
#include "core/tensor.h"
#include "graph/op.h"
#include "ops/common.h"

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

// The *Elements ops' shape rule: data and indices (input 1) share a rank,
// indices is no larger than data off the axis, and constant indices are in
// range along it. Returns the normalised axis.
inline size_t check_elements_indices(const InferCtx& ctx, const Layout& x, const Layout& ind,
                                     int64_t axis) {
  LR_CHECK(x.ndim() >= 1, ModelError, "data must have rank >= 1, got a scalar");
  LR_CHECK(ind.ndim() == x.ndim(), ModelError, "indices ", shape_str(ind.shape),
           " must have the rank of data ", shape_str(x.shape));
  size_t a = static_cast<size_t>(normalize_axis(axis, static_cast<int64_t>(x.ndim())));
  for (size_t d = 0; d < x.ndim(); ++d) {
    LR_CHECK(d == a || ind.shape[d] <= x.shape[d], ModelError, "indices ", shape_str(ind.shape),
             " is larger than data ", shape_str(x.shape), " in dim ", d, " (not the axis)");
  }
  if (const Tensor* v = ctx.value_or_null(1)) {
    for (int64_t i = 0; i < v->numel(); ++i) wrap_index(index_at(*v, i), x.shape[a], i);
  }
  return a;
}

}  // namespace loadrun
