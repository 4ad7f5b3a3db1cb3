// ScatterElements, ScatterND and TensorScatter: a copy of `data` with some of
// its elements or slices overwritten (or combined) by `updates`.
//
// ScatterElements(data, indices, updates; axis, reduction): indices and
// updates share one shape, of data's rank and no larger than data in any dim
// but `axis`; update i goes to data[i with its `axis` coordinate replaced by
// indices[i]]. (The opset-9 Scatter is rewritten into it by the importer.)
// ScatterND(data, indices, updates; reduction): indices' last dim k <= rank
// holds index tuples into data's first k dims; updates has shape
// indices.shape[:-1] ++ data.shape[k:], one slice per tuple.
// reduction: none (overwrite; with duplicate indices the last update wins),
// add, mul, max, min (combine with the current value, in index order).
// TensorScatter(past_cache, update, write_indices?; axis, mode): the KV-cache
// update: for every prefix of dims before `axis` (batch = its first
// coordinate), update's sequence s goes to cache position
// write_indices[batch] + s (mod the cache length when mode = circular).
//
// Indices are int32 or int64 (write_indices int64), negative ones count from
// the end (not write_indices), and one out of range is a ModelError, checked
// before the output is written. reduction = none and TensorScatter move
// elements by size (any dtype); the reductions compute per element in the
// element's type (float16 through float32, integers wrap, bool as or/and).
// NAIVE: copy data to the output, then one pass over the updates, decoding
// flat indices into coordinates (O(numel(data) + numel(updates) * rank)).
// No workspace.
#include <algorithm>
#include <cstring>

#include "ops/common.h"
#include "ops/element_copy.h"
#include "ops/elementwise.h"
#include "ops/indexing.h"

