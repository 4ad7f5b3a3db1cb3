// Unique: the distinct elements of X (flattened), or without `axis` the
// distinct slices of X along `axis`, with up to three int64 companions:
// indices (where each first occurs), inverse_indices (for every element or
// slice, its position in Y) and counts. sorted=1 orders Y ascending
// (slices lexicographically, NaNs last and equal to each other), sorted=0 by
// first occurrence. Y's size depends on X's values: unless X is known at
// compile time the node is inferred at run time (dynamic shapes).
// NAIVE: a stable sort of the slice indices by slice contents, then one pass
// grouping equal neighbours; done in infer (to size Y) and again in the
// kernel. O(d log d * s) for d slices of s elements, no workspace.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "ops/common.h"

namespace loadrun {

namespace {

struct UniqueResult {
  std::vector<int64_t> first;    // per Y entry (output order): the slice it copies
  std::vector<int64_t> inverse;  // per slice: its Y entry
  std::vector<int64_t> counts;   // per Y entry
};

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
  return false;
}

// -1, 0, 1: a total order where NaN is above every number and equals NaN.
template <class T>
int cmp(T a, T b) {
  bool na = is_nan(a), nb = is_nan(b);
  if (na || nb) return na == nb ? 0 : (na ? 1 : -1);
  return a < b ? -1 : (b < a ? 1 : 0);
}

// Slice k: x[(o * dim + k) * inner + i] for o < outer, i < inner.
template <class T>
UniqueResult unique_slices(const T* x, int64_t outer, int64_t dim, int64_t inner, bool sorted) {
  auto compare = [&](int64_t a, int64_t b) {
    for (int64_t o = 0; o < outer; ++o) {
      const T* pa = x + (o * dim + a) * inner;
      const T* pb = x + (o * dim + b) * inner;
      for (int64_t i = 0; i < inner; ++i) {
        int c = cmp(pa[i], pb[i]);
        if (c) return c;
      }
    }
    return 0;
  };
  std::vector<int64_t> order(static_cast<size_t>(dim));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return compare(a, b) < 0; });
  // Groups of equal slices, in sorted order; each group's first is its smallest index.
  std::vector<int64_t> group_first, group_count, group_of(static_cast<size_t>(dim));
  for (size_t j = 0; j < order.size(); ++j) {
    if (j == 0 || compare(order[j - 1], order[j]) != 0) {
      group_first.push_back(order[j]);
      group_count.push_back(0);
    }
    group_of[order[j]] = static_cast<int64_t>(group_first.size()) - 1;
    ++group_count.back();
  }
  size_t ng = group_first.size();
  std::vector<int64_t> rank(ng);  // group -> Y position
  std::iota(rank.begin(), rank.end(), 0);
  if (!sorted) {
    std::vector<int64_t> by_first(ng);
    std::iota(by_first.begin(), by_first.end(), 0);
    std::sort(by_first.begin(), by_first.end(),
              [&](int64_t a, int64_t b) { return group_first[a] < group_first[b]; });
    for (size_t pos = 0; pos < ng; ++pos) rank[by_first[pos]] = static_cast<int64_t>(pos);
  }
  UniqueResult r;
  r.first.resize(ng);
  r.counts.resize(ng);
  for (size_t gi = 0; gi < ng; ++gi) {
    r.first[rank[gi]] = group_first[gi];
    r.counts[rank[gi]] = group_count[gi];
  }
  r.inverse.resize(static_cast<size_t>(dim));
  for (int64_t k = 0; k < dim; ++k) r.inverse[k] = rank[group_of[k]];
  return r;
}

struct UniqueOp final : Op {
  bool sorted, has_axis;
  int64_t axis;
  explicit UniqueOp(const Attrs& a)
      : sorted(a.get_int("sorted", 1) != 0), has_axis(a.has("axis")), axis(a.get_int("axis", 0)) {}
  std::string param_key() const override {
    return str_cat(sorted, ",", has_axis ? std::to_string(axis) : "flat");
  }

  void split(const Shape& s, int64_t* outer, int64_t* dim, int64_t* inner) const {
    if (!has_axis) {
      *outer = 1, *dim = shape_numel(s), *inner = 1;
      return;
    }
    size_t a = static_cast<size_t>(normalize_axis(axis, static_cast<int64_t>(s.size())));
    *outer = dims_product(s, 0, a), *dim = s[a], *inner = dims_product(s, a + 1, s.size());
  }

  UniqueResult compute(const Tensor& x) const {
    int64_t outer, dim, inner;
    split(x.shape(), &outer, &dim, &inner);
    UniqueResult r;
    DType dt = x.dtype();
    if (dtype_is_lowp_float(dt)) {  // compare as float32 (exact)
      std::vector<float> f(static_cast<size_t>(x.numel()));
      const uint16_t* h = x.ptr<uint16_t>();
      for (size_t i = 0; i < f.size(); ++i)
        f[i] = dt == DType::Float16 ? half_to_float(h[i]) : bf16_to_float(h[i]);
      return unique_slices(f.data(), outer, dim, inner, sorted);
    }
    if (dt == DType::Bool) return unique_slices(x.ptr<uint8_t>(), outer, dim, inner, sorted);
    LR_DISPATCH_NUMERIC(dt, "Unique", r = unique_slices(x.ptr<T>(), outer, dim, inner, sorted));
    return r;
  }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(!has_axis || x.ndim() >= 1, ModelError, "axis given for a scalar input");
    if (has_axis) normalize_axis(axis, static_cast<int64_t>(x.ndim()));
    UniqueResult r = compute(ctx.value(0, "Unique input"));
    int64_t n = static_cast<int64_t>(r.first.size());
    Shape y{n};
    if (has_axis) {
      y = x.shape;
      y[static_cast<size_t>(normalize_axis(axis, static_cast<int64_t>(x.ndim())))] = n;
    }
    ctx.set_output(0, y, x.dtype);
    if (ctx.out.size() > 1) ctx.set_output(1, {n}, DType::Int64);
    if (ctx.out.size() > 2) ctx.set_output(2, {static_cast<int64_t>(r.inverse.size())}, DType::Int64);
    if (ctx.out.size() > 3) ctx.set_output(3, {n}, DType::Int64);
  }
};

void unique_naive(const UniqueOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  UniqueResult r = op.compute(x);
  int64_t outer, dim, inner;
  op.split(x.shape(), &outer, &dim, &inner);
  int64_t n = static_cast<int64_t>(r.first.size());
  Tensor& y = ctx.output(0);
  LR_CHECK(y.numel() == outer * n * inner, InternalError, "Unique output size differs from inference");
  size_t block = static_cast<size_t>(inner) * dtype_size(x.dtype());
  const uint8_t* src = static_cast<const uint8_t*>(x.raw());
  uint8_t* dst = static_cast<uint8_t*>(y.raw());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < n; ++j)
      if (block) std::memcpy(dst + (o * n + j) * block, src + (o * dim + r.first[j]) * block, block);
  const std::vector<int64_t>* extra[] = {&r.first, &r.inverse, &r.counts};
  for (size_t k = 1; k < ctx.out.size() && k < 4; ++k) {
    const std::vector<int64_t>& v = *extra[k - 1];
    if (!v.empty()) std::memcpy(ctx.output(k).raw(), v.data(), v.size() * sizeof(int64_t));
  }
}

const auto kNaive = naive_algo<UniqueOp>(unique_naive);

}  // namespace

void register_op_Unique(OpRegistry& r) { register_simple<UniqueOp>(r, "Unique", {&kNaive}, 1, 1); }

}  // namespace loadrun
