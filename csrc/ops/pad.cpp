// Pad (opset 11+ form: pads, optional constant_value and, opset 18, optional
// axes as inputs; the opset < 11 attributes are moved there by the importer).
// pads lists the begin amounts then the end amounts; negative pads crop.
// Modes: constant (constant_value, default 0), reflect (mirror without
// repeating the edge), edge (repeat the edge), wrap (opset 19, periodic).
// NAIVE: for each output element, map every coordinate back into the input
// by the mode; constant mode writes the value where a coordinate falls
// outside. O(n * rank), no workspace (any dtype).
#include <algorithm>
#include <cstring>

#include "kernels/fast_algo.h"
#include "kernels/parallel_split.h"
#include "ops/common.h"
#include "ops/element_copy.h"

namespace loadrun {

namespace {

enum class PadMode { Constant, Reflect, Edge, Wrap };

struct PadOp final : Op {
  PadMode mode;
  std::string mode_name;
  explicit PadOp(const Attrs& a) : mode_name(a.get_string("mode", "constant")) {
    if (mode_name == "constant") {
      mode = PadMode::Constant;
    } else if (mode_name == "reflect") {
      mode = PadMode::Reflect;
    } else if (mode_name == "edge") {
      mode = PadMode::Edge;
    } else if (mode_name == "wrap") {
      mode = PadMode::Wrap;
    } else {
      LR_THROW(ModelError, "mode '", mode_name, "' is not one of constant, reflect, edge, wrap");
    }
  }
  std::string param_key() const override { return mode_name; }

