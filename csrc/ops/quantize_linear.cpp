// QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear (ONNX).
//   QuantizeLinear:   y = saturate(round_half_even(x / scale) + zero_point)
//   DequantizeLinear: y = (x - zero_point) * scale
// Granularity follows the scale's shape: one value (per tensor), a 1-D
// tensor as long as x's `axis` dim (per axis), or x's shape with the `axis`
// dim divided into blocks of `block_size` (blocked). The zero point has the
// scale's shape and decides the quantized type (else `output_dtype`, else
// uint8). Quantized types: int8, uint8, int16, uint16, int4, uint4, int2,
// uint2 (clamped to their range), float8 e4m3fn / e4m3fnuz / e5m2 / e5m2fnuz
// (rounded to nearest even, out-of-range values clamped when `saturate`,
// else inf / NaN; the zero point is not added, as onnx's reference does) and
// float4e2m1 (x / scale + zero point, rounded, always saturating).
// x / scale is computed in float32 and rounded to the `precision` type (or
// the scale's type: float16 / bfloat16); an int32 scale divides in double.
// Dequantization computes in float32 and rounds once to the output type
// (`output_dtype` or the scale's type: float32, float16, bfloat16).
// DynamicQuantizeLinear: uint8 with scale = (max(0, max x) - min(0, min x))
// / 255 (1 when that range is 0, as ONNX Runtime; onnx's reference gives
// 1/255 there) and zero point round(clamp(-min / scale, 0, 255)), all in
// float32.
// NAIVE: one pass over x; the scale and zero point are first read into
// float / integer vectors, and each element finds its scale index from its
// coordinate along `axis`. O(n), no workspace.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "ops/common.h"

