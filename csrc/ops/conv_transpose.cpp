// ConvTranspose (ONNX): the transpose (gradient) of Conv, any number (>= 1)
// of spatial dims, with groups, strides, dilations, pads, output_padding,
// output_shape, auto_pad and an optional bias. W is (C_in, C_out/group, k...).
// Output size per spatial dim: s*(in-1) + output_padding + (k-1)*d + 1
// - pad_begin - pad_end. With output_shape (or auto_pad SAME_*, whose target
// is in*s) the total padding is derived and split as ONNX says: SAME_UPPER
// puts the odd element at the end, NOTSET and SAME_LOWER at the beginning;
// a negative total (output_shape past the natural size) counts as zero and
// the extra output holds the bias alone.
// float16 / bfloat16 compute in float32.
// NAIVE: scatter loop. Y starts as the bias; every input element adds
// x * w[ic, oc, k...] to Y[o = i*s - pad + k*d per dim] when that lands
// inside Y (odometers over the input and kernel positions).
// O(N*IC*OC/g*prod(in)*prod(k)), no workspace.
// DECONV_GEMM (float32, 2 spatial dims): per image and group, the columns
// col[ocg*kh*kw x ih*iw] = W_g^T (ocg*kh*kw x icg) * X_g (icg x ih*iw) by
// kernels::sgemm, then col2im scatter-adds each column row into the output
// plane (which starts as the bias). Cost: the GEMM's 2*ocg*kh*kw*icg*ih*iw
// flops per image and group plus the scatter; workspace: the column matrix.
// Threads: the GEMM splits over them (kernels/sgemm.h), then the output
// channels' scatters are shared out (each channel its own plane).
#include <algorithm>
#include <cstring>

#include "kernels/sgemm.h"
#include "runtime/comp_node.h"

#include "ops/common.h"
#include "ops/spatial.h"

namespace loadrun {

namespace {

struct ConvTransposeOp final : Op {
  SpatialParams sp;
  int64_t group;
  std::vector<int64_t> output_padding, output_shape;
  explicit ConvTransposeOp(const Attrs& a)
      : sp(SpatialParams::from_attrs(a)),
        group(a.get_int("group", 1)),
        output_padding(a.get_ints("output_padding")),
        output_shape(a.get_ints("output_shape")) {
    LR_CHECK(group >= 1, ModelError, "group must be >= 1, got ", group);
  }
  std::string param_key() const override {
    std::string r = sp.key() + ";g" + std::to_string(group) + ";op";
    for (int64_t v : output_padding) r += "," + std::to_string(v);
    r += ";os";
    for (int64_t v : output_shape) r += "," + std::to_string(v);
    return r;
  }

