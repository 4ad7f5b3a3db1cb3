#include "core/dtype.h"

#include "core/errors.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

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
    // storage-only types, named as ml_dtypes names them
    {"bfloat16", 2, true, true},
    {"float8_e4m3fn", 1, true, true},
    {"float8_e4m3fnuz", 1, true, true},
    {"float8_e5m2", 1, true, true},
    {"float8_e5m2fnuz", 1, true, true},
    {"float8_e8m0fnu", 1, true, false},
    {"int4", 1, false, true},
    {"uint4", 1, false, false},
    {"int2", 1, false, true},
    {"uint2", 1, false, false},
    {"float4_e2m1fn", 1, true, true},
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

bool dtype_is_storage_only(DType dt) { return static_cast<int>(dt) > static_cast<int>(DType::Bool); }

namespace {

// A small binary floating-point format: sign bit on top, then `ebits`
// exponent bits (bias `bias`), then `mbits` mantissa bits. How it spends its
// top codes: Ieee (all-ones exponent = inf / NaN), Fn (only the all-ones
// magnitude is NaN, no inf), Fnuz (the "negative zero" code is the only NaN,
// no inf, no -0), None (every code is finite).
enum class Specials { Ieee, Fn, Fnuz, None };
struct FloatFmt {
  int ebits, mbits, bias;
  Specials sp;
  uint32_t max_mag;  // magnitude bits of the largest finite value
};

bool float_fmt(DType dt, FloatFmt* f) {
  switch (dt) {
    case DType::BFloat16: *f = {8, 7, 127, Specials::Ieee, 0x7F7F}; return true;
    case DType::Float8E4M3FN: *f = {4, 3, 7, Specials::Fn, 0x7E}; return true;
    case DType::Float8E4M3FNUZ: *f = {4, 3, 8, Specials::Fnuz, 0x7F}; return true;
    case DType::Float8E5M2: *f = {5, 2, 15, Specials::Ieee, 0x7B}; return true;
    case DType::Float8E5M2FNUZ: *f = {5, 2, 16, Specials::Fnuz, 0x7F}; return true;
    case DType::Float4E2M1: *f = {2, 1, 1, Specials::None, 0x7}; return true;
    default: return false;
  }
}

double fmt_decode(const FloatFmt& f, uint32_t bits) {
  const uint32_t sign_bit = 1u << (f.ebits + f.mbits);
  const uint32_t mag = bits & (sign_bit - 1);
  const uint32_t e = mag >> f.mbits, m = mag & ((1u << f.mbits) - 1);
  const uint32_t e_all = (1u << f.ebits) - 1;
  const bool neg = bits & sign_bit;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (f.sp == Specials::Fnuz && (bits & (2 * sign_bit - 1)) == sign_bit) return nan;
  if (f.sp == Specials::Fn && mag == sign_bit - 1) return nan;
  if (f.sp == Specials::Ieee && e == e_all) {
    if (m) return nan;
    return neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  double v = e == 0 ? std::ldexp(static_cast<double>(m), 1 - f.bias - f.mbits)
                    : std::ldexp(static_cast<double>(m + (1u << f.mbits)), static_cast<int>(e) - f.bias - f.mbits);
  return neg ? -v : v;
}

uint32_t fmt_encode(const FloatFmt& f, double v, bool saturate) {
  const uint32_t sign_bit = 1u << (f.ebits + f.mbits);
  const uint32_t e_all = (1u << f.ebits) - 1;
  const uint32_t sign = std::signbit(v) ? sign_bit : 0;
  // the code an out-of-range value gets
  auto overflow = [&]() -> uint32_t {
    if (saturate || f.sp == Specials::None) return sign | f.max_mag;
    if (f.sp == Specials::Ieee) return sign | (e_all << f.mbits);
    if (f.sp == Specials::Fn) return sign | (sign_bit - 1);
    return sign_bit;  // Fnuz NaN
  };
  if (std::isnan(v)) {
    switch (f.sp) {
      case Specials::Ieee: return sign | (e_all << f.mbits) | (1u << (f.mbits - 1));
      case Specials::Fn: return sign | (sign_bit - 1);
      case Specials::Fnuz: return sign_bit;
      case Specials::None: return sign ^ sign_bit;  // no NaN: ml_dtypes gives a zero of the other sign
    }
  }
  if (std::isinf(v)) return overflow();
  const double a = std::fabs(v);
  const int emin = 1 - f.bias;  // exponent of the smallest normal
  int ex = 0;
  std::frexp(a, &ex);  // a = fr * 2^ex, fr in [0.5, 1)
  int e = a == 0 ? emin : ex - 1;
  if (e < emin) e = emin;  // subnormal: the quantum stays 2^(emin - mbits)
  if (e > 4 * (1 << f.ebits)) return overflow();
  // a / quantum, rounded to nearest even; the carry of a mantissa that rounds
  // up to 2^(mbits+1) moves into the exponent field by itself
  double n = std::nearbyint(std::ldexp(a, f.mbits - e));
  uint64_t mag = (static_cast<uint64_t>(e - emin) << f.mbits) + static_cast<uint64_t>(n);
  if (mag > f.max_mag) return overflow();
  if (mag == 0 && f.sp == Specials::Fnuz) return 0;
  return sign | static_cast<uint32_t>(mag);
}

int int_bits(DType dt, bool* is_signed) {
  switch (dt) {
    case DType::Int4: *is_signed = true; return 4;
    case DType::Uint4: *is_signed = false; return 4;
    case DType::Int2: *is_signed = true; return 2;
    case DType::Uint2: *is_signed = false; return 2;
    default: return 0;
  }
}

}  // namespace

double lowp_to_double(DType dt, uint32_t bits) {
  FloatFmt f;
  if (float_fmt(dt, &f)) return fmt_decode(f, bits);
  if (dt == DType::Float8E8M0) {
    bits &= 0xFF;
    if (bits == 0xFF) return std::numeric_limits<double>::quiet_NaN();
    return std::ldexp(1.0, static_cast<int>(bits) - 127);
  }
  bool sgn = false;
  int nb = int_bits(dt, &sgn);
  if (nb) {
    int32_t v = static_cast<int32_t>(bits & ((1u << nb) - 1));
    if (sgn && (v & (1 << (nb - 1)))) v -= 1 << nb;
    return v;
  }
  return 0;
}

uint32_t lowp_from_double(DType dt, double v, bool saturate) {
  FloatFmt f;
  if (dt == DType::BFloat16) saturate = false;  // IEEE-like: overflow is inf
  if (float_fmt(dt, &f)) return fmt_encode(f, v, saturate);
  if (dt == DType::Float8E8M0) return float8e8m0_from_float(static_cast<float>(v), saturate, E8M0Round::Up);
  bool sgn = false;
  int nb = int_bits(dt, &sgn);
  if (nb) {
    // ONNX leaves float -> integer out of range undefined; loadrun saturates,
    // as it does for every float -> integer Cast (dependency-independent).
    if (std::isnan(v)) return 0;
    double lo = sgn ? -std::ldexp(1.0, nb - 1) : 0.0;
    double hi = sgn ? std::ldexp(1.0, nb - 1) - 1 : std::ldexp(1.0, nb) - 1;
    double t = std::min(std::max(std::trunc(v), lo), hi);
    return static_cast<uint32_t>(static_cast<int64_t>(t)) & ((1u << nb) - 1);
  }
  return 0;
}

uint32_t lowp_wrap_int(DType dt, int64_t v) {
  bool sgn = false;
  int nb = int_bits(dt, &sgn);
  LR_CHECK(nb, InternalError, "lowp_wrap_int: ", dtype_name(dt), " is not a sub-byte integer");
  return static_cast<uint32_t>(static_cast<uint64_t>(v) & ((1u << nb) - 1));
}

uint8_t float8e8m0_from_float(float v, bool saturate, E8M0Round mode) {
  uint32_t x;
  std::memcpy(&x, &v, 4);
  uint32_t e = (x >> 23) & 0xFF;
  if (e == 0xFF) return 0xFF;
  bool up = false;
  if (mode == E8M0Round::Up) {
    up = (x & 0x7FFFFFu) != 0;
  } else if (mode == E8M0Round::Nearest) {
    // guard bit set, and (round bit, sticky bits or a nonzero exponent)
    bool g = x & 0x400000u, r = x & 0x200000u, s = x & 0x1FFFFFu;
    up = g && (r || s || e > 0);
  }
  if (up && saturate && e == 0xFE) up = false;
  return static_cast<uint8_t>(e + (up ? 1 : 0));
}

}  // namespace loadrun