namespace loadrun {

namespace {

bool is_int_quant(DType dt) {
  switch (dt) {
    case DType::Int8: case DType::Uint8: case DType::Int16: case DType::Uint16:
    case DType::Int4: case DType::Uint4: case DType::Int2: case DType::Uint2:
      return true;
    default:
      return false;
  }
}

bool is_float8(DType dt) {
  return dt == DType::Float8E4M3FN || dt == DType::Float8E4M3FNUZ || dt == DType::Float8E5M2 ||
         dt == DType::Float8E5M2FNUZ;
}

void int_range(DType dt, int64_t* lo, int64_t* hi) {
  switch (dt) {
    case DType::Int8: *lo = -128; *hi = 127; return;
    case DType::Uint8: *lo = 0; *hi = 255; return;
    case DType::Int16: *lo = -32768; *hi = 32767; return;
    case DType::Uint16: *lo = 0; *hi = 65535; return;
    case DType::Int4: *lo = -8; *hi = 7; return;
    case DType::Uint4: *lo = 0; *hi = 15; return;
    case DType::Int2: *lo = -2; *hi = 1; return;
    case DType::Uint2: *lo = 0; *hi = 3; return;
    default: *lo = *hi = 0; return;
  }
}

// Writes the in-range integer v as element i of t.
void store_int(Tensor& t, int64_t i, int64_t v) {
  switch (t.dtype()) {
    case DType::Int8: t.ptr<int8_t>()[i] = static_cast<int8_t>(v); return;
    case DType::Uint8: t.ptr<uint8_t>()[i] = static_cast<uint8_t>(v); return;
    case DType::Int16: t.ptr<int16_t>()[i] = static_cast<int16_t>(v); return;
    case DType::Uint16: t.ptr<uint16_t>()[i] = static_cast<uint16_t>(v); return;
    default:  // int4 / uint4 / int2 / uint2: the low bits, one element per byte
      t.ptr<uint8_t>()[i] = static_cast<uint8_t>(lowp_wrap_int(t.dtype(), v));
      return;
  }
}

// Writes the float v as element i of a float32 / float16 / bfloat16 tensor.
void store_float(Tensor& t, int64_t i, float v) {
  switch (t.dtype()) {
    case DType::Float32: t.ptr<float>()[i] = v; return;
    case DType::Float16: t.ptr<uint16_t>()[i] = float_to_half(v); return;
    case DType::BFloat16:
      t.ptr<uint16_t>()[i] = static_cast<uint16_t>(lowp_from_double(DType::BFloat16, v, false));
      return;
    default: LR_THROW(InternalError, "store_float: dtype ", dtype_name(t.dtype()));
  }
}

// float v rounded to the precision of dtype p (float16 / bfloat16 round).
float round_to(DType p, float v) {
  if (p == DType::Float16) return half_to_float(float_to_half(v));
  if (p == DType::BFloat16) return static_cast<float>(lowp_to_double(p, lowp_from_double(p, v, false)));
  return v;
}

// Scale / zero-point granularity, checked against x's shape.
struct QuantGeo {
  enum Mode { kTensor, kAxis, kBlocked } mode = kTensor;
  int64_t axis = 0, dim = 1, inner = 1, block = 0, nblocks = 1;
  // Index into the scale (and zero point) of x's element i.
  int64_t index(int64_t i) const {
    if (mode == kTensor) return 0;
    int64_t c = (i / inner) % dim;
    if (mode == kAxis) return c;
    int64_t outer = i / (inner * dim);
    return (outer * nblocks + c / block) * inner + i % inner;
  }
};

QuantGeo quant_geometry(const char* op, const Shape& x, const Shape& s, int64_t axis,
                        int64_t block) {
  QuantGeo g;
  LR_CHECK(block >= 0, ModelError, op, ": block_size must be >= 0, got ", block);
  if (shape_numel(s) == 1) return g;  // per tensor
  int64_t r = static_cast<int64_t>(x.size());
  g.axis = normalize_axis(axis, r);
  g.dim = x[g.axis];
  g.inner = dims_product(x, g.axis + 1, x.size());
  if (block == 0) {
    LR_CHECK(s.size() == 1 && s[0] == g.dim, ModelError, op, ": per-axis scale must be 1-D of length ",
             g.dim, " (x ", shape_str(x), ", axis ", axis, "), got ", shape_str(s));
    g.mode = QuantGeo::kAxis;
    return g;
  }
  g.mode = QuantGeo::kBlocked;
  g.block = block;
  g.nblocks = (g.dim + block - 1) / block;
  bool ok = static_cast<int64_t>(s.size()) == r;
  for (int64_t d = 0; ok && d < r; ++d) ok = s[d] == (d == g.axis ? g.nblocks : x[d]);
  LR_CHECK(ok, ModelError, op, ": blocked scale must have shape ", shape_str(x), " with dim ",
           g.axis, " = ceil(", g.dim, " / ", block, ") = ", g.nblocks, ", got ", shape_str(s));
  return g;
}

void check_zero_point(const char* op, const InferCtx& ctx, const char* scale_name) {
  if (!ctx.has(2)) return;
  LR_CHECK(ctx.input(2).shape == ctx.input(1).shape || (ctx.input(2).numel() == 1 && ctx.input(1).numel() == 1),
           ModelError, op, ": zero point shape ", shape_str(ctx.input(2).shape), " differs from ",
           scale_name, " shape ", shape_str(ctx.input(1).shape));
}

DType dtype_attr(const char* op, const char* what, int64_t code) {
  DType dt;
  const char* name = nullptr;
  bool ok = dtype_of_onnx(code, &dt, &name);
  LR_CHECK(name, ModelError, op, ": ", what, " = ", code, " is not an ONNX tensor data type");
  LR_CHECK(ok, UnsupportedError, op, ": ", what, " ", name, " is not supported");
  return dt;
}

// ------------------------------------------------------------- QuantizeLinear
struct QuantizeOp final : Op {
  int64_t axis, block, out_code, prec_code;
  bool saturate;
  explicit QuantizeOp(const Attrs& a)
      : axis(a.get_int("axis", 1)),
        block(a.get_int("block_size", 0)),
        out_code(a.get_int("output_dtype", 0)),
        prec_code(a.get_int("precision", 0)),
        saturate(a.get_int("saturate", 1) != 0) {}
  std::string param_key() const override {
    return str_cat(axis, ";", block, ";", out_code, ";", prec_code, ";", saturate);
  }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& s = ctx.input(1);
    DType xt = x.dtype, st = s.dtype;
    LR_CHECK(xt == DType::Float32 || xt == DType::Float16 || xt == DType::BFloat16 || xt == DType::Int32,
             UnsupportedError, "QuantizeLinear: x of dtype ", dtype_name(xt), " is not supported");
    LR_CHECK(st == DType::Float32 || st == DType::Float16 || st == DType::BFloat16 || st == DType::Int32 ||
                 st == DType::Float8E8M0,
             UnsupportedError, "QuantizeLinear: y_scale of dtype ", dtype_name(st), " is not supported");
    if (prec_code) {
      DType p = dtype_attr("QuantizeLinear", "precision", prec_code);
      LR_CHECK(p == DType::Float32 || p == DType::Float16 || p == DType::BFloat16 || p == DType::Int32,
               UnsupportedError, "QuantizeLinear: precision ", dtype_name(p), " is not supported");
    }
    DType out = DType::Uint8;
    if (out_code) out = dtype_attr("QuantizeLinear", "output_dtype", out_code);
    if (ctx.has(2)) {
      LR_CHECK(!out_code || ctx.input(2).dtype == out, ModelError, "QuantizeLinear: output_dtype ",
               dtype_name(out), " differs from the zero point's dtype ", dtype_name(ctx.input(2).dtype));
      out = ctx.input(2).dtype;
    }
    LR_CHECK(is_int_quant(out) || is_float8(out) || out == DType::Float4E2M1, ModelError,
             "QuantizeLinear: ", dtype_name(out), " is not a quantized type");
    quant_geometry("QuantizeLinear", x.shape, s.shape, axis, block);
    check_zero_point("QuantizeLinear", ctx, "y_scale");
    ctx.set_output(0, x.shape, out);
  }
};

void quantize_naive(const QuantizeOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& s = ctx.input(1);
  Tensor& y = ctx.output(0);
  QuantGeo g = quant_geometry("QuantizeLinear", x.shape(), s.shape(), op.axis, op.block);
  DType prec = op.prec_code ? dtype_attr("QuantizeLinear", "precision", op.prec_code) : s.dtype();
  const int64_t ns = s.numel();
  std::vector<double> scale(ns), zp(ns, 0.0);
  for (int64_t k = 0; k < ns; ++k) scale[k] = s.get_f64(k);
  if (ctx.has(2))
    for (int64_t k = 0; k < ns; ++k) zp[k] = ctx.input(2).get_f64(k);
  const DType out = y.dtype();
  int64_t lo = 0, hi = 0;
  int_range(out, &lo, &hi);
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t k = g.index(i);
    double q;
    if (prec == DType::Int32) {
      q = x.get_f64(i) / scale[k];
    } else {
      q = round_to(prec, static_cast<float>(x.get_f64(i)) / static_cast<float>(scale[k]));
    }
    if (is_int_quant(out)) {
      double r = std::nearbyint(q);  // half to even
      int64_t v = std::isnan(r) ? 0 : static_cast<int64_t>(std::clamp(r, -1e15, 1e15));
      v += static_cast<int64_t>(zp[k]);
      store_int(y, i, std::clamp(v, lo, hi));
    } else if (is_float8(out)) {
      y.ptr<uint8_t>()[i] = static_cast<uint8_t>(lowp_from_double(out, q, op.saturate));
    } else {  // float4e2m1: the zero point is added in float, and it saturates
      y.ptr<uint8_t>()[i] = static_cast<uint8_t>(lowp_from_double(out, static_cast<float>(q + zp[k]), true));
    }
  }
}

