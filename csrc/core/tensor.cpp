#include "core/tensor.h"

#include <unistd.h>
#include <limits>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "core/errors.h"

namespace loadrun {

const char* format_name(Format f) {
  switch (f) {
    case Format::NCHW: return "NCHW";
    case Format::NHWC: return "NHWC";
    case Format::NCHW44: return "NCHW44";
    case Format::NCHW88: return "NCHW88";
  }
  return "?";
}

int64_t shape_numel(const Shape& s) {
  // A count past int64 (a shape from a broken model) saturates instead of
  // overflowing (UB); allocation checks then refuse it.
  int64_t n = 1;
  for (int64_t d : s)
    if (__builtin_mul_overflow(n, d, &n)) return std::numeric_limits<int64_t>::max();
  return n;
}

std::string shape_str(const Shape& s) {
  std::string r = "{";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) r += ",";
    r += std::to_string(s[i]);
  }
  return r + "}";
}

Shape contiguous_strides(const Shape& s) {
  Shape st(s.size());
  // Unsigned: a shape too large for int64 wraps here (defined) and is
  // refused where its size is checked, instead of overflowing (UB).
  uint64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    st[i] = static_cast<int64_t>(acc);
    acc *= static_cast<uint64_t>(s[i]);
  }
  return st;
}

Layout::Layout(Shape s, DType dt) : shape(std::move(s)), dtype(dt) {
  strides = contiguous_strides(shape);
}

bool Layout::is_contiguous() const { return strides == contiguous_strides(shape); }

std::string Layout::str() const {
  static const char* kMgbNames[kNumDTypes] = {"Float32", "Float16", "Float64", "Int8",
                                              "Uint8",   "Int16",   "Uint16",  "Int32",
                                              "Uint32",  "Int64",   "Uint64",  "Bool",
                                              "BFloat16", "Float8E4M3FN", "Float8E4M3FNUZ",
                                              "Float8E5M2", "Float8E5M2FNUZ", "Float8E8M0",
                                              "Int4", "Uint4", "Int2", "Uint2", "Float4E2M1"};
  std::ostringstream os;
  os << "{";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) os << ",";
    os << shape[i] << "(" << (i < strides.size() ? strides[i] : 0) << ")";
  }
  os << " " << kMgbNames[static_cast<int>(dtype)] << "}";
  return os.str();
}

// Bytes of RAM (0 when unknown): no single buffer can be larger.
static uint64_t physical_memory() {
  static const uint64_t bytes = [] {
    long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGE_SIZE);
    return pages > 0 && size > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(size) : 0;
  }();
  return bytes;
}

std::shared_ptr<uint8_t> alloc_aligned(size_t bytes) {
  // Checked before the allocation: with overcommit a huge one may succeed and
  // the memset below would bring the OOM killer instead of an error.
  uint64_t ram = physical_memory();
  LR_CHECK(bytes < (size_t{1} << 62) && (ram == 0 || bytes <= ram), ResourceError, "cannot allocate ",
           bytes, " bytes: more than this machine's memory (", ram, " bytes)");
  size_t n = (bytes + 63) / 64 * 64;
  if (n == 0) n = 64;
  void* p = std::aligned_alloc(64, n);
  if (!p) LR_THROW(ResourceError, "out of memory allocating ", bytes, " bytes");
  std::memset(p, 0, n);
  return std::shared_ptr<uint8_t>(static_cast<uint8_t*>(p), [](uint8_t* q) { std::free(q); });
}

Tensor::Tensor(const Layout& layout) : layout_(layout) {
  layout_.strides = contiguous_strides(layout_.shape);
  storage_ = alloc_aligned(layout_.nbytes());
}

Tensor Tensor::borrow(const Layout& layout, void* data) {
  Tensor t;
  t.layout_ = layout;
  t.storage_ = std::shared_ptr<uint8_t>(static_cast<uint8_t*>(data), [](uint8_t*) {});
  return t;
}

Tensor Tensor::view(const Layout& layout, const std::shared_ptr<uint8_t>& storage, size_t offset) {
  Tensor t;
  t.layout_ = layout;
  t.storage_ = storage;
  t.offset_ = offset;
  return t;
}

Tensor Tensor::clone() const {
  Tensor t(layout_);
  if (nbytes()) std::memcpy(t.raw(), raw(), nbytes());
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  LR_CHECK(src.layout_.same_shape_dtype(layout_), InternalError, "copy_from: layout mismatch ",
           src.layout_.str(), " vs ", layout_.str());
  if (nbytes() && raw() != src.raw()) std::memmove(raw(), src.raw(), nbytes());
}

Tensor Tensor::reshaped(const Shape& s) const {
  LR_CHECK(shape_numel(s) == numel(), InternalError, "reshape ", shape_str(shape()), " to ",
           shape_str(s));
  Tensor t = *this;
  t.layout_.shape = s;
  t.layout_.strides = contiguous_strides(s);
  return t;
}

double Tensor::get_f64(int64_t i) const {
  if (dtype_is_storage_only(dtype())) {
    uint32_t bits = dtype_size(dtype()) == 2 ? ptr<uint16_t>()[i] : ptr<uint8_t>()[i];
    return lowp_to_double(dtype(), bits);
  }
  switch (dtype()) {
    case DType::Float16: return half_to_float(ptr<uint16_t>()[i]);
    case DType::Bool: return ptr<uint8_t>()[i] ? 1.0 : 0.0;
    default: break;
  }
  double v = 0;
  LR_DISPATCH_NUMERIC(dtype(), "get_f64", v = static_cast<double>(ptr<T>()[i]));
  return v;
}

void Tensor::set_f64(int64_t i, double v) {
  switch (dtype()) {
    case DType::Float16: ptr<uint16_t>()[i] = float_to_half(static_cast<float>(v)); return;
    case DType::Bool: ptr<uint8_t>()[i] = v != 0.0; return;
    default: break;
  }
  LR_DISPATCH_NUMERIC(dtype(), "set_f64", ptr<T>()[i] = static_cast<T>(v));
}

int64_t Tensor::get_i64(int64_t i) const {
  if (dtype_is_storage_only(dtype())) {
    double v = get_f64(i);
    return std::isfinite(v) ? static_cast<int64_t>(v) : 0;
  }
  switch (dtype()) {
    case DType::Float16: return static_cast<int64_t>(half_to_float(ptr<uint16_t>()[i]));
    case DType::Bool: return ptr<uint8_t>()[i] ? 1 : 0;
    default: break;
  }
  int64_t v = 0;
  LR_DISPATCH_NUMERIC(dtype(), "get_i64", v = static_cast<int64_t>(ptr<T>()[i]));
  return v;
}

std::vector<int64_t> Tensor::to_i64_vector() const {
  std::vector<int64_t> r(static_cast<size_t>(numel()));
  for (int64_t i = 0; i < numel(); ++i) r[i] = get_i64(i);
  return r;
}

}  // namespace loadrun
