// MaxUnpool (ONNX): the partial inverse of MaxPool. The unpooled shape U is
// N, C and per spatial dim (in - 1) * stride + kernel - pad_begin -
// pad_end; each X element goes to the flat position of U (N and C included)
// that the int64 index tensor I gives for it, all else is 0. Y is U, or,
// when the optional output_shape input (known at compile time) is given, a
// zero tensor of that shape with U in its leading corner (the ONNX reference
// does this; output_shape smaller than U is a ModelError).
// An index outside U is an InputError. Any dtype (elements are copied).
// NAIVE: zero-fill, then one scatter pass over X, each index decomposed over
// U and recomposed over Y. O(numel(X) * rank + numel(Y)).
#include <cstring>

#include "ops/common.h"

namespace loadrun {

namespace {

struct MaxUnpoolOp final : Op {
  std::vector<int64_t> kernel, strides, pads;
  explicit MaxUnpoolOp(const Attrs& a)
      : kernel(a.get_ints("kernel_shape")),
        strides(a.get_ints("strides")),
        pads(a.get_ints("pads")) {
    LR_CHECK(!kernel.empty(), ModelError, "MaxUnpool: kernel_shape is required");
    LR_CHECK(strides.empty() || strides.size() == kernel.size(), ModelError,
             "MaxUnpool: strides has ", strides.size(), " values for ", kernel.size(), " dims");
    LR_CHECK(pads.empty() || pads.size() == 2 * kernel.size(), ModelError, "MaxUnpool: pads has ",
             pads.size(), " values, expected ", 2 * kernel.size());
  }
  std::string param_key() const override {
    std::string r;
    for (auto* v : {&kernel, &strides, &pads}) {
      r += ";";
      for (int64_t x : *v) r += std::to_string(x) + ",";
    }
    return r;
  }
  Shape unpooled(const Shape& xs) const {
    const size_t nd = kernel.size();
    Shape u{xs[0], xs[1]};
    for (size_t i = 0; i < nd; ++i) {
      int64_t s = strides.empty() ? 1 : strides[i];
      int64_t pb = pads.empty() ? 0 : pads[i], pe = pads.empty() ? 0 : pads[i + nd];
      int64_t o = (xs[2 + i] - 1) * s + kernel[i] - pb - pe;
      LR_CHECK(o >= 0, ModelError, "MaxUnpool: output size along spatial dim ", i, " is ", o);
      u.push_back(o);
    }
    return u;
  }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& idx = ctx.input(1);
    const size_t nd = kernel.size();
    LR_CHECK(x.ndim() == nd + 2, ModelError, "MaxUnpool: X must have rank ", nd + 2,
             " for a ", nd, "-D kernel, got ", shape_str(x.shape));
    LR_CHECK(idx.dtype == DType::Int64 && idx.shape == x.shape, ModelError,
             "MaxUnpool: I must be int64 of X's shape ", shape_str(x.shape), ", got ", idx.str());
    Shape os = unpooled(x.shape);
    if (ctx.has(2)) {
      Shape given = ints_of(ctx, 2, "MaxUnpool output_shape");
      LR_CHECK(given.size() == x.ndim(), ModelError, "MaxUnpool: output_shape has ",
               given.size(), " values, X has rank ", x.ndim());
      for (size_t i = 0; i < given.size(); ++i)
        LR_CHECK(given[i] >= os[i], ModelError, "MaxUnpool: output_shape ", shape_str(given),
                 " is smaller than the unpooled shape ", shape_str(os));
      os = given;
    }
    ctx.set_output(0, os, x.dtype);
  }
};

void max_unpool_naive(const MaxUnpoolOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const Tensor& it = ctx.input(1);
  Tensor& yt = ctx.output(0);
  const Shape u = op.unpooled(xt.shape());
  const Shape& ys = yt.shape();
  const Shape yst = contiguous_strides(ys);
  const int64_t un = shape_numel(u);
  const size_t es = dtype_size(xt.dtype());
  std::memset(yt.raw(), 0, yt.nbytes());
  const uint8_t* x = static_cast<const uint8_t*>(xt.raw());
  uint8_t* y = static_cast<uint8_t*>(yt.raw());
  const int64_t* ind = it.ptr<int64_t>();
  for (int64_t i = 0; i < xt.numel(); ++i) {
    int64_t k = ind[i];
    LR_CHECK(k >= 0 && k < un, InputError, "MaxUnpool: index ", k, " at position ", i,
             " is outside the unpooled shape's ", un, " elements");
    int64_t o = 0;
    for (size_t d = u.size(); d-- > 0;) {
      o += (k % u[d]) * yst[d];
      k /= u[d];
    }
    std::memcpy(y + o * es, x + i * es, es);
  }
}

const auto kNaive = naive_algo<MaxUnpoolOp>(max_unpool_naive);

}  // namespace

void register_op_MaxUnpool(OpRegistry& r) {
  register_simple<MaxUnpoolOp>(r, "MaxUnpool", {&kNaive}, 2, 3);
}

}  // namespace loadrun