// ----------------------------------------------------------- DequantizeLinear
struct DequantizeOp final : Op {
  int64_t axis, block, out_code;
  explicit DequantizeOp(const Attrs& a)
      : axis(a.get_int("axis", 1)), block(a.get_int("block_size", 0)), out_code(a.get_int("output_dtype", 0)) {}
  std::string param_key() const override { return str_cat(axis, ";", block, ";", out_code); }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& s = ctx.input(1);
    DType xt = x.dtype, st = s.dtype;
    LR_CHECK(is_int_quant(xt) || is_float8(xt) || xt == DType::Float4E2M1 || xt == DType::Int32,
             UnsupportedError, "DequantizeLinear: x of dtype ", dtype_name(xt), " is not supported");
    LR_CHECK(st == DType::Float32 || st == DType::Float16 || st == DType::BFloat16 || st == DType::Float8E8M0,
             UnsupportedError, "DequantizeLinear: x_scale of dtype ", dtype_name(st), " is not supported");
    if (ctx.has(2))
      LR_CHECK(ctx.input(2).dtype == xt, ModelError, "DequantizeLinear: zero point is ",
               dtype_name(ctx.input(2).dtype), " but x is ", dtype_name(xt));
    DType out = out_code ? dtype_attr("DequantizeLinear", "output_dtype", out_code) : st;
    LR_CHECK(out == DType::Float32 || out == DType::Float16 || out == DType::BFloat16, ModelError,
             "DequantizeLinear: output dtype ", dtype_name(out),
             " is not float32, float16 or bfloat16 (a float8e8m0 x_scale needs output_dtype)");
    quant_geometry("DequantizeLinear", x.shape, s.shape, axis, block);
    check_zero_point("DequantizeLinear", ctx, "x_scale");
    ctx.set_output(0, x.shape, out);
  }
};

