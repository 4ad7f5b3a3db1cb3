// Layout (shape, strides, dtype, format) and Tensor (a layout over storage
// that is either owned, aligned to 64 bytes, or borrowed from the caller).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace loadrun {

using Shape = std::vector<int64_t>;

enum class Format : uint8_t { NCHW = 0, NHWC, NCHW44, NCHW88 };
const char* format_name(Format f);

int64_t shape_numel(const Shape& s);
std::string shape_str(const Shape& s);  // "{1,3,224,224}"

struct Layout {
  Shape shape;
  Shape strides;  // in elements
  DType dtype = DType::Float32;
  Format format = Format::NCHW;

  Layout() = default;
  Layout(Shape s, DType dt);  // contiguous
  size_t ndim() const { return shape.size(); }
  int64_t numel() const { return shape_numel(shape); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype); }
  bool is_contiguous() const;
  bool same_shape_dtype(const Layout& o) const { return shape == o.shape && dtype == o.dtype; }
  // megengine style: "{1(150528),3(50176),224(224),224(1) Float32}"
  std::string str() const;
};

Shape contiguous_strides(const Shape& s);

class Tensor {
 public:
  Tensor() = default;
  // Allocates owned, 64-byte aligned, zero-filled storage.
  explicit Tensor(const Layout& layout);
  // Borrows memory the caller keeps alive.
  static Tensor borrow(const Layout& layout, void* data);
  // Shares `base`'s storage at a byte offset (arena placement).
  static Tensor view(const Layout& layout, const std::shared_ptr<uint8_t>& storage, size_t offset);

  const Layout& layout() const { return layout_; }
  const Shape& shape() const { return layout_.shape; }
  DType dtype() const { return layout_.dtype; }
  int64_t numel() const { return layout_.numel(); }
  size_t nbytes() const { return layout_.nbytes(); }
  size_t ndim() const { return layout_.ndim(); }
  bool empty() const { return !storage_; }

  void* raw() const { return storage_.get() + offset_; }
  template <typename T>
  T* ptr() const { return reinterpret_cast<T*>(raw()); }

  Tensor clone() const;              // deep copy into owned storage
  void copy_from(const Tensor& src);  // same shape and dtype, contiguous both
  // Same bytes, another shape (numel must match).
  Tensor reshaped(const Shape& s) const;
  // Element i (contiguous order) read as double / int64, whatever the dtype.
  double get_f64(int64_t i) const;
  // Element i converted from double (float16 rounds, bool is nonzero).
  void set_f64(int64_t i, double v);
  int64_t get_i64(int64_t i) const;
  std::vector<int64_t> to_i64_vector() const;

 private:
  Layout layout_;
  std::shared_ptr<uint8_t> storage_;
  size_t offset_ = 0;
};

std::shared_ptr<uint8_t> alloc_aligned(size_t bytes);

}  // namespace loadrun
