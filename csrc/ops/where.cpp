// Where(condition, X, Y): X where condition is true, else Y; NumPy
// broadcasting over all three. X and Y share a dtype, which may be any.
// NAIVE: one pass over the output with a BroadcastIndexer, copying elements
// as unsigned integers of the dtype's size. O(n * rank), no workspace.
#include "kernels/broadcast_plan.h"
#include "kernels/fast_algo.h"
#include "ops/elementwise.h"

namespace loadrun {

namespace {

struct WhereOp final : Op {
  explicit WhereOp(const Attrs&) {}
  void infer(InferCtx& ctx) const override {
    const Layout& c = ctx.input(0);
    const Layout& x = ctx.input(1);
    const Layout& y = ctx.input(2);
    LR_CHECK(c.dtype == DType::Bool, ModelError, "Where: condition must be bool, got ",
             dtype_name(c.dtype));
    LR_CHECK(x.dtype == y.dtype, ModelError, "Where: X and Y must have the same dtype, got ",
             dtype_name(x.dtype), " and ", dtype_name(y.dtype));
    ctx.set_output(0, broadcast_shapes({c.shape, x.shape, y.shape}), x.dtype);
  }
};

template <typename U>
void where_loop(const KernCtx& ctx) {
  const Tensor& tc = ctx.input(0);
  const Tensor& tx = ctx.input(1);
  const Tensor& ty = ctx.input(2);
  Tensor& out = ctx.output(0);
  BroadcastIndexer ix(out.shape(), {tc.shape(), tx.shape(), ty.shape()});
  const bool* c = tc.ptr<bool>();
  const U* x = tx.ptr<U>();
  const U* y = ty.ptr<U>();
  U* o = out.ptr<U>();
  int64_t n = ix.numel();
  for (int64_t i = 0; i < n; ++i) o[i] = c[ix.offset(0, i)] ? x[ix.offset(1, i)] : y[ix.offset(2, i)];
}

void where_naive(const WhereOp&, const KernCtx& ctx) {
  switch (dtype_size(ctx.input(1).dtype())) {
    case 1: where_loop<uint8_t>(ctx); break;
    case 2: where_loop<uint16_t>(ctx); break;
    case 4: where_loop<uint32_t>(ctx); break;
    case 8: where_loop<uint64_t>(ctx); break;
    default:
      LR_THROW(UnsupportedError, "Where: dtype ", dtype_name(ctx.input(1).dtype()),
               " is not supported");
  }
}

const auto kNaive = naive_algo<WhereOp>(where_naive);

// --- fast algorithm (ELEMWISE_FAST; plain loops the compiler
// vectorises, no ISA kernels): the broadcast collapsed to runs
// (kernels/broadcast_plan.h), each a select loop with the operands' inner
// strides (0 or 1) known per run. Any dtype, moved as words of its size.
// The output elements are split over the step's threads.
template <typename U>
void where_runs(const KernCtx& ctx) {
  const Tensor& tc = ctx.input(0);
  const Tensor& tx = ctx.input(1);
  const Tensor& ty = ctx.input(2);
  Tensor& out = ctx.output(0);
  kernels::BroadcastPlan plan(out.shape(), {tc.shape(), tx.shape(), ty.shape()});
  const bool* c = tc.ptr<bool>();
  const U* x = tx.ptr<U>();
  const U* y = ty.ptr<U>();
  U* o = out.ptr<U>();
  const int64_t sc = plan.inner_stride[0], sx = plan.inner_stride[1], sy = plan.inner_stride[2];
  kernels::split_elems(ctx.comp_node, plan.numel, 1.0 + 3.0 * sizeof(U),
                       [&](int64_t begin, int64_t end) {
    plan.for_each_span(begin, end, [&](int64_t oo, const int64_t* off, int64_t n) {
      const bool* cr = c + off[0];
      const U* xr = x + off[1];
      const U* yr = y + off[2];
      U* orow = o + oo;
      // A mask select, not a branch: the condition is often random (or a
      // ragged attention mask).
      const uint8_t* cb = reinterpret_cast<const uint8_t*>(cr);
      auto sel = [](uint8_t c, U a, U b) {
        const U m = static_cast<U>(U(0) - static_cast<U>(c != 0));
        return static_cast<U>((a & m) | (b & static_cast<U>(~m)));
      };
      if (sc && sx && sy) {
        for (int64_t i = 0; i < n; ++i) orow[i] = sel(cb[i], xr[i], yr[i]);
      } else {
        for (int64_t i = 0; i < n; ++i) orow[i] = sel(cb[i * sc], xr[i * sx], yr[i * sy]);
      }
    });
  });
}

bool where_fast_usable(const WhereOp&, const InLayouts& in, const OutLayouts&) {
  size_t s = dtype_size(in[1]->dtype);
  return s == 1 || s == 2 || s == 4 || s == 8;
}

void where_fast(const WhereOp&, const KernCtx& ctx, const kernels::EltwiseImpl&) {
  switch (dtype_size(ctx.input(1).dtype())) {
    case 1: where_runs<uint8_t>(ctx); break;
    case 2: where_runs<uint16_t>(ctx); break;
    case 4: where_runs<uint32_t>(ctx); break;
    default: where_runs<uint64_t>(ctx); break;
  }
}

const KernelAlgo<WhereOp> kFast("ELEMWISE_FAST", where_fast_usable, where_fast);

}  // namespace

void register_op_Where(OpRegistry& r) { register_simple<WhereOp>(r, "Where", {&kNaive, &kFast}, 3, 3); }

}  // namespace loadrun
