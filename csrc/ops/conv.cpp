// Conv (ONNX): N-C-spatial convolution with groups, strides, dilations, pads
// and auto_pad; 1-D and 2-D spatial (1-D runs as 2-D with H = 1).
// NAIVE: direct loops, one output plane at a time; for each (ic, kh, kw) it
// adds w * input-row to the output row over the valid ow range, so the
// innermost loop is a contiguous multiply-add the compiler vectorises when
// stride is 1; then the fused activation, if any. O(N*OC*IC/g*KH*KW*OH*OW),
// no workspace. float16 computes in float32 (rounded once at the end). The
// fast algorithms live in conv_*.cpp.
#include "ops/conv.h"

#include "kernels/kernel_table.h"
#include "ops/common.h"

namespace loadrun {

namespace {

kernels::Act act_named(const std::string& s) {
  kernels::Act a = kernels::Act::kNone;
  LR_CHECK(kernels::act_named(s.c_str(), &a), ModelError, "unknown fused activation '", s, "'");
  return a;
}

}  // namespace

ConvOp::ConvOp(const Attrs& a)
    : sp(SpatialParams::from_attrs(a)),
      group(a.get_int("group", 1)),
      residual(a.get_int(kResidualAttr, 0) != 0) {
  LR_CHECK(group >= 1, ModelError, "group must be >= 1, got ", group);
  if (a.has(kActAttr)) {
    act = act_named(a.get_string(kActAttr, ""));
    std::vector<double> p = a.get_floats(kActParamsAttr);
    size_t need = static_cast<size_t>(kernels::act_param_count(act));
    LR_CHECK(p.size() == need, ModelError, "fused activation ", a.get_string(kActAttr, ""),
             " takes ", need, " params, got ", p.size());
    if (need >= 1) act_p0 = static_cast<float>(p[0]);
    if (need >= 2) act_p1 = static_cast<float>(p[1]);
  }
}

std::string ConvOp::param_key() const {
  std::string k = sp.key() + ";g" + std::to_string(group);
  if (act != kernels::Act::kNone)
    k += str_cat(";act", static_cast<int>(act), ",", act_p0, ",", act_p1);
  if (residual) k += ";res";
  return k;
}

void ConvOp::infer(InferCtx& ctx) const {
  const Layout& x = ctx.input(0);
  const Layout& w = ctx.input(1);
  LR_CHECK(x.ndim() == 3 || x.ndim() == 4, UnsupportedError, "Conv on ", x.ndim(),
           "-D input: only 1-D and 2-D spatial convolutions are supported");
  LR_CHECK(w.ndim() == x.ndim(), ModelError, "weight rank ", w.ndim(), " != input rank ",
           x.ndim());
  // NAIVE reads W and B as X's type: another dtype would be read out of bounds.
  LR_CHECK(w.dtype == x.dtype, ModelError, "weight dtype ", dtype_name(w.dtype),
           " differs from the input's ", dtype_name(x.dtype));
  LR_CHECK(!ctx.has(2) || ctx.input(2).dtype == x.dtype, ModelError, "bias dtype ",
           dtype_name(ctx.input(2).dtype), " differs from the input's ", dtype_name(x.dtype));
  LR_CHECK(x.shape[1] == w.shape[1] * group, ModelError, "input has ", x.shape[1],
           " channels, weight expects ", w.shape[1], " x group ", group);
  LR_CHECK(w.shape[0] % group == 0, ModelError, "output channels ", w.shape[0],
           " not divisible by group ", group);
  if (ctx.has(2)) {
    const Layout& b = ctx.input(2);
    LR_CHECK(b.ndim() == 1 && b.shape[0] == w.shape[0], ModelError, "bias shape ",
             shape_str(b.shape), " does not match ", w.shape[0], " output channels");
  }
  std::vector<int64_t> in(x.shape.begin() + 2, x.shape.end());
  std::vector<int64_t> k(w.shape.begin() + 2, w.shape.end());
  LR_CHECK(sp.kernel.empty() || sp.kernel == k, ModelError, "kernel_shape attribute ",
           shape_str(sp.kernel), " disagrees with weight ", shape_str(k));
  std::vector<int64_t> out = sp.resolve(in, k, nullptr);
  Shape os{x.shape[0], w.shape[0]};
  os.insert(os.end(), out.begin(), out.end());
  LR_CHECK(residual == ctx.has(3), ModelError,
           "Conv takes at most 3 inputs (a 4th only as a fused residual)");
  if (residual) {
    const Layout& r = ctx.input(3);
    LR_CHECK(r.dtype == x.dtype, ModelError, "fused residual dtype differs from the input's");
    os = broadcast_shapes({os, r.shape});  // the fused Add's output shape
  }
  ctx.set_output(0, os, x.dtype);
}

bool conv_residual_ok(const ConvOp& op, const InLayouts& in, const OutLayouts& out) {
  if (!op.residual) return true;
  if (in.size() < 4 || !in[3] || out.empty()) return false;
  const Layout& r = *in[3];
  if (r.dtype != DType::Float32 || !r.is_contiguous() || r.shape != out[0].shape) return false;
  // The conv itself must produce the output's shape (no broadcasting up).
  Shape cs{in[0]->shape[0], in[1]->shape[0]};
  std::vector<int64_t> sp(in[0]->shape.begin() + 2, in[0]->shape.end());
  std::vector<int64_t> k(in[1]->shape.begin() + 2, in[1]->shape.end());
  std::vector<int64_t> o = op.sp.resolve(sp, k, nullptr);
  cs.insert(cs.end(), o.begin(), o.end());
  return cs == out[0].shape;
}

const float* conv_residual(const ConvOp& op, const KernCtx& ctx) {
  return op.residual ? ctx.input(3).ptr<float>() : nullptr;
}

void conv_residual_act(const ConvOp& op, const float* r, float* y, int64_t hw) {
  if (!r) return;
  const kernels::EltwiseImpl& k = kernels::kernel_table().eltwise;
  k.binary(kernels::BinaryKind::Add, y, 1, r, 1, y, hw);
  if (op.act != kernels::Act::kNone) k.act(op.act, y, y, hw, op.act_p0, op.act_p1);
}

ConvGeo conv_geometry(const ConvOp& op, const Shape& x, const Shape& w, const Shape& y) {
  bool one_d = x.size() == 3;
  std::vector<int64_t> in(x.begin() + 2, x.end()), k(w.begin() + 2, w.end()), pads;
  op.sp.resolve(in, k, &pads);
  auto at = [&](const std::vector<int64_t>& v, size_t i, int64_t def) {
    return v.empty() ? def : v[i];
  };
  ConvGeo g{};
  g.group = op.group;
  g.n = x[0];
  g.ic = x[1];
  g.oc = y[1];
  if (one_d) {
    g.ih = g.oh = g.kh = g.sh = g.dh = 1;
    g.ph = 0;
    g.iw = x[2];
    g.ow = y[2];
    g.kw = w[2];
    g.sw = at(op.sp.strides, 0, 1);
    g.dw = at(op.sp.dilations, 0, 1);
    g.pw = pads[0];
  } else {
    g.ih = x[2];
    g.iw = x[3];
    g.oh = y[2];
    g.ow = y[3];
    g.kh = w[2];
    g.kw = w[3];
    g.sh = at(op.sp.strides, 0, 1);
    g.sw = at(op.sp.strides, 1, 1);
    g.dh = at(op.sp.dilations, 0, 1);
    g.dw = at(op.sp.dilations, 1, 1);
    g.ph = pads[0];
    g.pw = pads[1];
  }
  return g;
}

const ConvOp& as_conv(const Op& op) { return static_cast<const ConvOp&>(op); }

bool conv_geometry_f32(const ConvOp& op, const InLayouts& in, const OutLayouts& out,
                       ConvGeo* g) {
  if (in.size() < 2 || !in[0] || !in[1] || out.empty()) return false;
  if (in[0]->dtype != DType::Float32 || in[1]->dtype != DType::Float32) return false;
  if (in.size() > 2 && in[2] && in[2]->dtype != DType::Float32) return false;
  if (!in[0]->is_contiguous() || !in[1]->is_contiguous() || !out[0].is_contiguous()) return false;
  if (in[0]->format != Format::NCHW) return false;
  *g = conv_geometry(op, in[0]->shape, in[1]->shape, out[0].shape);
  return true;
}

namespace {

// Index of output element `i` (of shape os) in a tensor of shape s that
// broadcasts to os (dims aligned at the right).
int64_t broadcast_index(const Shape& os, const Shape& s, int64_t i) {
  int64_t idx = 0, stride = 1;
  for (int64_t d = static_cast<int64_t>(os.size()) - 1; d >= 0; --d) {
    int64_t c = i % os[d];
    i /= os[d];
    int64_t sd = d - static_cast<int64_t>(os.size() - s.size());
    if (sd < 0) continue;
    if (s[sd] != 1) idx += c * stride;
    stride *= s[sd];
  }
  return idx;
}

template <typename T>
void conv_naive_plain(const ConvOp& op, const ConvGeo& g, const T* x, const T* w, const T* bias,
                      T* y, bool act);

template <typename T>
void conv_naive_t(const ConvOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const Tensor& wt = ctx.input(1);
  Tensor& yt = ctx.output(0);
  // With a residual the conv's own result (act deferred) goes to y, or to a
  // temporary when the fused Add broadcasts it up; then y = act(conv + r).
  Shape cs{xt.shape()[0], wt.shape()[0]};
  {
    std::vector<int64_t> sp(xt.shape().begin() + 2, xt.shape().end());
    std::vector<int64_t> k(wt.shape().begin() + 2, wt.shape().end());
    std::vector<int64_t> o = op.sp.resolve(sp, k, nullptr);
    cs.insert(cs.end(), o.begin(), o.end());
  }
  std::vector<T> tmp;
  T* y = yt.ptr<T>();
  T* yc = y;
  if (op.residual && cs != yt.shape()) {
    tmp.resize(static_cast<size_t>(shape_numel(cs)));
    yc = tmp.data();
  }
  ConvGeo g = conv_geometry(op, xt.shape(), wt.shape(), cs);
  const T* x = xt.ptr<T>();
  const T* w = wt.ptr<T>();
  const T* bias = ctx.has(2) ? ctx.input(2).ptr<T>() : nullptr;
  conv_naive_plain(op, g, x, w, bias, yc, !op.residual);
  if (op.residual) {
    const Tensor& rt = ctx.input(3);
    const T* r = rt.ptr<T>();
    const Shape& os = yt.shape();
    int64_t total = shape_numel(os);
    for (int64_t i = 0; i < total; ++i) {  // yc is y or a smaller temporary
      T v = yc[broadcast_index(os, cs, i)] + r[broadcast_index(os, rt.shape(), i)];
      y[i] = conv_activate(op, v);
    }
  }
}

// The convolution itself (bias; the activation when `act`) into y of g's shape.
template <typename T>
void conv_naive_plain(const ConvOp& op, const ConvGeo& g, const T* x, const T* w, const T* bias,
                      T* y, bool act) {
  int64_t icg = g.ic / op.group, ocg = g.oc / op.group;
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t oc = 0; oc < g.oc; ++oc) {
      int64_t grp = oc / ocg;
      T* yp = y + (n * g.oc + oc) * g.oh * g.ow;
      T b = bias ? bias[oc] : T(0);
      for (int64_t i = 0; i < g.oh * g.ow; ++i) yp[i] = b;
      for (int64_t icl = 0; icl < icg; ++icl) {
        const T* xp = x + (n * g.ic + grp * icg + icl) * g.ih * g.iw;
        const T* wp = w + (oc * icg + icl) * g.kh * g.kw;
        for (int64_t kh = 0; kh < g.kh; ++kh) {
          for (int64_t kw = 0; kw < g.kw; ++kw) {
            T wv = wp[kh * g.kw + kw];
            int64_t xoff = kw * g.dw - g.pw;  // iw = ow * sw + xoff
            // valid ow: 0 <= ow*sw + xoff < iw
            int64_t ow0 = xoff >= 0 ? 0 : (-xoff + g.sw - 1) / g.sw;
            int64_t ow1 = g.iw - xoff <= 0 ? 0 : (g.iw - xoff + g.sw - 1) / g.sw;
            if (ow1 > g.ow) ow1 = g.ow;
            for (int64_t oh = 0; oh < g.oh; ++oh) {
              int64_t ih = oh * g.sh - g.ph + kh * g.dh;
              if (ih < 0 || ih >= g.ih) continue;
              const T* xrow = xp + ih * g.iw;
              T* yrow = yp + oh * g.ow;
              if (g.sw == 1) {
                for (int64_t ow = ow0; ow < ow1; ++ow) yrow[ow] += wv * xrow[ow + xoff];
              } else {
                for (int64_t ow = ow0; ow < ow1; ++ow) yrow[ow] += wv * xrow[ow * g.sw + xoff];
              }
            }
          }
        }
      }
      if (act && op.act != kernels::Act::kNone)
        for (int64_t i = 0; i < g.oh * g.ow; ++i) yp[i] = conv_activate(op, yp[i]);
    }
  }
}

