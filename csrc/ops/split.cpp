// Split: one input cut into consecutive pieces along `axis`. Piece sizes come
// from the `split` input (opset 13; the older attribute is moved there by the
// importer), else from `num_outputs` (opset 18: ceil(dim / n) each, the last
// piece smaller), else equal pieces, one per output.
// NAIVE: for each outer index, memcpy each output's contiguous block (any
// dtype); piece sizes are read back from the output shapes. O(n), no workspace.
// COPY_FAST: the mirror of Concat's: the input elements split over the step's
// threads, each range read in order and its parts of the output blocks copied
// (runs of up to 16 bytes as words, longer ones with memcpy), so a large
// split (a detector head cutting scores from box offsets) is one threaded
// pass over memory instead of one thread's memcpy loop.
#include <algorithm>
#include <cstring>

#include "kernels/copy_plan.h"
#include "kernels/fast_algo.h"
#include "ops/common.h"
#include "ops/element_copy.h"

namespace loadrun {

namespace {

struct SplitOp final : Op {
  int64_t axis, num_outputs;
  explicit SplitOp(const Attrs& a) : axis(a.get_int("axis", 0)), num_outputs(a.get_int("num_outputs", 0)) {
    LR_CHECK(!a.has("num_outputs") || num_outputs >= 1, ModelError,
             "num_outputs must be >= 1, got ", num_outputs);
  }
  std::string param_key() const override { return str_cat(axis, ";", num_outputs); }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    int64_t a = normalize_axis(axis, static_cast<int64_t>(x.ndim()));
    int64_t dim = x.shape[a];
    int64_t n = static_cast<int64_t>(ctx.out.size());
    std::vector<int64_t> sizes;
    if (ctx.has(1)) {
      LR_CHECK(num_outputs == 0, ModelError, "give either the split input or num_outputs, not both");
      sizes = ctx.value(1, "Split sizes").to_i64_vector();
      LR_CHECK(static_cast<int64_t>(sizes.size()) == n, ModelError, "split ", shape_str(sizes),
               " has ", sizes.size(), " entries for ", n, " outputs");
      int64_t sum = 0;
      for (int64_t s : sizes) {
        LR_CHECK(s >= 0, ModelError, "split ", shape_str(sizes), " has a negative size");
        sum += s;
      }
      LR_CHECK(sum == dim, ModelError, "split ", shape_str(sizes), " sums to ", sum,
               " but axis ", a, " of ", shape_str(x.shape), " has ", dim);
    } else if (num_outputs > 0) {
      LR_CHECK(num_outputs == n, ModelError, "num_outputs is ", num_outputs, " but the node has ",
               n, " outputs");
      int64_t chunk = (dim + n - 1) / n;
      int64_t last = dim - chunk * (n - 1);
      LR_CHECK(last >= 1 || dim == 0, ModelError, "cannot split a dim of ", dim, " into ", n,
               " pieces of at most ", chunk, " (the last piece would be empty)");
      sizes.assign(static_cast<size_t>(n), chunk);
      sizes.back() = last;
    } else {
      LR_CHECK(dim % n == 0, ModelError, "axis ", a, " of ", shape_str(x.shape), " (", dim,
               ") does not split evenly into ", n, " outputs");
      sizes.assign(static_cast<size_t>(n), dim / n);
    }
    for (int64_t i = 0; i < n; ++i) {
      Shape s = x.shape;
      s[a] = sizes[i];
      ctx.set_output(i, s, x.dtype);
    }
  }
};

void split_naive(const SplitOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  size_t a = static_cast<size_t>(normalize_axis(op.axis, static_cast<int64_t>(x.ndim())));
  size_t es = dtype_size(x.dtype());
  int64_t outer = dims_product(x.shape(), 0, a);
  int64_t inner = dims_product(x.shape(), a + 1, x.ndim());
  int64_t in_row = x.shape()[a] * inner;
  const uint8_t* src = static_cast<const uint8_t*>(x.raw());
  int64_t col = 0;
  for (Tensor* y : ctx.out) {
    int64_t block = y->shape()[a] * inner;
    uint8_t* dst = static_cast<uint8_t*>(y->raw());
    for (int64_t o = 0; o < outer && block > 0; ++o)
      std::memcpy(dst + o * block * es, src + (o * in_row + col) * es, block * es);
    col += block;
  }
}

const auto kNaive = naive_algo<SplitOp>(split_naive);

bool split_fast_usable(const SplitOp&, const InLayouts& in, const OutLayouts&) {
  const size_t s = dtype_size(in[0]->dtype);
  return s == 1 || s == 2 || s == 4 || s == 8;
}

void split_fast(const SplitOp& op, const KernCtx& ctx, const kernels::KernelTable&) {
  const Tensor& x = ctx.input(0);
  const size_t a = static_cast<size_t>(normalize_axis(op.axis, static_cast<int64_t>(x.ndim())));
  const int64_t outer = dims_product(x.shape(), 0, a);
  const int64_t inner = dims_product(x.shape(), a + 1, x.ndim());
  const int64_t in_row = x.shape()[a] * inner;
  if (in_row == 0 || outer == 0) return;
  const size_t nout = ctx.out.size();
  std::vector<void*> dst(nout);
  std::vector<int64_t> block(nout);
  for (size_t i = 0; i < nout; ++i) {
    dst[i] = ctx.out[i]->raw();
    block[i] = ctx.out[i]->shape()[a] * inner;
  }
  with_word_type(x.dtype(), [&](auto tag) {
    using W = decltype(tag);
    const W* src = static_cast<const W*>(x.raw());
    // A range of input elements copies the parts of the output blocks that
    // fall inside it; every output element is written by exactly one range.
    const double bytes =
        2.0 * sizeof(W) + 16.0 * static_cast<double>(nout) / static_cast<double>(in_row);
    kernels::split_elems(ctx.comp_node, outer * in_row, bytes, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin / in_row; o * in_row < end; ++o) {
        int64_t col = o * in_row;
        for (size_t i = 0; i < nout; ++i) {
          const int64_t b = block[i];
          const int64_t lo = std::max(begin, col), hi = std::min(end, col + b);
          if (lo < hi)
            kernels::copy_run(static_cast<W*>(dst[i]) + o * b + (lo - col), src + lo, 1, hi - lo);
          col += b;
        }
      }
    });
  });
}

const KernelAlgo<SplitOp> kFast("COPY_FAST", split_fast_usable, split_fast);

}  // namespace

void register_op_Split(OpRegistry& r) {
  register_simple<SplitOp>(r, "Split", {&kNaive, &kFast}, 1, 2);
}

}  // namespace loadrun