  // Output spatial sizes and the pads (begins then ends) that produce them.
  std::vector<int64_t> resolve(const std::vector<int64_t>& in, const std::vector<int64_t>& k,
                               std::vector<int64_t>* pads_out) const {
    size_t n = in.size();
    LR_CHECK(sp.strides.empty() || sp.strides.size() == n, ModelError, "strides has ",
             sp.strides.size(), " values, expected ", n);
    LR_CHECK(sp.dilations.empty() || sp.dilations.size() == n, ModelError, "dilations has ",
             sp.dilations.size(), " values, expected ", n);
    LR_CHECK(sp.pads.empty() || sp.pads.size() == 2 * n, ModelError, "pads has ", sp.pads.size(),
             " values, expected ", 2 * n);
    LR_CHECK(output_padding.empty() || output_padding.size() == n, ModelError,
             "output_padding has ", output_padding.size(), " values, expected ", n);
    LR_CHECK(output_shape.empty() || output_shape.size() == n || output_shape.size() == n + 2,
             ModelError, "output_shape has ", output_shape.size(), " values, expected ", n,
             " (or ", n + 2, " with N and C)");
    std::vector<int64_t> out(n), pd(2 * n, 0);
    for (size_t i = 0; i < n; ++i) {
      int64_t s = sp.strides.empty() ? 1 : sp.strides[i];
      int64_t d = sp.dilations.empty() ? 1 : sp.dilations[i];
      int64_t adj = output_padding.empty() ? 0 : output_padding[i];
      LR_CHECK(s > 0 && d > 0 && k[i] > 0, ModelError,
               "kernel, strides and dilations must be positive");
      LR_CHECK(adj >= 0, ModelError, "output_padding must be >= 0, got ", adj);
      int64_t full = (in[i] - 1) * s + adj + (k[i] - 1) * d + 1;  // with no padding
      int64_t target = -1;
      if (!output_shape.empty()) {
        target = output_shape[output_shape.size() == n ? i : i + 2];
        LR_CHECK(target > 0, ModelError, "output_shape value ", target, " must be positive");
      } else if (sp.auto_pad == "SAME_UPPER" || sp.auto_pad == "SAME_LOWER") {
        target = in[i] * s;
      }
      if (target >= 0) {
        int64_t total = std::max<int64_t>(0, full - target);
        int64_t more = total - total / 2, less = total / 2;
        bool upper = sp.auto_pad == "SAME_UPPER";
        pd[i] = upper ? less : more;
        pd[i + n] = upper ? more : less;
        out[i] = output_shape.empty() ? full - total : target;
      } else {
        if (sp.auto_pad == "NOTSET" && !sp.pads.empty()) {
          pd[i] = sp.pads[i];
          pd[i + n] = sp.pads[i + n];
        }
        out[i] = full - pd[i] - pd[i + n];
      }
      LR_CHECK(out[i] > 0, ModelError, "output size ", out[i], " along spatial dim ", i,
               " is not positive (input ", in[i], ", pads ", pd[i], "+", pd[i + n], ")");
    }
    if (pads_out) *pads_out = pd;
    return out;
  }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& w = ctx.input(1);
    LR_CHECK(x.ndim() >= 3, ModelError, "ConvTranspose input must have rank >= 3 (N, C, spatial...), got ",
             shape_str(x.shape));
    LR_CHECK(w.ndim() == x.ndim(), ModelError, "weight rank ", w.ndim(), " != input rank ",
             x.ndim());
    // NAIVE reads W and B as X's type: another dtype would be read out of bounds.
    LR_CHECK(w.dtype == x.dtype, ModelError, "weight dtype ", dtype_name(w.dtype),
             " differs from the input's ", dtype_name(x.dtype));
    LR_CHECK(!ctx.has(2) || ctx.input(2).dtype == x.dtype, ModelError, "bias dtype ",
             dtype_name(ctx.input(2).dtype), " differs from the input's ", dtype_name(x.dtype));
    LR_CHECK(w.shape[0] == x.shape[1], ModelError, "input has ", x.shape[1],
             " channels, weight dim 0 is ", w.shape[0]);
    LR_CHECK(x.shape[1] % group == 0, ModelError, "input channels ", x.shape[1],
             " not divisible by group ", group);
    int64_t oc = w.shape[1] * group;
    if (ctx.has(2)) {
      const Layout& b = ctx.input(2);
      LR_CHECK(b.ndim() == 1 && b.shape[0] == oc, ModelError, "bias shape ", shape_str(b.shape),
               " does not match ", oc, " output channels");
    }
    std::vector<int64_t> in(x.shape.begin() + 2, x.shape.end());
    std::vector<int64_t> k(w.shape.begin() + 2, w.shape.end());
    LR_CHECK(sp.kernel.empty() || sp.kernel == k, ModelError, "kernel_shape attribute ",
             shape_str(sp.kernel), " disagrees with weight ", shape_str(k));
    std::vector<int64_t> out = resolve(in, k, nullptr);
    Shape os{x.shape[0], oc};
    os.insert(os.end(), out.begin(), out.end());
    ctx.set_output(0, os, x.dtype);
  }
};

template <typename T>
void conv_transpose_naive_t(const ConvTransposeOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const Tensor& wt = ctx.input(1);
  Tensor& yt = ctx.output(0);
  const Shape& xs = xt.shape();
  const Shape& ws = wt.shape();
  const Shape& ys = yt.shape();
  std::vector<int64_t> in(xs.begin() + 2, xs.end()), k(ws.begin() + 2, ws.end()), pads;
  op.resolve(in, k, &pads);
  const size_t nd = in.size();
  auto at = [](const std::vector<int64_t>& v, size_t i) { return v.empty() ? int64_t(1) : v[i]; };
  std::vector<int64_t> out(ys.begin() + 2, ys.end()), str(nd), dil(nd);
  for (size_t d = 0; d < nd; ++d) str[d] = at(op.sp.strides, d), dil[d] = at(op.sp.dilations, d);
  const int64_t in_n = dims_product(xs, 2, xs.size()), out_n = dims_product(ys, 2, ys.size());
  const int64_t k_n = dims_product(ws, 2, ws.size());
  // Per kernel position: its offset along each dim (k*d - pad), flattened.
  std::vector<int64_t> koff(static_cast<size_t>(k_n) * nd);
  {
    std::vector<int64_t> idx(nd, 0);
    for (int64_t j = 0; j < k_n; ++j) {
      for (size_t d = 0; d < nd; ++d) koff[j * nd + d] = idx[d] * dil[d] - pads[d];
      for (size_t d = nd; d-- > 0;) {
        if (++idx[d] < k[d]) break;
        idx[d] = 0;
      }
    }
  }
  const int64_t n_batch = xs[0], ic = xs[1], oc = ys[1];
  const int64_t icg = ic / op.group, ocg = oc / op.group;

  const T* x = xt.ptr<T>();
  const T* w = wt.ptr<T>();
  const T* bias = ctx.has(2) ? ctx.input(2).ptr<T>() : nullptr;
  T* y = yt.ptr<T>();
  std::vector<int64_t> pos(nd);
  for (int64_t n = 0; n < n_batch; ++n) {
    for (int64_t c = 0; c < oc; ++c) {
      T* yp = y + (n * oc + c) * out_n;
      T b = bias ? bias[c] : T(0);
      for (int64_t i = 0; i < out_n; ++i) yp[i] = b;
    }
    for (int64_t g = 0; g < op.group; ++g) {
      for (int64_t icl = 0; icl < icg; ++icl) {
        int64_t ci = g * icg + icl;
        const T* xp = x + (n * ic + ci) * in_n;
        for (int64_t ocl = 0; ocl < ocg; ++ocl) {
          T* yp = y + (n * oc + g * ocg + ocl) * out_n;
          const T* wp = w + (ci * ocg + ocl) * k_n;
          std::fill(pos.begin(), pos.end(), 0);
          for (int64_t i = 0; i < in_n; ++i) {
            T xv = xp[i];
            for (int64_t j = 0; j < k_n; ++j) {
              int64_t o = 0;
              bool inside = true;
              for (size_t d = 0; d < nd && inside; ++d) {
                int64_t v = pos[d] * str[d] + koff[j * nd + d];
                inside = v >= 0 && v < out[d];
                o = o * out[d] + v;
              }
              if (inside) yp[o] += xv * wp[j];
            }
            for (size_t d = nd; d-- > 0;) {
              if (++pos[d] < in[d]) break;
              pos[d] = 0;
            }
          }
        }
      }
    }
  }
}

void conv_transpose_naive(const ConvTransposeOp& op, const KernCtx& ctx) {
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    LR_DISPATCH_FLOAT(c.input(0).dtype(), "ConvTranspose", conv_transpose_naive_t<T>(op, c));
  });
}

