// Transpose: output dim d is input dim perm[d]; perm defaults to the
// reversed dims.
// NAIVE: for each output element, the input offset from its multi-index and
// the permuted input strides (element_copy's strided_copy, any dtype).
// O(n * rank), no workspace.
#include <algorithm>

#include <cstring>

#include "kernels/fast_algo.h"
#include "kernels/parallel_split.h"
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
  // Moving only dims of size 1 keeps every element where it was.
  int view_input_at(const InferCtx& ic) const override {
    if (!ic.has(0)) return -1;
    const Shape& s = ic.input(0).shape;
    std::vector<int64_t> p = perm(s.size());
    int64_t last = -1;
    for (int64_t d : p) {
      if (s[d] == 1) continue;
      if (d < last) return -1;
      last = d;
    }
    return 0;
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

// --- fast algorithm (TRANSPOSE_FAST, on kernel_table()). The permutation
// is first reduced: size-1 dims dropped, input dims that stay neighbours in
// the output merged (BERT's 0,2,1,3 on [1,128,2,64] becomes 1,0 on
// [128,2] blocks of 64). Then either the input's last dim stays last, and
// each output run is one memcpy (any dtype), or, for 4-byte dtypes, every
// pair (input's last dim, output's last dim) is a 2-D transpose done in
// cache tiles (AVX2: 8x8 register transposes). A pure data move: results
// equal NAIVE's. The runs, or the 2-D transposes cut into blocks of 64 rows
// (or columns, the longer side), are split over the step's threads.

struct Collapsed {
  std::vector<int64_t> in_dims;  // sizes, input order
  std::vector<int64_t> perm;     // output dim j reads input dim perm[j]
};

Collapsed collapse_perm(const Shape& in, const std::vector<int64_t>& p) {
  // Input dims to keep (size > 1), renumbered.
  std::vector<int64_t> newid(in.size(), -1);
  std::vector<int64_t> sizes;
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i] != 1) {
      newid[i] = static_cast<int64_t>(sizes.size());
      sizes.push_back(in[i]);
    }
  std::vector<int64_t> q;
  for (int64_t v : p)
    if (newid[v] >= 0) q.push_back(newid[v]);
  // Merge output neighbours j, j+1 that read input neighbours q[j], q[j] + 1.
  std::vector<std::vector<int64_t>> groups;  // input dims per merged dim, output order
  for (size_t j = 0; j < q.size(); ++j) {
    if (!groups.empty() && groups.back().back() + 1 == q[j])
      groups.back().push_back(q[j]);
    else
      groups.push_back({q[j]});
  }
  // Merged dims in input order: sort groups by their first input dim.
  std::vector<size_t> order(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) order[g] = g;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return groups[a][0] < groups[b][0]; });
  Collapsed c;
  c.perm.assign(groups.size(), 0);
  for (size_t k = 0; k < order.size(); ++k) {
    int64_t sz = 1;
    for (int64_t d : groups[order[k]]) sz *= sizes[d];
    c.in_dims.push_back(sz);
    c.perm[order[k]] = static_cast<int64_t>(k);
  }
  return c;
}

bool transpose_fast_usable(const TransposeOp& op, const InLayouts& in, const OutLayouts&) {
  const Layout& x = *in[0];
  if (x.numel() == 0) return true;
  Collapsed c = collapse_perm(x.shape, op.perm(x.ndim()));
  const size_t r = c.perm.size();
  if (r <= 1 || c.perm[r - 1] == static_cast<int64_t>(r - 1)) return true;
  return dtype_size(x.dtype) == 4;
}

// Calls f(in_offset, out_offset) over the indices [begin, end) of `dims`
// in row-major order (odometer); offsets in elements.
template <class F>
void for_each_index(const std::vector<int64_t>& dims, const std::vector<int64_t>& in_st,
                    const std::vector<int64_t>& out_st, int64_t begin, int64_t end, F f) {
  if (begin >= end) return;
  const size_t nd = dims.size();
  std::vector<int64_t> idx(nd, 0);
  int64_t io = 0, oo = 0;
  for (size_t d = nd, t = static_cast<size_t>(begin); d-- > 0;) {
    idx[d] = static_cast<int64_t>(t % static_cast<size_t>(dims[d]));
    t /= static_cast<size_t>(dims[d]);
    io += idx[d] * in_st[d];
    oo += idx[d] * out_st[d];
  }
  for (int64_t k = begin;;) {
    f(io, oo);
    if (++k == end) return;
    size_t d = nd;
    for (;;) {
      if (d == 0) return;
      --d;
      if (++idx[d] < dims[d]) {
        io += in_st[d];
        oo += out_st[d];
        break;
      }
      io -= in_st[d] * (dims[d] - 1);
      oo -= out_st[d] * (dims[d] - 1);
      idx[d] = 0;
    }
  }
}

