// Clip(input, min, max) (opset >= 11 form): limits every element to
// [min, max]; either bound may be absent (no limit on that side). When
// min > max every element becomes max; NaN stays NaN. Opset 6-10 attribute
// bounds are turned into constant inputs by the importer (opset_compat.py).
// NAIVE: one pass over the input. O(n), no workspace.
// The bounds are single-element tensors of the input's dtype; for float inputs
// a bound of another float dtype is converted (the opset < 11 rewriter cannot
// know the input's dtype and gives float32 bounds).
#include "kernels/fast_algo.h"
#include "kernels/parallel_split.h"
#include "ops/elementwise.h"

namespace loadrun {

namespace {

struct ClipOp final : Op {
  int inplace_input(const std::vector<const Layout*>&) const override { return 0; }
  explicit ClipOp(const Attrs&) {}
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(x.dtype != DType::Bool, UnsupportedError, "Clip: bool input is not supported");
    for (size_t i = 1; i < 3; ++i) {
      if (!ctx.has(i)) continue;
      const Layout& b = ctx.input(i);
      const char* what = i == 1 ? "min" : "max";
      LR_CHECK(b.numel() == 1, ModelError, "Clip: ", what, " must be a scalar, got shape ",
               shape_str(b.shape));
      bool ok = b.dtype == x.dtype || (dtype_is_float(b.dtype) && dtype_is_float(x.dtype));
      LR_CHECK(ok, ModelError, "Clip: ", what, " must have the input's dtype ",
               dtype_name(x.dtype), ", got ", dtype_name(b.dtype));
    }
    ctx.set_output(0, x.shape, x.dtype);
  }
};

// Bound i as the compute type of T, or `def` when absent.
template <typename T>
typename Num<T>::C bound(const KernCtx& ctx, size_t i, typename Num<T>::C def) {
  if (!ctx.has(i)) return def;
  const Tensor& b = ctx.input(i);
  if (b.dtype() == ctx.input(0).dtype()) return Num<T>::ld(b.ptr<T>()[0]);
  return static_cast<typename Num<T>::C>(b.get_f64(0));  // float bound of another float dtype
}

template <typename T>
void clip_loop(const KernCtx& ctx) {
  using N = Num<T>;
  using C = typename N::C;
  C lo = bound<T>(ctx, 1, std::numeric_limits<C>::lowest());
  C hi = bound<T>(ctx, 2, std::numeric_limits<C>::max());
  const T* x = ctx.input(0).ptr<T>();
  T* y = ctx.output(0).ptr<T>();
  int64_t n = ctx.input(0).numel();
  for (int64_t i = 0; i < n; ++i) {
    C v = N::ld(x[i]);
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    y[i] = N::st(v);
  }
}

void clip_naive(const ClipOp&, const KernCtx& ctx) {
  DType dt = ctx.input(0).dtype();
  LR_EW_DISPATCH_NUMERIC(dt, "Clip", clip_loop<T>(ctx));
}

const auto kNaive = naive_algo<ClipOp>(clip_naive);

// --- fast algorithm (ELEMWISE_FAST, on kernel_table()), float32: the same
// bounds as NAIVE (absent ones are the float limits), one kernel pass;
// identical results (NaN stays NaN); the elements split over the threads.
bool clip_fast_usable(const ClipOp&, const InLayouts& in, const OutLayouts&) {
  return in[0]->dtype == DType::Float32;
}

void clip_fast(const ClipOp&, const KernCtx& ctx, const kernels::EltwiseImpl& impl) {
  float lo = bound<float>(ctx, 1, std::numeric_limits<float>::lowest());
  float hi = bound<float>(ctx, 2, std::numeric_limits<float>::max());
  const float* x = ctx.input(0).ptr<float>();
  float* y = ctx.output(0).ptr<float>();
  kernels::split_elems(ctx.comp_node, ctx.input(0).numel(), 8, [&](int64_t b, int64_t e) {
    impl.unary(kernels::UnaryKind::Clip, x + b, y + b, e - b, lo, hi);
  });
}

const KernelAlgo<ClipOp> kFast("ELEMWISE_FAST", clip_fast_usable, clip_fast);

}  // namespace

void register_op_Clip(OpRegistry& r) { register_simple<ClipOp>(r, "Clip", {&kNaive, &kFast}, 1, 3); }

}  // namespace loadrun