const auto kNaive = naive_algo<ConvTransposeOp>(conv_transpose_naive);

// DECONV_GEMM's geometry (2 spatial dims).
struct DeconvGeo {
  int64_t n, ic, ih, iw, oc, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw, group;
  int64_t icg() const { return ic / group; }
  int64_t ocg() const { return oc / group; }
};

DeconvGeo deconv_geo(const ConvTransposeOp& op, const Shape& xs, const Shape& ws,
                     const Shape& ys) {
  std::vector<int64_t> in{xs[2], xs[3]}, k{ws[2], ws[3]}, pads;
  op.resolve(in, k, &pads);
  auto at = [](const std::vector<int64_t>& v, size_t i) { return v.empty() ? int64_t(1) : v[i]; };
  DeconvGeo g;
  g.n = xs[0], g.ic = xs[1], g.ih = xs[2], g.iw = xs[3];
  g.oc = ys[1], g.oh = ys[2], g.ow = ys[3];
  g.kh = ws[2], g.kw = ws[3];
  g.sh = at(op.sp.strides, 0), g.sw = at(op.sp.strides, 1);
  g.dh = at(op.sp.dilations, 0), g.dw = at(op.sp.dilations, 1);
  g.ph = pads[0], g.pw = pads[1];
  g.group = op.group;
  return g;
}

