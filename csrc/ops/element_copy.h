// Raw element movement for the data-movement operators (Transpose, Slice,
// Expand, Tile, Pad, ...). They never look at values, so every dtype is moved
// as an unsigned word of the dtype's size: one template instance per size
// (1, 2, 4, 8 bytes) covers all twelve dtypes.
#pragma once
#include <cstdint>
#include <cstring>

#include "core/errors.h"
#include "core/tensor.h"

namespace loadrun {

// Calls f(W{}) with W = uint8_t/uint16_t/uint32_t/uint64_t, the word of dt's size.
template <class F>
void with_word_type(DType dt, F&& f) {
  switch (dtype_size(dt)) {
    case 1: f(uint8_t{}); break;
    case 2: f(uint16_t{}); break;
    case 4: f(uint32_t{}); break;
    case 8: f(uint64_t{}); break;
    default: LR_THROW(InternalError, "no word type for dtype ", dtype_name(dt));
  }
}

// Contiguous dst of out_shape: dst[i] = src[src_offset + sum_d idx_d(i) * src_strides[d]],
// with idx(i) the multi-index of i in out_shape. Strides are in elements and may
// be zero (broadcast) or negative (reversed slice).
void strided_copy(void* dst, const void* src, DType dt, const Shape& out_shape,
                  const Shape& src_strides, int64_t src_offset);

// The element bytes of scalar `v` (one element, any dtype) converted to dtype
// `dt`, written to `out` (dtype_size(dt) bytes). Same dtype copies the bytes.
void scalar_as(const Tensor& v, DType dt, void* out);

// Fills n elements of dtype dt at dst with the element at `value`.
void fill_elements(void* dst, const void* value, DType dt, int64_t n);

}  // namespace loadrun
