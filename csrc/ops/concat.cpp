// Concat: inputs of equal rank and dtype joined along `axis` (may be
// negative); every other dim must agree. Inputs with a zero-size dim
// contribute nothing.
// NAIVE: for each outer index (dims before axis), copy each input's
// contiguous block (its axis extent x inner dims) with memcpy (any dtype).
// O(n), no workspace.
#include <cstring>

#include "ops/common.h"

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

}  // namespace

void register_op_Concat(OpRegistry& r) { register_simple<ConcatOp>(r, "Concat", {&kNaive}, 1); }

}  // namespace loadrun