// Adds row[ih*iw] (one kernel tap (kh, kw) of one output channel) into the
// output plane y[oh*ow] at o = i*s - pad + k*d.
void col2im_add(const DeconvGeo& g, const float* row, int64_t kh, int64_t kw, float* y) {
  int64_t offh = kh * g.dh - g.ph, offw = kw * g.dw - g.pw;
  // Input columns iw with 0 <= iw*sw + offw < ow.
  int64_t a = offw >= 0 ? 0 : (-offw + g.sw - 1) / g.sw;
  int64_t b = g.ow - offw <= 0 ? 0 : (g.ow - offw + g.sw - 1) / g.sw;
  b = std::min(b, g.iw);
  if (a >= b) return;
  for (int64_t ih = 0; ih < g.ih; ++ih) {
    int64_t oh = ih * g.sh + offh;
    if (oh < 0 || oh >= g.oh) continue;
    const float* r = row + ih * g.iw;
    float* yr = y + oh * g.ow + offw;  // yr[iw*sw] is input column iw's target
    if (g.sw == 1) {
      for (int64_t i = a; i < b; ++i) yr[i] += r[i];
    } else {
      for (int64_t i = a; i < b; ++i) yr[i * g.sw] += r[i];
    }
  }
}

class DeconvGemm final : public Algo {
 public:
  const char* name() const override { return "DECONV_GEMM"; }
  uint32_t attributes() const override { return REPRODUCIBLE; }
  bool usable(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    if (in.size() < 2 || !in[0] || !in[1] || out.empty()) return false;
    for (const Layout* l : in)
      if (l && (l->dtype != DType::Float32 || l->numel() < 0)) return false;
    return in[0]->ndim() == 4 && in[1]->ndim() == 4 && out[0].ndim() == 4 &&
           out[0].dtype == DType::Float32 && out[0].numel() >= 0;
  }
  size_t workspace(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    if (!usable(op, in, out)) return 0;
    const Shape& x = in[0]->shape;
    const Shape& w = in[1]->shape;
    return static_cast<size_t>(w[1] * w[2] * w[3] * x[2] * x[3]) * sizeof(float);
  }
  void exec(const Op& op_, const KernCtx& ctx) const override {
    const auto& op = static_cast<const ConvTransposeOp&>(op_);
    const Tensor& xt = ctx.input(0);
    const Tensor& wt = ctx.input(1);
    Tensor& yt = ctx.output(0);
    DeconvGeo g = deconv_geo(op, xt.shape(), wt.shape(), yt.shape());
    const float* x = xt.ptr<float>();
    const float* w = wt.ptr<float>();
    const float* bias = ctx.has(2) ? ctx.input(2).ptr<float>() : nullptr;
    float* y = yt.ptr<float>();
    float* col = static_cast<float*>(ctx.workspace);
    const int64_t icg = g.icg(), ocg = g.ocg(), kk = g.kh * g.kw, ihw = g.ih * g.iw,
                  ohw = g.oh * g.ow, m = ocg * kk;
    for (int64_t n = 0; n < g.n; ++n) {
      for (int64_t c = 0; c < g.oc; ++c) {
        float* yp = y + (n * g.oc + c) * ohw;
        std::fill(yp, yp + ohw, bias ? bias[c] : 0.f);
      }
      if (ihw == 0 || icg == 0) continue;
      for (int64_t grp = 0; grp < g.group; ++grp) {
        const float* xg = x + (n * g.ic + grp * icg) * ihw;
        const float* wg = w + grp * icg * m;  // icg x (ocg*kh*kw), row-major
        kernels::sgemm(true, false, m, ihw, icg, 1.f, wg, m, xg, ihw, 0.f, col, ihw, {},
                       ctx.comp_node);
        // Output channels over the threads: each adds into its own plane.
        const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(kk * ihw, 1));
        parallel_for(
            ctx.comp_node, ocg,
            [&](int64_t o0, int64_t o1, int) {
              for (int64_t ocl = o0; ocl < o1; ++ocl) {
                float* yp = y + (n * g.oc + grp * ocg + ocl) * ohw;
                for (int64_t kh = 0; kh < g.kh; ++kh)
                  for (int64_t kw = 0; kw < g.kw; ++kw)
                    col2im_add(g, col + ((ocl * g.kh + kh) * g.kw + kw) * ihw, kh, kw, yp);
              }
            },
            grain);
      }
    }
  }
};

const DeconvGemm kDeconvGemm;

}  // namespace

void register_op_ConvTranspose(OpRegistry& r) {
  register_simple<ConvTransposeOp>(r, "ConvTranspose", {&kNaive, &kDeconvGemm}, 2, 3);
}

}  // namespace loadrun