namespace loadrun {

namespace {

enum class Red { None, Add, Mul, Max, Min };

Red parse_reduction(const Attrs& a) {
  std::string s = a.get_string("reduction", "none");
  if (s == "none") return Red::None;
  if (s == "add") return Red::Add;
  if (s == "mul") return Red::Mul;
  if (s == "max") return Red::Max;
  if (s == "min") return Red::Min;
  LR_THROW(ModelError, "reduction '", s, "' is not one of none, add, mul, max, min");
}

// dst = f(dst, src) for one element of type T.
template <typename T>
void combine(T* dst, const T* src, Red red) {
  using N = Num<T>;
  using C = typename N::C;
  C a = N::ld(*dst), b = N::ld(*src);
  C r = a;
  if constexpr (std::is_same_v<C, bool>) {
    switch (red) {
      case Red::Add: case Red::Max: r = a || b; break;
      case Red::Mul: case Red::Min: r = a && b; break;
      case Red::None: r = b; break;
    }
  } else {
    switch (red) {
      case Red::Add: r = add_wrap(a, b); break;
      case Red::Mul: r = mul_wrap(a, b); break;
      case Red::Max: r = std::max(a, b); break;
      case Red::Min: r = std::min(a, b); break;
      case Red::None: r = b; break;
    }
  }
  *dst = N::st(r);
}

// Applies `count` contiguous updates at element offsets: element j of update
// block u goes to dst + offs[u] + j.
void apply_updates(Tensor& out, const Tensor& upd, const std::vector<int64_t>& offs, int64_t block,
                   Red red) {
  if (red == Red::None) {
    size_t es = dtype_size(out.dtype());
    uint8_t* dst = static_cast<uint8_t*>(out.raw());
    const uint8_t* src = static_cast<const uint8_t*>(upd.raw());
    for (size_t u = 0; u < offs.size(); ++u) {
      if (block) std::memcpy(dst + offs[u] * es, src + u * block * es, static_cast<size_t>(block) * es);
    }
    return;
  }
  LR_EW_DISPATCH_ALL(out.dtype(), "scatter reduction", {
    T* dst = out.ptr<T>();
    const T* src = upd.ptr<T>();
    for (size_t u = 0; u < offs.size(); ++u) {
      for (int64_t j = 0; j < block; ++j) combine<T>(dst + offs[u] + j, src + u * block + j, red);
    }
  });
}

void copy_data(const Tensor& x, Tensor& y) {
  if (x.nbytes()) std::memcpy(y.raw(), x.raw(), x.nbytes());
}

// ----------------------------------------------------------- ScatterElements
struct ScatterElementsOp final : Op {
  int64_t axis;
  Red red;
  explicit ScatterElementsOp(const Attrs& a) : axis(a.get_int("axis", 0)), red(parse_reduction(a)) {}
  std::string param_key() const override { return str_cat(axis, ";", static_cast<int>(red)); }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& ind = ctx.input(1);
    const Layout& upd = ctx.input(2);
    LR_CHECK(is_index_dtype(ind.dtype), ModelError, "indices must be int32 or int64, got ",
             dtype_name(ind.dtype));
    LR_CHECK(upd.dtype == x.dtype, ModelError, "updates (", dtype_name(upd.dtype),
             ") must have data's dtype (", dtype_name(x.dtype), ")");
    LR_CHECK(ind.shape == upd.shape, ModelError, "indices ", shape_str(ind.shape),
             " and updates ", shape_str(upd.shape), " must have the same shape");
    check_elements_indices(ctx, x, ind, axis);
    ctx.set_output(0, x.shape, x.dtype);
  }
};

void scatter_elements_naive(const ScatterElementsOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  const Tensor& upd = ctx.input(2);
  Tensor& y = ctx.output(0);
  size_t rank = x.ndim();
  size_t a = static_cast<size_t>(normalize_axis(op.axis, static_cast<int64_t>(rank)));
  const Shape& is = ind.shape();
  Shape xs = contiguous_strides(x.shape());
  int64_t n = ind.numel(), dim = x.shape()[a];
  std::vector<int64_t> offs(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i, off = 0;
    for (size_t d = rank; d-- > 0;) {
      int64_t c = rem % is[d];
      rem /= is[d];
      if (d == a) c = wrap_index(index_at(ind, i), dim, i);
      off += c * xs[d];
    }
    offs[static_cast<size_t>(i)] = off;
  }
  copy_data(x, y);
  apply_updates(y, upd, offs, 1, op.red);
}

// ---------------------------------------------------------------- ScatterND
struct ScatterNDOp final : Op {
  Red red;
  explicit ScatterNDOp(const Attrs& a) : red(parse_reduction(a)) {}
  std::string param_key() const override { return std::to_string(static_cast<int>(red)); }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& ind = ctx.input(1);
    const Layout& upd = ctx.input(2);
    LR_CHECK(is_index_dtype(ind.dtype), ModelError, "indices must be int32 or int64, got ",
             dtype_name(ind.dtype));
    LR_CHECK(upd.dtype == x.dtype, ModelError, "updates (", dtype_name(upd.dtype),
             ") must have data's dtype (", dtype_name(x.dtype), ")");
    size_t r = x.ndim(), q = ind.ndim();
    LR_CHECK(r >= 1 && q >= 1, ModelError, "data and indices must have rank >= 1, got ",
             shape_str(x.shape), " and ", shape_str(ind.shape));
    int64_t k = ind.shape[q - 1];
    LR_CHECK(k >= 1 && k <= static_cast<int64_t>(r), ModelError, "the last dim of indices ",
             shape_str(ind.shape), " must be in [1, rank(data)] = [1, ", r, "]");
    Shape want(ind.shape.begin(), ind.shape.end() - 1);
    want.insert(want.end(), x.shape.begin() + k, x.shape.end());
    LR_CHECK(upd.shape == want, ModelError, "updates must have shape indices.shape[:-1] ++ data.shape[",
             k, ":] = ", shape_str(want), ", got ", shape_str(upd.shape));
    if (const Tensor* v = ctx.value_or_null(1)) {
      for (int64_t i = 0; i < v->numel(); ++i) wrap_index(index_at(*v, i), x.shape[i % k], i);
    }
    ctx.set_output(0, x.shape, x.dtype);
  }
};

void scatter_nd_naive(const ScatterNDOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  const Tensor& upd = ctx.input(2);
  Tensor& y = ctx.output(0);
  const Shape& xs = x.shape();
  int64_t k = ind.shape().back();
  int64_t tuples = ind.numel() / k;
  int64_t block = dims_product(xs, static_cast<size_t>(k), xs.size());
  Shape st = contiguous_strides(xs);
  std::vector<int64_t> offs(static_cast<size_t>(tuples));
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t off = 0;
    for (int64_t j = 0; j < k; ++j) {
      off += wrap_index(index_at(ind, t * k + j), xs[j], t * k + j) * st[j];
    }
    offs[static_cast<size_t>(t)] = off;
  }
  copy_data(x, y);
  apply_updates(y, upd, offs, block, op.red);
}