void conv_naive(const ConvOp& op, const KernCtx& ctx) {
  if (dtype_is_lowp_float(ctx.input(0).dtype()))
    return run_f16_as_f32(ctx, [&](const KernCtx& c) { conv_naive_t<float>(op, c); });
  LR_DISPATCH_FLOAT(ctx.input(0).dtype(), "Conv", conv_naive_t<T>(op, ctx));
}

const auto kNaive = naive_algo<ConvOp>(conv_naive);

}  // namespace

// NAIVE first (the reference and the folding algorithm), then the fast ones
// best-first: the heuristic takes the first usable, preferred one.
void register_op_Conv(OpRegistry& r) {
  register_simple<ConvOp>(r, "Conv",
                          {&kNaive, conv_depthwise_direct_algo(), conv_direct_small_ic_algo(), conv1x1_gemm_algo(),
                           conv_winograd_f63_algo(), conv_winograd_f43_algo(),
                           conv_im2col_gemm_algo()},
                          2, 4);
}

void ConvAlgo::exec(const Op& op_, const KernCtx& ctx) const {
  const ConvOp& op = as_conv(op_);
  ConvGeo g = conv_geometry(op, ctx.input(0).shape(), ctx.input(1).shape(), ctx.output(0).shape());
  run({op, g, ctx});
}

BoundKernel ConvAlgo::bind(const Op& op, const InLayouts& in, const OutLayouts& out,
                           CompNode& cn) const {
  BoundKernel k = Algo::bind(op, in, out, cn);
  k.params = std::make_shared<ConvGeo>(conv_geometry(as_conv(op), in[0]->shape, in[1]->shape, out[0].shape));
  k.fn = [](const BoundKernel& b, const KernCtx& ctx) {
    const auto& self = static_cast<const ConvAlgo&>(*b.algo);
    self.run({as_conv(*b.op), *static_cast<const ConvGeo*>(b.params.get()), ctx});
  };
  return k;
}

}  // namespace loadrun
