// Range: start, start + delta, ... up to (not including) limit, from three
// scalar inputs of one dtype (float16/32/64, bfloat16, int16/32/64; float16
// and bfloat16 compute in float32). Length
// max(ceil((limit - start) / delta), 0), computed exactly for integers. The
// length depends on the values, so they must be known at compile time.
// NAIVE: y[i] = start + i * delta. O(n), no workspace.
#include <cmath>

#include "ops/common.h"

namespace loadrun {

namespace {

bool range_dtype_ok(DType dt) {
  return dtype_is_compute_float(dt) ||
         dt == DType::Int16 || dt == DType::Int32 || dt == DType::Int64;
}

// More elements than this is not a range anyone can hold (2^40 floats = 4 TiB).
constexpr uint64_t kMaxRangeElems = uint64_t{1} << 40;

int64_t range_length(const Tensor& start, const Tensor& limit, const Tensor& delta) {
  if (dtype_is_float(start.dtype())) {
    double s = start.get_f64(0), l = limit.get_f64(0), d = delta.get_f64(0);
    LR_CHECK(d != 0, ModelError, "Range: delta must not be 0");
    double n = std::ceil((l - s) / d);
    LR_CHECK(std::isfinite(n), ModelError, "Range: ", s, " to ", l, " by ", d, " is not finite");
    LR_CHECK(n <= static_cast<double>(kMaxRangeElems), ModelError, "Range: ", s, " to ", l, " by ", d,
             " has ", n, " elements, more than ", kMaxRangeElems);
    return n > 0 ? static_cast<int64_t>(n) : 0;
  }
  int64_t s = start.get_i64(0), l = limit.get_i64(0), d = delta.get_i64(0);
  LR_CHECK(d != 0, ModelError, "Range: delta must not be 0");
  // |limit - start| and |delta| in uint64: exact for any int64 values
  // (limit - start itself can overflow int64).
  uint64_t span, step;
  if (d > 0) {
    if (l <= s) return 0;
    span = static_cast<uint64_t>(l) - static_cast<uint64_t>(s);
    step = static_cast<uint64_t>(d);
  } else {
    if (s <= l) return 0;
    span = static_cast<uint64_t>(s) - static_cast<uint64_t>(l);
    step = uint64_t{0} - static_cast<uint64_t>(d);
  }
  uint64_t n = (span - 1) / step + 1;
  LR_CHECK(n <= kMaxRangeElems, ModelError, "Range: ", s, " to ", l, " by ", d, " has ", n,
           " elements, more than ", kMaxRangeElems);
  return static_cast<int64_t>(n);
}

struct RangeOp final : Op {
  explicit RangeOp(const Attrs&) {}
  void infer(InferCtx& ctx) const override {
    DType dt = ctx.input(0).dtype;
    LR_CHECK(range_dtype_ok(dt), ModelError, "Range takes float16/32/64, bfloat16 or int16/32/64, got ",
             dtype_name(dt));
    const char* names[3] = {"start", "limit", "delta"};
    for (size_t i = 0; i < 3; ++i) {
      LR_CHECK(ctx.input(i).dtype == dt, ModelError, names[i], " has dtype ",
               dtype_name(ctx.input(i).dtype), ", start has ", dtype_name(dt));
      LR_CHECK(ctx.input(i).numel() == 1, ModelError, names[i], " must be a scalar, got shape ",
               shape_str(ctx.input(i).shape));
    }
    int64_t n = range_length(ctx.value(0, "Range start"), ctx.value(1, "Range limit"),
                             ctx.value(2, "Range delta"));
    ctx.set_output(0, {n}, dt);
  }
};

template <typename T>
void range_loop(const Tensor& start, const Tensor& delta, Tensor& y) {
  T s = *start.ptr<T>(), d = *delta.ptr<T>();
  T* out = y.ptr<T>();
  for (int64_t i = 0; i < y.numel(); ++i) out[i] = static_cast<T>(s + static_cast<T>(i) * d);
}

void range_naive(const RangeOp&, const KernCtx& ctx) {
  const Tensor& start = ctx.input(0);
  const Tensor& delta = ctx.input(2);
  Tensor& y = ctx.output(0);
  int64_t n = range_length(start, ctx.input(1), delta);
  LR_CHECK(n == y.numel(), InputError, "Range has ", n, " elements for these inputs, ", y.numel(),
           " when compiled");
  if (dtype_is_lowp_float(y.dtype())) {
    float s = static_cast<float>(start.get_f64(0)), d = static_cast<float>(delta.get_f64(0));
    uint16_t* out = y.ptr<uint16_t>();
    const bool half = y.dtype() == DType::Float16;
    for (int64_t i = 0; i < y.numel(); ++i) {
      float v = s + static_cast<float>(i) * d;
      out[i] = half ? float_to_half(v) : float_to_bf16(v);
    }
    return;
  }
  LR_DISPATCH_NUMERIC(y.dtype(), "Range", range_loop<T>(start, delta, y));
}

const auto kNaive = naive_algo<RangeOp>(range_naive);

}  // namespace

void register_op_Range(OpRegistry& r) { register_simple<RangeOp>(r, "Range", {&kNaive}, 3, 3); }

}  // namespace loadrun
