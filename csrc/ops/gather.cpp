// Gather: picks entries of `data` along `axis` by `indices` (int32 or int64,
// negative counts from the end). Output shape: data dims before axis, then
// the indices' shape, then data dims after axis; scalar indices drop the axis.
// NAIVE: for each (outer, index) pair, memcpy one contiguous inner block
// (any dtype). O(n), no workspace. COPY_FAST: the indices checked and
// normalised once, then each block copied as words (no memcpy call for the
// small blocks of a gather along an inner axis), the output elements split
// over the step's threads. An index out of range is an error: at
// compile time (constant indices) a ModelError, at run time an InputError.
#include <algorithm>
#include <cstring>

#include "kernels/copy_plan.h"
#include "kernels/fast_algo.h"
#include "ops/common.h"
#include "ops/element_copy.h"

namespace loadrun {

namespace {

template <class E>
void check_index(int64_t idx, int64_t dim, int64_t pos) {
  if (idx < -dim || idx >= dim) {
    throw E(str_cat("index ", idx, " (at position ", pos, " of indices) is out of range for a dim of ",
                    dim, " (valid: ", -dim, "..", dim - 1, ")"));
  }
}

struct GatherOp final : Op {
  int64_t axis;
  explicit GatherOp(const Attrs& a) : axis(a.get_int("axis", 0)) {}
  std::string param_key() const override { return std::to_string(axis); }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& ind = ctx.input(1);
    LR_CHECK(ind.dtype == DType::Int32 || ind.dtype == DType::Int64, ModelError,
             "indices must be int32 or int64, got ", dtype_name(ind.dtype));
    LR_CHECK(x.ndim() >= 1, ModelError, "cannot gather from a scalar");
    size_t a = static_cast<size_t>(normalize_axis(axis, static_cast<int64_t>(x.ndim())));
    if (const Tensor* v = ctx.value_or_null(1)) {
      for (int64_t i = 0; i < v->numel(); ++i) check_index<ModelError>(v->get_i64(i), x.shape[a], i);
    }
    Shape out(x.shape.begin(), x.shape.begin() + a);
    out.insert(out.end(), ind.shape.begin(), ind.shape.end());
    out.insert(out.end(), x.shape.begin() + a + 1, x.shape.end());
    ctx.set_output(0, out, x.dtype);
  }
};

template <typename I>
void gather_loop(size_t a, const Tensor& x, const Tensor& ind, Tensor& y) {
  size_t es = dtype_size(x.dtype());
  int64_t outer = dims_product(x.shape(), 0, a);
  int64_t dim = x.shape()[a];
  int64_t inner = dims_product(x.shape(), a + 1, x.ndim());
  int64_t n = ind.numel();
  const I* idx = ind.ptr<I>();
  for (int64_t j = 0; j < n; ++j) check_index<InputError>(static_cast<int64_t>(idx[j]), dim, j);
  const uint8_t* src = static_cast<const uint8_t*>(x.raw());
  uint8_t* dst = static_cast<uint8_t*>(y.raw());
  size_t block = static_cast<size_t>(inner) * es;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < n; ++j) {
      int64_t k = idx[j] < 0 ? idx[j] + dim : idx[j];
      if (block) std::memcpy(dst + (o * n + j) * block, src + (o * dim + k) * block, block);
    }
  }
}

void gather_naive(const GatherOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  size_t a = static_cast<size_t>(normalize_axis(op.axis, static_cast<int64_t>(x.ndim())));
  if (ind.dtype() == DType::Int32) {
    gather_loop<int32_t>(a, x, ind, ctx.output(0));
  } else {
    gather_loop<int64_t>(a, x, ind, ctx.output(0));
  }
}

const auto kNaive = naive_algo<GatherOp>(gather_naive);

bool word_sized(DType dt) {
  size_t s = dtype_size(dt);
  return s == 1 || s == 2 || s == 4 || s == 8;
}

bool gather_fast_usable(const GatherOp&, const InLayouts& in, const OutLayouts&) {
  return word_sized(in[0]->dtype);
}

template <typename I>
void gather_fast_loop(size_t a, const Tensor& x, const Tensor& ind, Tensor& y, CompNode* cn) {
  const int64_t outer = dims_product(x.shape(), 0, a);
  const int64_t dim = x.shape()[a];
  const int64_t inner = dims_product(x.shape(), a + 1, x.ndim());
  const int64_t n = ind.numel();
  const I* idx = ind.ptr<I>();
  std::vector<int64_t> k(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) {
    check_index<InputError>(static_cast<int64_t>(idx[j]), dim, j);
    k[j] = idx[j] < 0 ? idx[j] + dim : idx[j];
  }
  with_word_type(x.dtype(), [&](auto tag) {
    using W = decltype(tag);
    const W* src = static_cast<const W*>(x.raw());
    W* dst = static_cast<W*>(y.raw());
    // The output elements split over the threads; output row t = (o, j)
    // of `inner` elements copies source row k[j] of block o.
    const double bytes = 2.0 * sizeof(W) + 16.0 / static_cast<double>(inner);
    kernels::split_elems(cn, outer * n * inner, bytes, [&](int64_t begin, int64_t end) {
      int64_t t = begin / inner, pos = begin % inner;
      int64_t j = t % n;
      const W* so = src + (t / n) * dim * inner;
      for (int64_t cur = begin; cur < end; ++t) {
        const int64_t len = std::min(inner - pos, end - cur);
        if (inner == 1)
          dst[cur] = so[k[j]];
        else
          kernels::copy_run(dst + cur, so + k[j] * inner + pos, 1, len);
        cur += len;
        pos = 0;
        if (++j == n) {
          j = 0;
          so += dim * inner;
        }
      }
    });
  });
}

void gather_fast(const GatherOp& op, const KernCtx& ctx, const kernels::KernelTable&) {
  const Tensor& x = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  size_t a = static_cast<size_t>(normalize_axis(op.axis, static_cast<int64_t>(x.ndim())));
  if (ind.dtype() == DType::Int32) {
    gather_fast_loop<int32_t>(a, x, ind, ctx.output(0), ctx.comp_node);
  } else {
    gather_fast_loop<int64_t>(a, x, ind, ctx.output(0), ctx.comp_node);
  }
}

const KernelAlgo<GatherOp> kFast("COPY_FAST", gather_fast_usable, gather_fast);

}  // namespace

void register_op_Gather(OpRegistry& r) { register_simple<GatherOp>(r, "Gather", {&kNaive, &kFast}, 2, 2); }

}  // namespace loadrun
