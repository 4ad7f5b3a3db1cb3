// GatherElements and GatherND: element-wise and tuple-wise gathers.
//
// GatherElements(data, indices; axis): output has indices' shape (same rank
// as data, every dim but `axis` no larger than data's); out[i] = data[i with
// its `axis` coordinate replaced by indices[i]].
// GatherND(data, indices; batch_dims b): indices' last dim k (<= rank - b)
// holds index tuples into data's dims b..b+k-1; the first b dims of both are
// batch dims and must match. Output: indices.shape[:-1] ++ data.shape[b+k:],
// each tuple selecting one contiguous slice of data.
//
// Indices are int32 or int64, negative ones count from the end, and one out of
// range is a ModelError (checked before any element is read). Any dtype: the
// elements are moved by their size, never looked at.
// NAIVE: GatherElements walks the output, decoding each flat index into
// coordinates (O(n * rank)); GatherND memcpy's one slice per tuple (O(n)).
// No workspace.
#include <algorithm>
#include <cstring>

#include "ops/common.h"
#include "ops/element_copy.h"
#include "ops/indexing.h"

namespace loadrun {

namespace {

// ------------------------------------------------------------ GatherElements
struct GatherElementsOp final : Op {
  int64_t axis;
  explicit GatherElementsOp(const Attrs& a) : axis(a.get_int("axis", 0)) {}
  std::string param_key() const override { return std::to_string(axis); }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& ind = ctx.input(1);
    LR_CHECK(is_index_dtype(ind.dtype), ModelError, "indices must be int32 or int64, got ",
             dtype_name(ind.dtype));
    check_elements_indices(ctx, x, ind, axis);
    ctx.set_output(0, ind.shape, x.dtype);
  }
};

void gather_elements_naive(const GatherElementsOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  Tensor& y = ctx.output(0);
  size_t rank = x.ndim();
  size_t a = static_cast<size_t>(normalize_axis(op.axis, static_cast<int64_t>(rank)));
  const Shape& is = ind.shape();
  Shape xs = contiguous_strides(x.shape());
  int64_t n = ind.numel(), dim = x.shape()[a];
  for (int64_t i = 0; i < n; ++i) wrap_index(index_at(ind, i), dim, i);
  with_word_type(x.dtype(), [&](auto tag) {
    using W = decltype(tag);
    const W* src = x.ptr<W>();
    W* dst = y.ptr<W>();
    for (int64_t i = 0; i < n; ++i) {
      int64_t rem = i, off = 0;
      for (size_t d = rank; d-- > 0;) {
        int64_t c = rem % is[d];
        rem /= is[d];
        if (d == a) c = wrap_index(index_at(ind, i), dim, i);
        off += c * xs[d];
      }
      dst[i] = src[off];
    }
  });
}

// ------------------------------------------------------------------ GatherND
struct GatherNDOp final : Op {
  int64_t batch_dims;
  explicit GatherNDOp(const Attrs& a) : batch_dims(a.get_int("batch_dims", 0)) {}
  std::string param_key() const override { return std::to_string(batch_dims); }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& ind = ctx.input(1);
    LR_CHECK(is_index_dtype(ind.dtype), ModelError, "indices must be int32 or int64, got ",
             dtype_name(ind.dtype));
    int64_t r = static_cast<int64_t>(x.ndim()), q = static_cast<int64_t>(ind.ndim());
    int64_t b = batch_dims;
    LR_CHECK(r >= 1 && q >= 1, ModelError, "data and indices must have rank >= 1, got ",
             shape_str(x.shape), " and ", shape_str(ind.shape));
    LR_CHECK(b >= 0 && b < std::min(r, q), ModelError, "batch_dims ", b,
             " must be in [0, min(rank(data), rank(indices))) = [0, ", std::min(r, q), ")");
    for (int64_t d = 0; d < b; ++d) {
      LR_CHECK(x.shape[d] == ind.shape[d], ModelError, "batch dim ", d, " differs: data ",
               shape_str(x.shape), ", indices ", shape_str(ind.shape));
    }
    int64_t k = ind.shape[q - 1];
    LR_CHECK(k >= 1 && k <= r - b, ModelError, "the last dim of indices ", shape_str(ind.shape),
             " must be in [1, rank(data) - batch_dims] = [1, ", r - b, "]");
    if (const Tensor* v = ctx.value_or_null(1)) {
      for (int64_t i = 0; i < v->numel(); ++i) wrap_index(index_at(*v, i), x.shape[b + i % k], i);
    }
    Shape out(ind.shape.begin(), ind.shape.end() - 1);
    out.insert(out.end(), x.shape.begin() + b + k, x.shape.end());
    ctx.set_output(0, out, x.dtype);
  }
};

void gather_nd_naive(const GatherNDOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  Tensor& y = ctx.output(0);
  const Shape& xs = x.shape();
  const Shape& is = ind.shape();
  size_t b = static_cast<size_t>(op.batch_dims);
  size_t q = is.size(), r = xs.size();
  int64_t k = is[q - 1];
  int64_t batches = dims_product(xs, 0, b);
  int64_t per_batch = dims_product(is, b, q - 1);           // tuples per batch
  int64_t slice = dims_product(xs, b + static_cast<size_t>(k), r);  // elements per tuple
  int64_t batch_elems = dims_product(xs, b, r);
  Shape st = contiguous_strides(xs);
  size_t es = dtype_size(x.dtype());
  for (int64_t i = 0; i < ind.numel(); ++i) wrap_index(index_at(ind, i), xs[b + i % k], i);
  const uint8_t* src = static_cast<const uint8_t*>(x.raw());
  uint8_t* dst = static_cast<uint8_t*>(y.raw());
  for (int64_t bi = 0; bi < batches; ++bi) {
    for (int64_t t = 0; t < per_batch; ++t) {
      int64_t tup = (bi * per_batch + t) * k;  // position of the tuple in indices
      int64_t off = bi * batch_elems;
      for (int64_t j = 0; j < k; ++j) {
        off += wrap_index(index_at(ind, tup + j), xs[b + j], tup + j) * st[b + j];
      }
      if (slice) {
        std::memcpy(dst + (bi * per_batch + t) * slice * es, src + off * es,
                    static_cast<size_t>(slice) * es);
      }
    }
  }
}

const auto kGatherElementsNaive = naive_algo<GatherElementsOp>(gather_elements_naive);
const auto kGatherNDNaive = naive_algo<GatherNDOp>(gather_nd_naive);

}  // namespace

void register_op_GatherElements(OpRegistry& r) {
  register_simple<GatherElementsOp>(r, "GatherElements", {&kGatherElementsNaive}, 2, 2);
}
void register_op_GatherND(OpRegistry& r) {
  register_simple<GatherNDOp>(r, "GatherND", {&kGatherNDNaive}, 2, 2);
}

}  // namespace loadrun
