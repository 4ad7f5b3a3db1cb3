#include "ops/element_copy.h"

namespace loadrun {

void strided_copy(void* dst, const void* src, DType dt, const Shape& out_shape,
                  const Shape& src_strides, int64_t src_offset) {
  int64_t n = shape_numel(out_shape);
  size_t rank = out_shape.size();
  with_word_type(dt, [&](auto tag) {
    using W = decltype(tag);
    W* y = static_cast<W*>(dst);
    const W* x = static_cast<const W*>(src);
    for (int64_t i = 0; i < n; ++i) {
      int64_t rem = i, off = src_offset;
      for (size_t d = rank; d-- > 0;) {
        off += (rem % out_shape[d]) * src_strides[d];
        rem /= out_shape[d];
      }
      y[i] = x[off];
    }
  });
}

void scalar_as(const Tensor& v, DType dt, void* out) {
  LR_CHECK(v.numel() == 1, ModelError, "expected a single value, got shape ", shape_str(v.shape()));
  if (v.dtype() == dt) {
    std::memcpy(out, v.raw(), dtype_size(dt));
    return;
  }
  switch (dt) {
    case DType::Float16: {
      uint16_t h = float_to_half(static_cast<float>(v.get_f64(0)));
      std::memcpy(out, &h, 2);
      return;
    }
    case DType::Bool: {
      uint8_t b = v.get_f64(0) != 0 ? 1 : 0;
      std::memcpy(out, &b, 1);
      return;
    }
    default: break;
  }
  if (dtype_is_float(dt)) {
    LR_DISPATCH_FLOAT(dt, "scalar", *static_cast<T*>(out) = static_cast<T>(v.get_f64(0)));
  } else {
    LR_DISPATCH_NUMERIC(dt, "scalar", *static_cast<T*>(out) = static_cast<T>(v.get_i64(0)));
  }
}

void fill_elements(void* dst, const void* value, DType dt, int64_t n) {
  with_word_type(dt, [&](auto tag) {
    using W = decltype(tag);
    W w;
    std::memcpy(&w, value, sizeof(W));
    W* y = static_cast<W*>(dst);
    for (int64_t i = 0; i < n; ++i) y[i] = w;
  });
}

}  // namespace loadrun
