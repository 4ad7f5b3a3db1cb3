// CenterCropPad(input, shape; axes): input cropped or zero-padded, centred,
// to `shape` along `axes` (default: every dim, one shape entry each; negative
// axes count from the end). A crop starts at (dim - size) / 2 rounded down;
// a pad puts (size - dim) / 2 rounded down zeros before and the rest after.
// `shape` (int32/int64) decides the output shape, so it is read at compile
// time. Any dtype: elements are moved by size; zero is all-zero bits.
// NAIVE: for each output element, map every coordinate back to the input
// (o - pad_before + crop_start) and copy it, or zero when it falls outside.
// O(n * rank), no workspace.
#include <cstring>

#include "ops/common.h"
#include "ops/element_copy.h"

namespace loadrun {

namespace {

struct CenterCropPadOp final : Op {
  std::vector<int64_t> axes;
  bool has_axes;
  explicit CenterCropPadOp(const Attrs& a) : axes(a.get_ints("axes")), has_axes(a.has("axes")) {}
  std::string param_key() const override { return has_axes ? shape_str(axes) : "all"; }

  // Normalised axes for a rank; ModelError on out-of-range or repeated ones.
  std::vector<int64_t> axes_for(int64_t rank) const {
    std::vector<int64_t> r;
    if (!has_axes) {
      for (int64_t d = 0; d < rank; ++d) r.push_back(d);
      return r;
    }
    std::vector<bool> seen(static_cast<size_t>(rank), false);
    for (int64_t a : axes) {
      int64_t n = normalize_axis(a, rank, "axes entry");
      LR_CHECK(!seen[static_cast<size_t>(n)], ModelError, "axes ", shape_str(axes), " repeats axis ", n);
      seen[static_cast<size_t>(n)] = true;
      r.push_back(n);
    }
    return r;
  }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    std::vector<int64_t> sh = ctx.value(1, "CenterCropPad shape").to_i64_vector();
    std::vector<int64_t> ax = axes_for(static_cast<int64_t>(x.ndim()));
    LR_CHECK(sh.size() == ax.size(), ModelError, "shape ", shape_str(sh), " has ", sh.size(),
             " entries for ", ax.size(), " axes");
    Shape out = x.shape;
    for (size_t i = 0; i < ax.size(); ++i) {
      LR_CHECK(sh[i] >= 0, ModelError, "shape ", shape_str(sh), " has a negative entry");
      out[static_cast<size_t>(ax[i])] = sh[i];
    }
    ctx.set_output(0, out, x.dtype);
  }
};

void center_crop_pad_naive(const CenterCropPadOp&, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  const Shape& in = x.shape();
  const Shape& out = y.shape();
  size_t rank = in.size();
  // Input coordinate = output coordinate + shift[d] (negative where padded).
  Shape shift(rank);
  for (size_t d = 0; d < rank; ++d) {
    shift[d] = in[d] >= out[d] ? (in[d] - out[d]) / 2 : -((out[d] - in[d]) / 2);
  }
  Shape st = contiguous_strides(in);
  int64_t n = y.numel();
  with_word_type(x.dtype(), [&](auto tag) {
    using W = decltype(tag);
    const W* src = x.ptr<W>();
    W* dst = y.ptr<W>();
    for (int64_t i = 0; i < n; ++i) {
      int64_t rem = i, off = 0;
      bool inside = true;
      for (size_t d = rank; d-- > 0;) {
        int64_t c = rem % out[d] + shift[d];
        rem /= out[d];
        if (c < 0 || c >= in[d]) inside = false;
        off += c * st[d];
      }
      dst[i] = inside ? src[off] : W(0);
    }
  });
}

const auto kNaive = naive_algo<CenterCropPadOp>(center_crop_pad_naive);

}  // namespace

void register_op_CenterCropPad(OpRegistry& r) {
  register_simple<CenterCropPadOp>(r, "CenterCropPad", {&kNaive}, 2, 2);
}

}  // namespace loadrun
