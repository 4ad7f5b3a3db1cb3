// Softmax, LogSoftmax and Hardmax (ONNX).
// Opset >= 13: normalise along `axis` (default -1); every other dim is an
// independent batch. Opset < 13 (the importer sets `_legacy_2d` = 1): the
// input is viewed as 2-D [prod(dims[:axis]), prod(dims[axis:])] (axis
// default 1) and each row is normalised over all the flattened trailing dims.
// Both are "outer x n x inner" with a stride of `inner` along n (inner = 1
// for the legacy form).
// NAIVE: per (outer, inner) line: find the max, then Softmax writes
// exp(x - max) / sum, LogSoftmax writes x - max - log(sum), Hardmax writes a
// one-hot of the first maximum. Subtracting the max keeps exp from
// overflowing. O(3n) per line, no workspace.
#include <cmath>

#include "kernels/fast_algo.h"
#include "kernels/parallel_split.h"
#include "ops/common.h"

namespace loadrun {

namespace {

enum class SmKind { Softmax, LogSoftmax, Hardmax };

struct SoftmaxOp final : Op {
  SmKind kind;
  bool legacy;
  int64_t axis;
  SoftmaxOp(SmKind k, const Attrs& a)
      : kind(k),
        legacy(a.get_int("_legacy_2d", 0) != 0),
        axis(a.get_int("axis", legacy ? 1 : -1)) {}
  std::string param_key() const override {
    return str_cat(static_cast<int>(kind), ";", legacy, ";", axis);
  }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(dtype_is_compute_float(x.dtype), UnsupportedError, def ? def->type : "Softmax",
             " on ", dtype_name(x.dtype), ": only float16/bfloat16/float32/float64 are supported");
    normalize_axis(axis, static_cast<int64_t>(x.ndim()));
    ctx.set_output(0, x.shape, x.dtype);
  }
  // outer x n x inner view of `s`.
  void split(const Shape& s, int64_t* outer, int64_t* n, int64_t* inner) const {
    size_t a = static_cast<size_t>(normalize_axis(axis, static_cast<int64_t>(s.size())));
    *outer = dims_product(s, 0, a);
    if (legacy) {
      *n = dims_product(s, a, s.size());
      *inner = 1;
    } else {
      *n = s[a];
      *inner = dims_product(s, a + 1, s.size());
    }
  }
};

template <typename T>
void softmax_naive_t(const SoftmaxOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  int64_t outer, n, inner;
  op.split(xt.shape(), &outer, &n, &inner);
  const T* x = xt.ptr<T>();
  T* y = ctx.output(0).ptr<T>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t in = 0; in < inner; ++in) {
      const int64_t base = o * n * inner + in;
      const T* xl = x + base;
      T* yl = y + base;
      if (n == 0) continue;
      int64_t arg = 0;
      T mx = xl[0];
      for (int64_t i = 1; i < n; ++i) {
        if (xl[i * inner] > mx) {
          mx = xl[i * inner];
          arg = i;
        }
      }
      if (op.kind == SmKind::Hardmax) {
        for (int64_t i = 0; i < n; ++i) yl[i * inner] = i == arg ? T(1) : T(0);
        continue;
      }
      T sum = 0;
      for (int64_t i = 0; i < n; ++i) sum += std::exp(xl[i * inner] - mx);
      if (op.kind == SmKind::Softmax) {
        for (int64_t i = 0; i < n; ++i) yl[i * inner] = std::exp(xl[i * inner] - mx) / sum;
      } else {
        T ls = std::log(sum);
        for (int64_t i = 0; i < n; ++i) yl[i * inner] = xl[i * inner] - mx - ls;
      }
    }
  }
}

void softmax_naive(const SoftmaxOp& op, const KernCtx& ctx) {
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    LR_DISPATCH_FLOAT(c.input(0).dtype(), "Softmax", softmax_naive_t<T>(op, c));
  });
}

const auto kNaive = naive_algo<SoftmaxOp>(softmax_naive);

// --- fast algorithm (SOFTMAX_FAST, on kernel_table()): Softmax and
// LogSoftmax on float32 when the normalised elements are contiguous (the
// last axis, or the legacy 2-D form): per row a vectorised max, exp(x - max)
// summed (AVX2: the exp of kernels/vmath_avx2.h, <= 3e-7 relative), then a
// scale by 1/sum (LogSoftmax: x - (max + log(sum))). Within a few float ulps
// of NAIVE. The rows are split over the step's threads.
bool softmax_fast_usable(const SoftmaxOp& op, const InLayouts& in, const OutLayouts&) {
  if (op.kind == SmKind::Hardmax || in[0]->dtype != DType::Float32) return false;
  int64_t outer, n, inner;
  op.split(in[0]->shape, &outer, &n, &inner);
  return inner == 1;
}

void softmax_fast(const SoftmaxOp& op, const KernCtx& ctx, const kernels::EltwiseImpl& impl) {
  const Tensor& xt = ctx.input(0);
  int64_t outer, n, inner;
  op.split(xt.shape(), &outer, &n, &inner);
  const float* x = xt.ptr<float>();
  float* y = ctx.output(0).ptr<float>();
  const bool log = op.kind == SmKind::LogSoftmax;
  kernels::split_items(ctx.comp_node, outer, 40.0 * static_cast<double>(n),
                       [&](int64_t begin, int64_t end, int) {
                         for (int64_t o = begin; o < end; ++o)
                           impl.softmax_row(x + o * n, y + o * n, n, log);
                       });
}

const KernelAlgo<SoftmaxOp> kFast("SOFTMAX_FAST", softmax_fast_usable,
                                          softmax_fast);

template <SmKind K>
void reg(OpRegistry& r, const char* type) {
  OpDef d;
  d.type = type;
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<SoftmaxOp>(K, a); };
  d.algos = {&kNaive, &kFast};
  d.min_inputs = d.max_inputs = 1;
  r.add(std::move(d));
}

}  // namespace

void register_op_Softmax(OpRegistry& r) { reg<SmKind::Softmax>(r, "Softmax"); }
void register_op_LogSoftmax(OpRegistry& r) { reg<SmKind::LogSoftmax>(r, "LogSoftmax"); }
void register_op_Hardmax(OpRegistry& r) { reg<SmKind::Hardmax>(r, "Hardmax"); }

}  // namespace loadrun