int64_t product(const std::vector<int64_t>& d) {
  int64_t p = 1;
  for (int64_t v : d) p *= v;
  return p;
}

void transpose_fast(const TransposeOp& op, const KernCtx& ctx, const kernels::EltwiseImpl& impl) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  const size_t es = dtype_size(x.dtype());
  if (x.numel() == 0) return;
  Collapsed c = collapse_perm(x.shape(), op.perm(x.ndim()));
  const size_t r = c.perm.size();
  const uint8_t* src = static_cast<const uint8_t*>(x.raw());
  uint8_t* dst = static_cast<uint8_t*>(y.raw());
  const int64_t esz = static_cast<int64_t>(es);
  if (r <= 1) {
    kernels::split_elems(ctx.comp_node, x.numel(), 2.0 * esz, [&](int64_t b, int64_t e) {
      std::memcpy(dst + b * esz, src + b * esz, static_cast<size_t>((e - b) * esz));
    });
    return;
  }
  // Strides (elements) of the collapsed input, and of the output in output order.
  std::vector<int64_t> in_st(r), out_dims(r), out_st(r);
  int64_t acc = 1;
  for (size_t i = r; i-- > 0;) {
    in_st[i] = acc;
    acc *= c.in_dims[i];
  }
  for (size_t j = 0; j < r; ++j) out_dims[j] = c.in_dims[c.perm[j]];
  acc = 1;
  for (size_t j = r; j-- > 0;) {
    out_st[j] = acc;
    acc *= out_dims[j];
  }
  if (c.perm[r - 1] == static_cast<int64_t>(r - 1)) {
    // Contiguous runs of the last dim, the runs split over the threads.
    const size_t run = static_cast<size_t>(out_dims[r - 1]) * es;
    std::vector<int64_t> dims, ist, ost;
    for (size_t j = 0; j + 1 < r; ++j) {
      dims.push_back(out_dims[j]);
      ist.push_back(in_st[c.perm[j]]);
      ost.push_back(out_st[j]);
    }
    kernels::split_items(ctx.comp_node, product(dims), 2.0 * static_cast<double>(run) + 16,
                         [&](int64_t b, int64_t e, int) {
                           // by value: the copies stay in registers across memcpy
                           for_each_index(dims, ist, ost, b, e, [=](int64_t io, int64_t oo) {
                             std::memcpy(dst + oo * esz, src + io * esz, run);
                           });
                         });
    return;
  }
  // 2-D transposes: rows = the input dim that is last in the output, cols =
  // the input's last dim (at output position j0).
  size_t j0 = 0;
  while (c.perm[j0] != static_cast<int64_t>(r - 1)) ++j0;
  const int64_t i1 = c.perm[r - 1];
  const int64_t rows = c.in_dims[i1], cols = c.in_dims[r - 1];
  const int64_t lds = in_st[i1], ldd = out_st[j0];
  std::vector<int64_t> dims, ist, ost;
  for (size_t j = 0; j + 1 < r; ++j) {
    if (j == j0) continue;
    dims.push_back(out_dims[j]);
    ist.push_back(in_st[c.perm[j]]);
    ost.push_back(out_st[j]);
  }
  const float* sf = reinterpret_cast<const float*>(src);
  float* df = reinterpret_cast<float*>(dst);
  // Items: (2-D transpose, block of kBlk rows or columns, the longer side),
  // so that one large transpose splits too.
  constexpr int64_t kBlk = 64;
  const bool by_rows = rows >= cols;
  const int64_t span = by_rows ? rows : cols, nblk = (span + kBlk - 1) / kBlk;
  const double item_bytes = 8.0 * static_cast<double>(std::min(span, kBlk)) *
                            static_cast<double>(by_rows ? cols : rows);
  kernels::split_items(ctx.comp_node, product(dims) * nblk, item_bytes,
                       [&](int64_t b, int64_t e, int) {
    const int64_t o0 = b / nblk, o1 = (e - 1) / nblk + 1;
    int64_t t = o0 * nblk;
    for_each_index(dims, ist, ost, o0, o1, [&](int64_t io, int64_t oo) {
      for (int64_t k = 0; k < nblk; ++k, ++t) {
        if (t < b || t >= e) continue;
        const int64_t lo = k * kBlk, n = std::min(kBlk, span - lo);
        if (by_rows)
          impl.transpose32(sf + io + lo * lds, lds, df + oo + lo, ldd, n, cols);
        else
          impl.transpose32(sf + io + lo, lds, df + oo + lo * ldd, ldd, rows, n);
      }
    });
  });
}

const KernelAlgo<TransposeOp> kFast("TRANSPOSE_FAST", transpose_fast_usable,
                                            transpose_fast);

}  // namespace

void register_op_Transpose(OpRegistry& r) {
  register_simple<TransposeOp>(r, "Transpose", {&kNaive, &kFast}, 1, 1);
}

}  // namespace loadrun
