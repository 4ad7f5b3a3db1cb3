// Little-endian primitives of the .lrm format (graph/lrm.h): a growing
// writer and a bounds-checked reader. Every read checks the bytes left
// first, and counts are checked against what the remaining bytes could hold
// before anything is allocated, so a corrupt file cannot make the reader
// run off its buffer or ask for absurd memory.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

#include "core/errors.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .lrm reader and writer copy tensor bytes as they are: little-endian hosts only"
#endif

namespace loadrun {
namespace lrm {

// Tags of the graph records and kinds of the attribute values on disk. The
// numbers are the file format: never renumber, only append.
enum Record : uint8_t { kRecInput = 1, kRecConst = 2, kRecNode = 3, kRecOutput = 4 };
enum AttrTag : uint8_t {
  kAttrInt = 1, kAttrFloat, kAttrString, kAttrInts, kAttrFloats, kAttrStrings, kAttrTensor, kAttrGraph
};
constexpr uint32_t kMaxRank = 64;
constexpr int kMaxDepth = 32;  // subgraphs inside subgraphs

class Writer {
 public:
  void u8(uint8_t v) { s_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void f64(double v) {
    uint64_t b;
    std::memcpy(&b, &v, 8);
    u64(b);
  }
  void count(size_t n) {
    LR_CHECK(n <= 0xffffffffu, ModelError, "a list of ", n, " items is too long for the .lrm format");
    u32(static_cast<uint32_t>(n));
  }
  void str(const std::string& v) {
    count(v.size());
    s_ += v;
  }
  std::string& bytes() { return s_; }

 private:
  std::string s_;
};

// Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF), as
// Python decodes it: names reach Python as str, and error messages quote them.
inline bool valid_utf8(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n;) {
    uint8_t c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (!len || i + len > n) return false;
    uint32_t cp = c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

class Reader {
 public:
  Reader(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  size_t left() const { return n_ - pos_; }
  size_t pos() const { return pos_; }
  uint8_t u8() {
    need(1);
    return p_[pos_++];
  }
  uint32_t u32() {
    need(4);
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(p_[pos_ + i]) << (8 * i);
    pos_ += 4;
    return v;
  }
  uint64_t u64() {
    need(8);
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p_[pos_ + i]) << (8 * i);
    pos_ += 8;
    return v;
  }
  int64_t i64() { return static_cast<int64_t>(u64()); }
  double f64() {
    uint64_t b = u64();
    double v;
    std::memcpy(&v, &b, 8);
    return v;
  }
  // A count of items each taking at least `min_bytes` in what follows.
  size_t count(size_t min_bytes, const char* what) {
    uint32_t n = u32();
    LR_CHECK(min_bytes == 0 || n <= left() / min_bytes, ModelError, "corrupt ", what, " count ", n,
             " (only ", left(), " bytes left)");
    return n;
  }
  std::string str() {
    size_t n = count(1, "string length");
    LR_CHECK(valid_utf8(p_ + pos_, n), ModelError, "the string at structure offset ", pos_,
             " is not valid UTF-8");
    std::string s(reinterpret_cast<const char*>(p_ + pos_), n);
    pos_ += n;
    return s;
  }

 private:
  void need(size_t k) const {
    LR_CHECK(k <= left(), ModelError, "truncated structure (", k, " bytes wanted at offset ", pos_,
             ", ", left(), " left)");
  }
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
};

}  // namespace lrm
}  // namespace loadrun
