// lr_run's model-mode files: tensors read from raw .bin (the model's dtype,
// little-endian, shape from the model with one symbolic leading dim taken
// from the file size) or .npy (version 1-3, C order, numeric dtypes), and
// the numpy.allclose-style comparison of an output with a reference.
// Header-only: used by lr_run alone.
#pragma once
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/tensor.h"

namespace loadrun {

inline std::string read_whole_file(const std::string& path) {
  struct stat st;
  LR_CHECK(::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode), InputError, path,
           ": not found (or not a regular file)");
  std::ifstream f(path, std::ios::binary);
  std::string s(static_cast<size_t>(st.st_size), '\0');
  if (!s.empty()) f.read(&s[0], static_cast<std::streamsize>(s.size()));
  LR_CHECK(f && static_cast<size_t>(f.gcount()) == s.size(), InputError, path, ": cannot read");
  return s;
}

// The dtype of a .npy 'descr' ("<f4", "|b1", ...); false for others.
inline bool npy_dtype(const std::string& d, DType* out) {
  static const struct { const char* descr; DType dt; } kMap[] = {
      {"<f4", DType::Float32}, {"<f8", DType::Float64}, {"<f2", DType::Float16},
      {"|i1", DType::Int8},    {"|u1", DType::Uint8},   {"<i2", DType::Int16},
      {"<u2", DType::Uint16},  {"<i4", DType::Int32},   {"<u4", DType::Uint32},
      {"<i8", DType::Int64},   {"<u8", DType::Uint64},  {"|b1", DType::Bool}};
  for (const auto& m : kMap)
    if (d == m.descr) {
      *out = m.dt;
      return true;
    }
  return false;
}

// The text after `key` in a .npy header dict, up to the next `end`.
inline std::string npy_field(const std::string& h, const std::string& key, char open, char end,
                             const std::string& path) {
  size_t k = h.find("'" + key + "'");
  LR_CHECK(k != std::string::npos, InputError, path, ": .npy header has no '", key, "'");
  size_t a = h.find(open, k + key.size() + 2);
  size_t b = a == std::string::npos ? a : h.find(end, a + 1);
  LR_CHECK(b != std::string::npos, InputError, path, ": corrupt .npy header");
  return h.substr(a + 1, b - a - 1);
}

inline Tensor read_npy(const std::string& path, const std::string& bytes) {
  LR_CHECK(bytes.size() >= 10 && bytes.compare(0, 6, "\x93NUMPY") == 0, InputError, path,
           ": not a .npy file");
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t hlen, start;
  if (u[6] == 1) {
    hlen = u[8] | (size_t(u[9]) << 8);
    start = 10;
  } else {
    LR_CHECK(bytes.size() >= 12, InputError, path, ": truncated .npy header");
    hlen = u[8] | (size_t(u[9]) << 8) | (size_t(u[10]) << 16) | (size_t(u[11]) << 24);
    start = 12;
  }
  LR_CHECK(hlen <= bytes.size() - start, InputError, path, ": truncated .npy header");
  std::string h = bytes.substr(start, hlen);
  std::string descr = npy_field(h, "descr", '\'', '\'', path);
  DType dt;
  LR_CHECK(npy_dtype(descr, &dt), InputError, path, ": .npy dtype '", descr, "' is not supported");
  LR_CHECK(npy_field(h, "fortran_order", ':', ',', path).find("False") != std::string::npos,
           InputError, path, ": Fortran-order .npy is not supported");
  Shape s;
  std::string dims = npy_field(h, "shape", '(', ')', path);
  for (size_t i = 0; i < dims.size();) {
    while (i < dims.size() && (dims[i] == ' ' || dims[i] == ',')) ++i;
    if (i == dims.size()) break;
    char* end = nullptr;
    long long d = std::strtoll(dims.c_str() + i, &end, 10);
    LR_CHECK(end != dims.c_str() + i && d >= 0, InputError, path, ": corrupt .npy shape (", dims, ")");
    s.push_back(d);
    i = static_cast<size_t>(end - dims.c_str());
  }
  Layout l(s, dt);
  size_t data = start + hlen;
  LR_CHECK(bytes.size() - data == l.nbytes(), InputError, path, ": .npy of shape ", shape_str(s),
           " should hold ", l.nbytes(), " data bytes, has ", bytes.size() - data);
  Tensor t(l);
  if (l.nbytes()) std::memcpy(t.raw(), bytes.data() + data, l.nbytes());
  return t;
}

// The tensor of `path` (.npy, else raw bytes of `dtype` in `shape`, whose
// leading dim may be -1: the file size decides it).
inline Tensor read_tensor_file(const std::string& path, const std::string& name, DType dtype,
                               const Shape& shape) {
  std::string bytes = read_whole_file(path);
  if (path.size() > 4 && path.compare(path.size() - 4, 4, ".npy") == 0) {
    Tensor t = read_npy(path, bytes);
    LR_CHECK(t.dtype() == dtype, InputError, name, ": ", path, " holds ", dtype_name(t.dtype()),
             ", the model wants ", dtype_name(dtype));
    return t;
  }
  const size_t es = dtype_size(dtype);
  Shape s = shape;
  int64_t rest = 1;
  for (size_t i = 1; i < s.size(); ++i) {
    LR_CHECK(s[i] >= 0, InputError, name, ": dim ", i, " is symbolic: give a .npy file");
    rest *= s[i];
  }
  if (!s.empty() && s[0] < 0) {
    LR_CHECK(rest > 0 && bytes.size() % (es * rest) == 0, InputError, name, ": ", path, " (",
             bytes.size(), " bytes) is not a whole number of ", shape_str(shape), " ",
             dtype_name(dtype), " rows");
    s[0] = static_cast<int64_t>(bytes.size() / (es * rest));
  }
  Layout l(s, dtype);
  LR_CHECK(l.nbytes() == bytes.size(), InputError, name, ": ", path, " has ", bytes.size(),
           " bytes, ", shape_str(s), " of ", dtype_name(dtype), " takes ", l.nbytes());
  Tensor t(l);
  if (l.nbytes()) std::memcpy(t.raw(), bytes.data(), l.nbytes());
  return t;
}

struct Comparison {
  double max_abs = 0, max_rel = 0;
  int64_t bad = 0;
  std::string first_bad;  // "element i: got x, want y", or a shape mismatch
};

// numpy.allclose(out, ref, rtol, atol) element by element, in double.
inline Comparison compare_close(const Tensor& out, const Tensor& ref, double rtol, double atol) {
  Comparison c;
  if (out.shape() != ref.shape() || out.dtype() != ref.dtype()) {
    c.bad = 1;
    c.first_bad = str_cat("shape ", out.layout().str(), ", reference ", ref.layout().str());
    return c;
  }
  for (int64_t i = 0; i < out.numel(); ++i) {
    double o = out.get_f64(i), r = ref.get_f64(i);
    bool ok;
    if (std::isnan(o) || std::isnan(r)) {
      ok = std::isnan(o) && std::isnan(r);
    } else if (std::isinf(o) || std::isinf(r)) {
      ok = o == r;
    } else {
      double d = std::fabs(o - r);
      c.max_abs = std::fmax(c.max_abs, d);
      if (r != 0) c.max_rel = std::fmax(c.max_rel, d / std::fabs(r));
      ok = d <= atol + rtol * std::fabs(r);
    }
    if (!ok && c.bad++ == 0) c.first_bad = str_cat("element ", i, ": got ", o, ", want ", r);
  }
  return c;
}

}  // namespace loadrun
