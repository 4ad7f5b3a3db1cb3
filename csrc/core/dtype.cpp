#include "core/dtype.h"

#include <cstring>

namespace loadrun {

namespace {
struct Info {
  const char* name;
  size_t size;
  bool is_float;
  bool is_signed;
};
const Info kInfo[kNumDTypes] = {
    {"float32", 4, true, true}, {"float16", 2, true, true}, {"float64", 8, true, true},
    {"int8", 1, false, true},   {"uint8", 1, false, false}, {"int16", 2, false, true},
    {"uint16", 2, false, false}, {"int32", 4, false, true}, {"uint32", 4, false, false},
    {"int64", 8, false, true},  {"uint64", 8, false, false}, {"bool", 1, false, false},
};
}  // namespace

size_t dtype_size(DType dt) { return kInfo[static_cast<int>(dt)].size; }
const char* dtype_name(DType dt) { return kInfo[static_cast<int>(dt)].name; }
bool dtype_is_float(DType dt) { return kInfo[static_cast<int>(dt)].is_float; }
bool dtype_is_signed(DType dt) { return kInfo[static_cast<int>(dt)].is_signed; }

bool dtype_from_name(const std::string& name, DType* out) {
  for (int i = 0; i < kNumDTypes; ++i) {
    if (name == kInfo[i].name) {
      *out = static_cast<DType>(i);
      return true;
    }
  }
  return false;
}

float half_to_float(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) {  // inf or nan
    return static_cast<uint16_t>(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0));
  }
  if (absx >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow
  if (absx < 0x38800000u) {  // subnormal or zero in half
    if (absx < 0x33000000u) return static_cast<uint16_t>(sign);
    uint32_t e = absx >> 23;
    uint32_t m = (absx & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - e;  // half subnormal mantissa = m * 2^(e-126)
    uint32_t res = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (res & 1))) ++res;  // round to nearest even
    return static_cast<uint16_t>(sign | res);
  }
  uint32_t e = (absx >> 23) - 127 + 15;
  uint32_t m = absx & 0x7fffffu;
  uint32_t res = (e << 10) | (m >> 13);
  uint32_t rem = m & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (res & 1))) ++res;
  return static_cast<uint16_t>(sign | res);
}

}  // namespace loadrun