  // Per-dim begin and end pads from the pads (and axes) values.
  void resolve(const Shape& in, const std::vector<int64_t>& pads, const std::vector<int64_t>& axes,
               Shape* begin, Shape* end) const {
    size_t rank = in.size();
    std::vector<int64_t> ax = axes;
    if (ax.empty()) {
      for (size_t d = 0; d < rank; ++d) ax.push_back(static_cast<int64_t>(d));
    }
    LR_CHECK(pads.size() == 2 * ax.size(), ModelError, "pads ", shape_str(pads), " has ",
             pads.size(), " entries, expected ", 2 * ax.size(), " (2 per padded axis)");
    begin->assign(rank, 0);
    end->assign(rank, 0);
    std::vector<char> seen(rank, 0);
    for (size_t i = 0; i < ax.size(); ++i) {
      int64_t a = normalize_axis(ax[i], static_cast<int64_t>(rank));
      LR_CHECK(!seen[a], ModelError, "axes ", shape_str(ax), " repeat axis ", ax[i]);
      seen[a] = 1;
      (*begin)[a] = pads[i];
      (*end)[a] = pads[i + ax.size()];
    }
  }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    std::vector<int64_t> pads = ctx.value(1, "Pad pads").to_i64_vector();
    std::vector<int64_t> axes;
    if (ctx.has(3)) axes = ctx.value(3, "Pad axes").to_i64_vector();
    Shape b, e;
    resolve(x.shape, pads, axes, &b, &e);
    Shape out(x.ndim());
    for (size_t d = 0; d < x.ndim(); ++d) {
      out[d] = x.shape[d] + b[d] + e[d];
      LR_CHECK(out[d] >= 0, ModelError, "pads ", shape_str(pads), " crop more than dim ", d,
               " of ", shape_str(x.shape), " holds");
      if (mode != PadMode::Constant && (b[d] > 0 || e[d] > 0)) {
        LR_CHECK(x.shape[d] > 0, ModelError, "cannot ", mode_name, "-pad dim ", d,
                 " of size 0 (input ", shape_str(x.shape), ")");
      }
    }
    if (ctx.has(2)) {
      LR_CHECK(ctx.input(2).numel() == 1, ModelError,
               "constant_value must hold one element, got shape ", shape_str(ctx.input(2).shape));
    }
    ctx.set_output(0, out, x.dtype);
  }
};

// Input coordinate for output coordinate c - begin, or -1 for "constant".
int64_t source_coord(PadMode mode, int64_t c, int64_t n) {
  if (c >= 0 && c < n) return c;
  switch (mode) {
    case PadMode::Constant: return -1;
    case PadMode::Edge: return c < 0 ? 0 : n - 1;
    case PadMode::Wrap: return ((c % n) + n) % n;
    case PadMode::Reflect: {
      if (n == 1) return 0;
      int64_t period = 2 * (n - 1);
      c = ((c % period) + period) % period;
      return c < n ? c : period - c;
    }
  }
  return -1;
}

void pad_naive(const PadOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  std::vector<int64_t> axes;
  if (ctx.has(3)) axes = ctx.input(3).to_i64_vector();
  Shape b, e;
  op.resolve(x.shape(), ctx.input(1).to_i64_vector(), axes, &b, &e);
  uint64_t value = 0;  // the fill element's bytes (zero by default)
  if (ctx.has(2)) scalar_as(ctx.input(2), x.dtype(), &value);
  const Shape& in = x.shape();
  const Shape& out = y.shape();
  Shape st = contiguous_strides(in);
  int64_t n = y.numel();
  size_t rank = out.size();
  with_word_type(x.dtype(), [&](auto tag) {
    using W = decltype(tag);
    W fill;
    std::memcpy(&fill, &value, sizeof(W));
    const W* src = x.ptr<W>();
    W* dst = y.ptr<W>();
    for (int64_t i = 0; i < n; ++i) {
      int64_t rem = i, off = 0;
      bool outside = false;
      for (size_t d = rank; d-- > 0;) {
        int64_t c = source_coord(op.mode, rem % out[d] - b[d], in[d]);
        rem /= out[d];
        if (c < 0) {
          outside = true;
          break;
        }
        off += c * st[d];
      }
      dst[i] = outside ? fill : src[off];
    }
  });
}

const auto kNaive = naive_algo<PadOp>(pad_naive);

// --- COPY_FAST (any mode, word-sized dtypes, rank >= 1): the same source
// coordinates as NAIVE, tabled once per output coordinate of every dim.
// Output rows (all dims but the last) are independent: a row whose outer
// coordinates fall outside (constant mode) is one fill; otherwise the
// input row's kept middle is one memcpy and the padded columns on either
// side read the last dim's table. The output elements (pieces of rows) are
// split over the step's threads. O(n) plus O(rank) per row; results equal
// NAIVE's.

bool pad_fast_usable(const PadOp&, const InLayouts& in, const OutLayouts&) {
  const size_t s = dtype_size(in[0]->dtype);
  return in[0]->ndim() >= 1 && (s == 1 || s == 2 || s == 4 || s == 8);
}

void pad_fast(const PadOp& op, const KernCtx& ctx, const kernels::KernelTable&) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  std::vector<int64_t> axes;
  if (ctx.has(3)) axes = ctx.input(3).to_i64_vector();
  Shape b, e;
  op.resolve(x.shape(), ctx.input(1).to_i64_vector(), axes, &b, &e);
  uint64_t value = 0;
  if (ctx.has(2)) scalar_as(ctx.input(2), x.dtype(), &value);
  const Shape& in = x.shape();
  const Shape& out = y.shape();
  if (y.numel() == 0) return;
  const size_t rank = out.size(), last = rank - 1;
  const Shape st = contiguous_strides(in);
  // tab[d][c]: the input coordinate output coordinate c of dim d reads (-1: fill).
  std::vector<std::vector<int64_t>> tab(rank);
  for (size_t d = 0; d < rank; ++d)
    for (int64_t c = 0; c < out[d]; ++c) tab[d].push_back(source_coord(op.mode, c - b[d], in[d]));
  // Columns [lo, hi) copy input columns [lo - b, hi - b) as they are.
  const int64_t ow = out[last];
  const int64_t lo = std::min(std::max<int64_t>(b[last], 0), ow);
  const int64_t hi = std::max(lo, std::min(ow, b[last] + in[last]));
  const int64_t rows = y.numel() / ow;
  with_word_type(x.dtype(), [&](auto tag) {
    using W = decltype(tag);
    W fill;
    std::memcpy(&fill, &value, sizeof(W));
    const W* src = x.ptr<W>();
    W* dst = y.ptr<W>();
    const std::vector<int64_t>& cols = tab[last];
    // The output elements split over the threads: a range covers pieces
    // [j0, j1) of rows.
    const double bytes = 2.0 * sizeof(W) + 32.0 / static_cast<double>(ow);
    kernels::split_elems(ctx.comp_node, rows * ow, bytes, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin / ow; r * ow < end; ++r) {
        const int64_t j0 = std::max(begin, r * ow) - r * ow;
        const int64_t j1 = std::min(end, (r + 1) * ow) - r * ow;
        W* yr = dst + r * ow;
        int64_t off = 0, rem = r;
        bool outside = false;
        for (size_t d = last; d-- > 0;) {
          const int64_t c = tab[d][rem % out[d]];
          rem /= out[d];
          if (c < 0) outside = true;
          off += c * st[d];
        }
        if (outside) {
          std::fill(yr + j0, yr + j1, fill);
          continue;
        }
        const W* xr = src + off;
        const int64_t m0 = std::max(lo, j0), m1 = std::min(hi, j1);
        for (int64_t j = j0; j < std::min(lo, j1); ++j) yr[j] = cols[j] < 0 ? fill : xr[cols[j]];
        if (m1 > m0) std::memcpy(yr + m0, xr + (m0 - b[last]), static_cast<size_t>(m1 - m0) * sizeof(W));
        for (int64_t j = std::max(hi, j0); j < j1; ++j) yr[j] = cols[j] < 0 ? fill : xr[cols[j]];
      }
    });
  });
}

const KernelAlgo<PadOp> kFast("COPY_FAST", pad_fast_usable, pad_fast);

}  // namespace

void register_op_Pad(OpRegistry& r) { register_simple<PadOp>(r, "Pad", {&kNaive, &kFast}, 2, 4); }

}  // namespace loadrun
