// Transpose: output dim d is input dim perm[d]; perm defaults to the
// reversed dims.
// NAIVE: for each output element, the input offset from its multi-index and
// the permuted input strides (element_copy's strided_copy, any dtype).
// O(n * rank), no workspace.
#include <algorithm>

#include "ops/common.h"
#include "ops/element_copy.h"

namespace loadrun {

namespace {

struct TransposeOp final : Op {
  std::vector<int64_t> perm_attr;  // empty: reverse
  explicit TransposeOp(const Attrs& a) : perm_attr(a.get_ints("perm")) {}
  std::string param_key() const override { return shape_str(perm_attr); }

  std::vector<int64_t> perm(size_t rank) const {
    std::vector<int64_t> p = perm_attr;
    if (p.empty() && rank > 0) {  // an absent perm (or an empty one on a scalar)
      for (size_t i = 0; i < rank; ++i) p.push_back(static_cast<int64_t>(rank - 1 - i));
    }
    LR_CHECK(p.size() == rank, ModelError, "perm ", shape_str(p), " has ", p.size(),
             " entries for an input of rank ", rank);
    std::vector<char> seen(rank, 0);
    for (int64_t v : p) {
      LR_CHECK(v >= 0 && v < static_cast<int64_t>(rank) && !seen[v], ModelError, "perm ",
               shape_str(p), " is not a permutation of 0..", rank - 1);
      seen[v] = 1;
    }
    return p;
  }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    std::vector<int64_t> p = perm(x.ndim());
    Shape out(p.size());
    for (size_t d = 0; d < p.size(); ++d) out[d] = x.shape[p[d]];
    ctx.set_output(0, out, x.dtype);
  }
};

void transpose_naive(const TransposeOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  std::vector<int64_t> p = op.perm(x.ndim());
  Shape in_strides = contiguous_strides(x.shape());
  Shape st(p.size());
  for (size_t d = 0; d < p.size(); ++d) st[d] = in_strides[p[d]];
  strided_copy(y.raw(), x.raw(), x.dtype(), y.shape(), st, 0);
}

const auto kNaive = naive_algo<TransposeOp>(transpose_naive);

}  // namespace

void register_op_Transpose(OpRegistry& r) {
  register_simple<TransposeOp>(r, "Transpose", {&kNaive}, 1, 1);
}

}  // namespace loadrun
