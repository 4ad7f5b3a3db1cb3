// Concat: inputs of equal rank and dtype joined along `axis` (may be
// negative); every other dim must agree. Inputs with a zero-size dim
// contribute nothing.
// NAIVE: for each outer index (dims before axis), copy each input's
// contiguous block (its axis extent x inner dims) with memcpy (any dtype).
// O(n), no workspace. COPY_FAST: the same blocks row by row of the output
// (every store in order), blocks of up to 16 bytes copied as words instead
// of through memcpy (concatenation along the last axes), the output
// elements split over the step's threads.
#include <algorithm>
#include <cstring>

#include "kernels/copy_plan.h"
#include "kernels/fast_algo.h"
#include "ops/common.h"
#include "ops/element_copy.h"

namespace loadrun {

namespace {

struct ConcatOp final : Op {
  int64_t axis;
  explicit ConcatOp(const Attrs& a) : axis(a.require_int("axis")) {}
  std::string param_key() const override { return std::to_string(axis); }
  void infer(InferCtx& ctx) const override {
    const Layout& first = ctx.input(0);
    int64_t rank = static_cast<int64_t>(first.ndim());
    LR_CHECK(rank > 0, ModelError, "cannot concatenate scalars");
    int64_t a = normalize_axis(axis, rank);
    Shape out = first.shape;
    out[a] = 0;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      const Layout& x = ctx.input(i);
      LR_CHECK(x.dtype == first.dtype, ModelError, "input ", i, " has dtype ", dtype_name(x.dtype),
               ", input 0 has ", dtype_name(first.dtype));
      LR_CHECK(static_cast<int64_t>(x.ndim()) == rank, ModelError, "input ", i, " has shape ",
               shape_str(x.shape), ", input 0 has ", shape_str(first.shape), " (ranks differ)");
      for (int64_t d = 0; d < rank; ++d) {
        LR_CHECK(d == a || x.shape[d] == first.shape[d], ModelError, "input ", i, " shape ",
                 shape_str(x.shape), " differs from input 0 shape ", shape_str(first.shape),
                 " on dim ", d, " (concat axis ", a, ")");
      }
      out[a] += x.shape[a];
    }
    ctx.set_output(0, out, first.dtype);
  }
};

void concat_naive(const ConcatOp& op, const KernCtx& ctx) {
  Tensor& y = ctx.output(0);
  size_t a = static_cast<size_t>(normalize_axis(op.axis, static_cast<int64_t>(y.ndim())));
  size_t es = dtype_size(y.dtype());
  int64_t outer = dims_product(y.shape(), 0, a);
  int64_t inner = dims_product(y.shape(), a + 1, y.ndim());
  int64_t out_row = y.shape()[a] * inner;  // elements per outer index in y
  uint8_t* dst = static_cast<uint8_t*>(y.raw());
  int64_t col = 0;  // element offset of the current input within a row of y
  for (size_t i = 0; i < ctx.in.size(); ++i) {
    const Tensor& x = ctx.input(i);
    int64_t block = x.shape()[a] * inner;
    const uint8_t* src = static_cast<const uint8_t*>(x.raw());
    for (int64_t o = 0; o < outer && block > 0; ++o)
      std::memcpy(dst + (o * out_row + col) * es, src + o * block * es, block * es);
    col += block;
  }
}

const auto kNaive = naive_algo<ConcatOp>(concat_naive);

bool word_sized(DType dt) {
  size_t s = dtype_size(dt);
  return s == 1 || s == 2 || s == 4 || s == 8;
}

bool concat_fast_usable(const ConcatOp&, const InLayouts& in, const OutLayouts&) {
  return word_sized(in[0]->dtype);
}

void concat_fast(const ConcatOp& op, const KernCtx& ctx, const kernels::KernelTable&) {
  Tensor& y = ctx.output(0);
  const size_t a = static_cast<size_t>(normalize_axis(op.axis, static_cast<int64_t>(y.ndim())));
  const int64_t outer = dims_product(y.shape(), 0, a);
  const int64_t inner = dims_product(y.shape(), a + 1, y.ndim());
  const size_t nin = ctx.in.size();
  std::vector<const void*> src(nin);
  std::vector<int64_t> block(nin);
  for (size_t i = 0; i < nin; ++i) {
    src[i] = ctx.input(i).raw();
    block[i] = ctx.input(i).shape()[a] * inner;
  }
  int64_t out_row = 0;
  for (int64_t b : block) out_row += b;
  if (out_row == 0) return;
  with_word_type(y.dtype(), [&](auto tag) {
    using W = decltype(tag);
    W* dst = static_cast<W*>(y.raw());
    // The output elements split over the threads: a range copies the parts
    // of the input blocks that fall inside it.
    const double bytes = 2.0 * sizeof(W) + 16.0 * static_cast<double>(nin) / static_cast<double>(out_row);
    kernels::split_elems(ctx.comp_node, outer * out_row, bytes, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin / out_row; o * out_row < end; ++o) {
        int64_t col = o * out_row;
        for (size_t i = 0; i < nin; ++i) {
          const int64_t b = block[i];
          const int64_t lo = std::max(begin, col), hi = std::min(end, col + b);
          if (lo < hi)
            kernels::copy_run(dst + lo, static_cast<const W*>(src[i]) + o * b + (lo - col), 1, hi - lo);
          col += b;
        }
      }
    });
  });
}

const KernelAlgo<ConcatOp> kFast("COPY_FAST", concat_fast_usable, concat_fast);

}  // namespace

void register_op_Concat(OpRegistry& r) { register_simple<ConcatOp>(r, "Concat", {&kNaive, &kFast}, 1); }

}  // namespace loadrun