void dequantize_naive(const DequantizeOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& s = ctx.input(1);
  Tensor& y = ctx.output(0);
  QuantGeo g = quant_geometry("DequantizeLinear", x.shape(), s.shape(), op.axis, op.block);
  const int64_t ns = s.numel();
  std::vector<float> scale(ns), zp(ns, 0.0f);
  for (int64_t k = 0; k < ns; ++k) scale[k] = static_cast<float>(s.get_f64(k));
  if (ctx.has(2))
    for (int64_t k = 0; k < ns; ++k) zp[k] = static_cast<float>(ctx.input(2).get_f64(k));
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t k = g.index(i);
    float v = (static_cast<float>(x.get_f64(i)) - zp[k]) * scale[k];
    store_float(y, i, v);
  }
}

// ------------------------------------------------------- DynamicQuantizeLinear
struct DynQuantOp final : Op {
  explicit DynQuantOp(const Attrs&) {}
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(x.dtype == DType::Float32, UnsupportedError, "DynamicQuantizeLinear: x of dtype ",
             dtype_name(x.dtype), " is not supported (float32 only)");
    ctx.set_output(0, x.shape, DType::Uint8);
    if (ctx.out.size() > 1) ctx.set_output(1, {}, DType::Float32);
    if (ctx.out.size() > 2) ctx.set_output(2, {}, DType::Uint8);
  }
};

void dynquant_naive(const DynQuantOp&, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const float* x = xt.ptr<float>();
  const int64_t n = xt.numel();
  float mx = 0.0f, mn = 0.0f;  // the range always includes 0
  for (int64_t i = 0; i < n; ++i) {
    mx = std::max(mx, x[i]);
    mn = std::min(mn, x[i]);
  }
  const float scale = mx == mn ? 1.0f : (mx - mn) / 255.0f;
  const float zp = std::nearbyint(std::clamp(0.0f - mn / scale, 0.0f, 255.0f));
  uint8_t* y = ctx.output(0).ptr<uint8_t>();
  for (int64_t i = 0; i < n; ++i) {
    float v = std::nearbyint(x[i] / scale) + zp;
    y[i] = static_cast<uint8_t>(std::isnan(v) ? 0.0f : std::clamp(v, 0.0f, 255.0f));
  }
  if (ctx.out.size() > 1 && ctx.out[1]) ctx.output(1).ptr<float>()[0] = scale;
  if (ctx.out.size() > 2 && ctx.out[2]) ctx.output(2).ptr<uint8_t>()[0] = static_cast<uint8_t>(zp);
}

const auto kQuantNaive = naive_algo<QuantizeOp>(quantize_naive);
const auto kDequantNaive = naive_algo<DequantizeOp>(dequantize_naive);
const auto kDynNaive = naive_algo<DynQuantOp>(dynquant_naive);

}  // namespace

void register_op_QuantizeLinear(OpRegistry& r) {
  register_simple<QuantizeOp>(r, "QuantizeLinear", {&kQuantNaive}, 2, 3);
}
void register_op_DequantizeLinear(OpRegistry& r) {
  register_simple<DequantizeOp>(r, "DequantizeLinear", {&kDequantNaive}, 2, 3);
}
void register_op_DynamicQuantizeLinear(OpRegistry& r) {
  register_simple<DynQuantOp>(r, "DynamicQuantizeLinear", {&kDynNaive}, 1, 1);
}

}  // namespace loadrun
