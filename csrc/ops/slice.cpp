// Slice (opset 13 form: starts, ends, optional axes and steps as inputs; the
// opset < 10 attributes are moved there by the importer). Per sliced axis:
// negative starts/ends count from the end, then both are clamped into the
// axis (INT64_MAX / INT64_MIN mean "to the end"), and a negative step walks
// backwards. Unlisted axes are kept whole.
// NAIVE: strided_copy from the first selected element with stride
// step x input stride per dim (any dtype). O(n * rank), no workspace.
// COPY_FAST: the same copy as runs of kernels/copy_plan.h (kept rows are one
// memcpy each; a negative step a strided word loop), split over the threads.
#include <algorithm>
#include <climits>

#include "kernels/copy_plan.h"
#include "kernels/fast_algo.h"
#include "ops/common.h"
#include "ops/element_copy.h"

namespace loadrun {

namespace {

struct SlicePlan {
  Shape out, start, step;  // per input dim
};

SlicePlan plan_slice(const Shape& in, const std::vector<int64_t>& starts,
                     const std::vector<int64_t>& ends, std::vector<int64_t> axes,
                     std::vector<int64_t> steps) {
  size_t rank = in.size(), k = starts.size();
  LR_CHECK(ends.size() == k, ModelError, "starts ", shape_str(starts), " and ends ",
           shape_str(ends), " differ in length");
  if (axes.empty()) {
    for (size_t i = 0; i < k; ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (steps.empty()) steps.assign(k, 1);
  LR_CHECK(axes.size() == k && steps.size() == k, ModelError, "starts has ", k,
           " entries, axes ", axes.size(), ", steps ", steps.size(), "; they must match");
  SlicePlan p{in, Shape(rank, 0), Shape(rank, 1)};
  std::vector<char> seen(rank, 0);
  for (size_t i = 0; i < k; ++i) {
    int64_t a = normalize_axis(axes[i], static_cast<int64_t>(rank));
    LR_CHECK(!seen[a], ModelError, "axes ", shape_str(axes), " repeat axis ", axes[i]);
    seen[a] = 1;
    int64_t dim = in[a], step = steps[i];
    LR_CHECK(step != 0, ModelError, "steps ", shape_str(steps), " has a 0 step");
    int64_t s = starts[i], e = ends[i];
    // dim >= 0, so s + dim cannot overflow when s < 0 (INT64_MIN included).
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    int64_t count;
    if (step > 0) {
      s = std::min(std::max(s, int64_t{0}), dim);
      e = std::min(std::max(e, int64_t{0}), dim);
      count = e > s ? (e - s - 1) / step + 1 : 0;
    } else {
      s = std::min(std::max(s, int64_t{0}), dim - 1);
      e = std::min(std::max(e, int64_t{-1}), dim - 1);
      int64_t mag = step == INT64_MIN ? INT64_MAX : -step;  // -INT64_MIN overflows
      count = s > e ? (s - e - 1) / mag + 1 : 0;
    }
    p.out[a] = count;
    p.start[a] = count > 0 ? s : 0;
    p.step[a] = count > 1 ? step : 1;  // a single element: any step, and no overflow
  }
  return p;
}

struct SliceOp final : Op {
  explicit SliceOp(const Attrs&) {}
  static std::vector<int64_t> ints(const InferCtx& ctx, size_t i, const char* what) {
    return ctx.has(i) ? ctx.value(i, what).to_i64_vector() : std::vector<int64_t>{};
  }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    SlicePlan p = plan_slice(x.shape, ints(ctx, 1, "Slice starts"), ints(ctx, 2, "Slice ends"),
                             ints(ctx, 3, "Slice axes"), ints(ctx, 4, "Slice steps"));
    ctx.set_output(0, p.out, x.dtype);
  }
};

std::vector<int64_t> ints_in(const KernCtx& ctx, size_t i) {
  return ctx.has(i) ? ctx.input(i).to_i64_vector() : std::vector<int64_t>{};
}

// The source strides and offset of the slice of x.
Shape slice_strides(const KernCtx& ctx, int64_t* base) {
  const Tensor& x = ctx.input(0);
  SlicePlan p = plan_slice(x.shape(), ints_in(ctx, 1), ints_in(ctx, 2), ints_in(ctx, 3),
                           ints_in(ctx, 4));
  Shape in_strides = contiguous_strides(x.shape());
  Shape st(x.ndim());
  *base = 0;
  for (size_t d = 0; d < x.ndim(); ++d) {
    st[d] = p.step[d] * in_strides[d];
    *base += p.start[d] * in_strides[d];
  }
  return st;
}

void slice_naive(const SliceOp&, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  int64_t base = 0;
  Shape st = slice_strides(ctx, &base);
  strided_copy(y.raw(), x.raw(), x.dtype(), y.shape(), st, base);
}

const auto kNaive = naive_algo<SliceOp>(slice_naive);

bool word_sized(DType dt) {
  size_t s = dtype_size(dt);
  return s == 1 || s == 2 || s == 4 || s == 8;
}

bool slice_fast_usable(const SliceOp&, const InLayouts& in, const OutLayouts&) {
  return word_sized(in[0]->dtype);
}

void slice_fast(const SliceOp&, const KernCtx& ctx, const kernels::KernelTable&) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  int64_t base = 0;
  Shape st = slice_strides(ctx, &base);
  kernels::fast_strided_copy(y.raw(), x.raw(), dtype_size(x.dtype()), y.shape(), st, base,
                             ctx.comp_node);
}

const KernelAlgo<SliceOp> kFast("COPY_FAST", slice_fast_usable, slice_fast);

}  // namespace

void register_op_Slice(OpRegistry& r) { register_simple<SliceOp>(r, "Slice", {&kNaive, &kFast}, 3, 5); }

}  // namespace loadrun
