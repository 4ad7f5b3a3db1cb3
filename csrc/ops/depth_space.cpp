// DepthToSpace and SpaceToDepth(input; blocksize, mode): 4-D NCHW
// rearrangements between channels and blocksize x blocksize spatial blocks.
// DepthToSpace: [N, C, H, W] -> [N, C / bs^2, H * bs, W * bs]. mode DCR (the
// default) reads the channels as [bs, bs, C / bs^2] (depth last), CRD as
// [C / bs^2, bs, bs]. SpaceToDepth is its inverse: [N, C, H, W] ->
// [N, C * bs^2, H / bs, W / bs], the new channels ordered [bs, bs, C] (DCR,
// the default and the only order before opset 28) or [C, bs, bs] (CRD).
// Any dtype: elements are moved by size.
// NAIVE: each is one 6-D transpose: a strided copy from a 6-D view of the
// input into the contiguous output. O(n * 6), no workspace.
#include "ops/common.h"
#include "ops/element_copy.h"

namespace loadrun {

namespace {

struct DepthSpaceOp final : Op {
  bool to_space;  // DepthToSpace
  int64_t bs;
  bool crd;
  DepthSpaceOp(bool ts, const Attrs& a) : to_space(ts), bs(a.require_int("blocksize")) {
    std::string m = a.get_string("mode", "DCR");
    LR_CHECK(m == "DCR" || m == "CRD", ModelError, "mode '", m, "' is not one of DCR, CRD");
    crd = m == "CRD";
    LR_CHECK(bs >= 1, ModelError, "blocksize must be >= 1, got ", bs);
  }
  std::string param_key() const override { return str_cat(bs, ";", crd); }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(x.ndim() == 4, ModelError, "input must be 4-D (NCHW), got shape ", shape_str(x.shape));
    int64_t n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
    if (to_space) {
      LR_CHECK(c % (bs * bs) == 0, ModelError, "channels ", c, " are not a multiple of blocksize^2 = ",
               bs * bs);
      ctx.set_output(0, {n, c / (bs * bs), h * bs, w * bs}, x.dtype);
    } else {
      LR_CHECK(h % bs == 0 && w % bs == 0, ModelError, "height ", h, " and width ", w,
               " must be multiples of blocksize ", bs);
      ctx.set_output(0, {n, c * bs * bs, h / bs, w / bs}, x.dtype);
    }
  }
};

// Strides of dims `perm` of a contiguous tensor of shape `view`.
Shape permuted_strides(const Shape& view, const std::vector<int>& perm) {
  Shape st = contiguous_strides(view);
  Shape r;
  for (int p : perm) r.push_back(st[static_cast<size_t>(p)]);
  return r;
}

void depth_space_naive(const DepthSpaceOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  const Shape& s = x.shape();
  int64_t n = s[0], c = s[1], h = s[2], w = s[3], b = op.bs;
  Shape view, out;
  std::vector<int> perm;
  if (op.to_space) {
    int64_t c2 = c / (b * b);
    // output as [n, c2, h, b, w, b]
    if (op.crd) {
      view = {n, c2, b, b, h, w};
      perm = {0, 1, 4, 2, 5, 3};
    } else {
      view = {n, b, b, c2, h, w};
      perm = {0, 3, 4, 1, 5, 2};
    }
    out = {n, c2, h, b, w, b};
  } else {
    view = {n, c, h / b, b, w / b, b};
    if (op.crd) {
      perm = {0, 1, 3, 5, 2, 4};
      out = {n, c, b, b, h / b, w / b};
    } else {
      perm = {0, 3, 5, 1, 2, 4};
      out = {n, b, b, c, h / b, w / b};
    }
  }
  strided_copy(y.raw(), x.raw(), x.dtype(), out, permuted_strides(view, perm), 0);
}

const auto kNaive = naive_algo<DepthSpaceOp>(depth_space_naive);

template <bool ToSpace>
void reg(OpRegistry& r, const char* type) {
  OpDef d;
  d.type = type;
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<DepthSpaceOp>(ToSpace, a); };
  d.algos = {&kNaive};
  d.min_inputs = d.max_inputs = 1;
  r.add(std::move(d));
}

}  // namespace

void register_op_DepthToSpace(OpRegistry& r) { reg<true>(r, "DepthToSpace"); }
void register_op_SpaceToDepth(OpRegistry& r) { reg<false>(r, "SpaceToDepth"); }

}  // namespace loadrun
