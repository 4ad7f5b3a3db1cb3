// Compress: the slices of `input` along `axis` (or, without axis, the elements
// of the flattened input) whose entry in the bool 1-D `condition` is true. A
// condition shorter than the axis drops the slices past its end; a longer one
// may only hold false there. The output size depends on the condition's
// values: unless it is known at compile time the node is inferred at run time.
// NAIVE: memcpy of each selected contiguous inner block (any dtype). O(n), no
// workspace.
#include <cstring>

#include "ops/common.h"

namespace loadrun {

namespace {

struct CompressOp final : Op {
  bool has_axis;
  int64_t axis;
  explicit CompressOp(const Attrs& a) : has_axis(a.has("axis")), axis(a.get_int("axis", 0)) {}
  std::string param_key() const override { return has_axis ? std::to_string(axis) : "flat"; }

  // (outer, dim, inner) of the input as Compress walks it.
  void split(const Shape& s, int64_t* outer, int64_t* dim, int64_t* inner) const {
    if (!has_axis) {
      *outer = 1, *dim = shape_numel(s), *inner = 1;
      return;
    }
    size_t a = static_cast<size_t>(normalize_axis(axis, static_cast<int64_t>(s.size())));
    *outer = dims_product(s, 0, a), *dim = s[a], *inner = dims_product(s, a + 1, s.size());
  }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& c = ctx.input(1);
    LR_CHECK(c.ndim() == 1, ModelError, "condition must be 1-D, got shape ", shape_str(c.shape));
    LR_CHECK(c.dtype == DType::Bool, ModelError, "condition must be bool, got ",
             dtype_name(c.dtype));
    LR_CHECK(!has_axis || x.ndim() >= 1, ModelError, "axis given for a scalar input");
    int64_t outer, dim, inner;
    split(x.shape, &outer, &dim, &inner);
    const Tensor& cond = ctx.value(1, "Compress condition");
    int64_t n = 0;
    for (int64_t i = 0; i < cond.numel(); ++i) {
      if (!cond.ptr<bool>()[i]) continue;
      LR_CHECK(i < dim, ModelError, "condition is true at ", i, ", past the ", dim,
               " entries along the axis");
      ++n;
    }
    Shape out{n};
    if (has_axis) {
      out = x.shape;
      out[static_cast<size_t>(normalize_axis(axis, static_cast<int64_t>(x.ndim())))] = n;
    }
    ctx.set_output(0, out, x.dtype);
  }
};

void compress_naive(const CompressOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& cond = ctx.input(1);
  Tensor& y = ctx.output(0);
  int64_t outer, dim, inner;
  op.split(x.shape(), &outer, &dim, &inner);
  int64_t len = std::min<int64_t>(dim, cond.numel());
  int64_t n = 0;
  for (int64_t k = 0; k < len; ++k) n += cond.ptr<bool>()[k];
  size_t block = static_cast<size_t>(inner) * dtype_size(x.dtype());
  const uint8_t* src = static_cast<const uint8_t*>(x.raw());
  uint8_t* dst = static_cast<uint8_t*>(y.raw());
  for (int64_t o = 0; o < outer; ++o) {
    int64_t j = 0;
    for (int64_t k = 0; k < len; ++k) {
      if (!cond.ptr<bool>()[k]) continue;
      if (block) std::memcpy(dst + (o * n + j) * block, src + (o * dim + k) * block, block);
      ++j;
    }
  }
}

const auto kNaive = naive_algo<CompressOp>(compress_naive);

}  // namespace

void register_op_Compress(OpRegistry& r) {
  register_simple<CompressOp>(r, "Compress", {&kNaive}, 2, 2);
}

}  // namespace loadrun