// ------------------------------------------------------------ TensorScatter
struct TensorScatterOp final : Op {
  int64_t axis;
  bool circular;
  explicit TensorScatterOp(const Attrs& a) : axis(a.get_int("axis", -2)) {
    std::string m = a.get_string("mode", "linear");
    LR_CHECK(m == "linear" || m == "circular", ModelError, "mode '", m,
             "' is not one of linear, circular");
    circular = m == "circular";
  }
  std::string param_key() const override { return str_cat(axis, ";", circular); }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& upd = ctx.input(1);
    LR_CHECK(upd.dtype == x.dtype, ModelError, "update (", dtype_name(upd.dtype),
             ") must have past_cache's dtype (", dtype_name(x.dtype), ")");
    LR_CHECK(upd.ndim() == x.ndim(), ModelError, "update ", shape_str(upd.shape),
             " must have the rank of past_cache ", shape_str(x.shape));
    size_t a = static_cast<size_t>(normalize_axis(axis, static_cast<int64_t>(x.ndim())));
    LR_CHECK(a >= 1, ModelError, "axis ", axis, " must not be the batch axis 0");
    for (size_t d = 0; d < x.ndim(); ++d) {
      bool ok = d == a ? upd.shape[d] <= x.shape[d] : upd.shape[d] == x.shape[d];
      LR_CHECK(ok, ModelError, "update ", shape_str(upd.shape), " does not fit past_cache ",
               shape_str(x.shape), " in dim ", d);
    }
    if (ctx.has(2)) {
      const Layout& wi = ctx.input(2);
      LR_CHECK(is_index_dtype(wi.dtype), ModelError, "write_indices must be int64, got ",
               dtype_name(wi.dtype));
      LR_CHECK(wi.ndim() == 1 && wi.shape[0] == x.shape[0], ModelError, "write_indices ",
               shape_str(wi.shape), " must have shape {", x.shape[0], "} (the batch size)");
    }
    ctx.set_output(0, x.shape, x.dtype);
  }
};

void tensor_scatter_naive(const TensorScatterOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& upd = ctx.input(1);
  Tensor& y = ctx.output(0);
  const Shape& xs = x.shape();
  size_t a = static_cast<size_t>(normalize_axis(op.axis, static_cast<int64_t>(xs.size())));
  int64_t batch = xs[0];
  int64_t per_batch = dims_product(xs, 1, a);  // prefixes per batch entry
  int64_t max_len = xs[a], len = upd.shape()[a];
  int64_t inner = dims_product(xs, a + 1, xs.size());
  std::vector<int64_t> start(static_cast<size_t>(batch), 0);
  if (ctx.has(2)) {
    for (int64_t b = 0; b < batch; ++b) {
      int64_t w = index_at(ctx.input(2), b);
      if (op.circular) {
        LR_CHECK(w >= 0, ModelError, "write_indices[", b, "] = ", w, " is negative");
      } else {
        LR_CHECK(w >= 0 && w + len <= max_len, ModelError, "write_indices[", b, "] = ", w,
                 " with ", len, " updates does not fit a cache of length ", max_len);
      }
      start[static_cast<size_t>(b)] = w;
    }
  } else {
    LR_CHECK(op.circular || len <= max_len, ModelError, "update is longer than the cache");
  }
  std::vector<int64_t> offs;
  offs.reserve(static_cast<size_t>(batch * per_batch * len));
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t p = 0; p < per_batch; ++p) {
      int64_t base = (b * per_batch + p) * max_len;
      for (int64_t s = 0; s < len; ++s) {
        int64_t pos = start[static_cast<size_t>(b)] + s;
        if (op.circular) pos %= max_len;
        offs.push_back((base + pos) * inner);
      }
    }
  }
  copy_data(x, y);
  apply_updates(y, upd, offs, inner, Red::None);
}

const auto kScatterElementsNaive = naive_algo<ScatterElementsOp>(scatter_elements_naive);
const auto kScatterNDNaive = naive_algo<ScatterNDOp>(scatter_nd_naive);
const auto kTensorScatterNaive = naive_algo<TensorScatterOp>(tensor_scatter_naive);

}  // namespace

void register_op_ScatterElements(OpRegistry& r) {
  register_simple<ScatterElementsOp>(r, "ScatterElements", {&kScatterElementsNaive}, 3, 3);
}
void register_op_ScatterND(OpRegistry& r) {
  register_simple<ScatterNDOp>(r, "ScatterND", {&kScatterNDNaive}, 3, 3);
}
void register_op_TensorScatter(OpRegistry& r) {
  register_simple<TensorScatterOp>(r, "TensorScatter", {&kTensorScatterNaive}, 2, 3);
}

}  // namespace loadrun
