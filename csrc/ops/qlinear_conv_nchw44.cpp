// QLinearConvNCHW44 (domain "loadrun", made by passes/convert_layout_int8.cpp):
// ONNX QLinearConv, 2-D, group 1 or depthwise (group = channels, one
// weight channel per output), on an NCHW44 blocked input
// [N, ceil(IC/4), H, W, 4] (int8 or uint8; lanes of channels >= IC hold any
// value and are never read as data), with QLinearConv's other inputs and
// attributes (w the original [OC, IC, KH, KW] int8/uint8 weights, w_scale
// and w_zero_point per tensor or per output channel, optional int32 B), and
// a blocked output [N, ceil(OC/4), OH, OW, 4] whose lanes of channels >= OC
// hold y_zero_point. Results are QLinearConv's bit for bit: the same
// wrapping int32 sums, requantised by the same code (ops/qlinear_requant.h).
// NAIVE: for every output element, the sum over the real input channels and
// the window, skipping padded taps. O(N*OC*IC*KH*KW*OH*OW).
// NCHW44_DOT: the dot-product direct convolution of
// kernels/conv_int8_nchw44.h. Per image the input is copied once into a
// padded block x' in the weights' signedness (x ^ 0x80 where they differ),
// padding and lanes past IC holding x_zero_point (in x' form), so every tap
// of the full window counts and contributes nothing where it stands for a
// zero point. With X = x' + xoff (xoff 0 or +-128), d = xoff - x_zero_point
// and N = KH*KW*4*ceil(IC/4) taps,
//   sum (X - xzp)(W - wzp) = dot(x', W) - wzp * S'(pixel) + d * sum(W)
//                            - N * d * wzp
// (exact in wrapping 32-bit arithmetic), where S' is the window sum of x'
// (computed by the same kernel against all-ones weights, only when some
// w_zero_point is not 0); the last two terms are constant per output channel
// and join B. Threads share the (pair of output blocks, output row) items
// of an image out (a pair shares each input load). Cost: KH*KW*ceil(IC/4) 16-byte dot products per output pixel
// and block (plus one block for S'), one copy of the input. Depthwise runs
// the same kernel with one input block per output block and block-diagonal
// weights (N = KH*KW; 4x the needed products, but no separate kernel), its
// S' per lane beside each row. Preprocess packs the weights once (it
// replaces input 3).
#include <algorithm>
#include <cstring>

#include "kernels/conv_int8_nchw44.h"
#include "kernels/kernel_table.h"
#include "ops/common.h"
#include "ops/qlinear_requant.h"
#include "ops/spatial.h"
#include "runtime/comp_node.h"

namespace loadrun {

namespace {

constexpr int64_t kB = kernels::kNchw44;
constexpr int64_t kMacsPerRange = 64 * 1024;

bool is_q8(DType dt) { return dt == DType::Int8 || dt == DType::Uint8; }
int64_t blocks(int64_t c) { return (c + kB - 1) / kB; }
size_t round64(size_t b) { return (b + 63) / 64 * 64; }

struct Geo {
  int64_t n, ic, icb, oc, ocb, ih, iw, kh, kw, oh, ow, sh, sw, dh, dw, ph, pw;
  bool depthwise;  // group = ic = oc, w: oc x 1 x kh x kw
};

struct QLinearConvNchw44Op final : Op {
  SpatialParams sp;
  int64_t group;
  explicit QLinearConvNchw44Op(const Attrs& a)
      : sp(SpatialParams::from_attrs(a)), group(a.get_int("group", 1)) {}
  std::string param_key() const override { return sp.key() + ";g" + std::to_string(group); }

  Geo geometry(const Shape& x, const Shape& w) const {
    LR_CHECK(x.size() == 5 && x[4] == kB, ModelError,
             "QLinearConvNCHW44: input must be NCHW44 [N, C/4, H, W, 4], got ", shape_str(x));
    LR_CHECK(w.size() == 4, UnsupportedError,
             "QLinearConvNCHW44: only 2-D convolutions, weight is ", shape_str(w));
    const bool depthwise = group > 1 && w[1] == 1 && w[0] == group;
    LR_CHECK(group == 1 || depthwise, UnsupportedError, "QLinearConvNCHW44: group ", group,
             " with weight ", shape_str(w), " (only group 1 and depthwise)");
    const int64_t ic = w[1] * group;
    LR_CHECK(x[1] == blocks(ic), ModelError, "QLinearConvNCHW44: input has ", x[1],
             " channel blocks, ", ic, " input channels need ", blocks(ic));
    Geo g;
    g.depthwise = depthwise;
    g.n = x[0];
    g.ic = ic;
    g.icb = x[1];
    g.oc = w[0];
    g.ocb = blocks(g.oc);
    g.ih = x[2];
    g.iw = x[3];
    g.kh = w[2];
    g.kw = w[3];
    LR_CHECK(sp.kernel.empty() || sp.kernel == (Shape{g.kh, g.kw}), ModelError,
             "QLinearConvNCHW44: kernel_shape ", shape_str(sp.kernel), " disagrees with weight ",
             shape_str(w));
    std::vector<int64_t> pads;
    std::vector<int64_t> out = sp.resolve({g.ih, g.iw}, {g.kh, g.kw}, &pads);
    g.oh = out[0];
    g.ow = out[1];
    g.sh = sp.strides.empty() ? 1 : sp.strides[0];
    g.sw = sp.strides.empty() ? 1 : sp.strides[1];
    g.dh = sp.dilations.empty() ? 1 : sp.dilations[0];
    g.dw = sp.dilations.empty() ? 1 : sp.dilations[1];
    g.ph = pads[0];
    g.pw = pads[1];
    return g;
  }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& w = ctx.input(3);
    const Layout& yzp = ctx.input(7);
    LR_CHECK(is_q8(x.dtype) && is_q8(w.dtype) && is_q8(yzp.dtype), UnsupportedError,
             "QLinearConvNCHW44 on ", dtype_name(x.dtype), " x ", dtype_name(w.dtype), " -> ",
             dtype_name(yzp.dtype), ": supported are int8 and uint8");
    Geo g = geometry(x.shape, w.shape);
    for (int i : {1, 4, 6})
      LR_CHECK(ctx.input(i).dtype == DType::Float32, ModelError,
               "QLinearConvNCHW44: scale (input ", i, ") must be float32");
    LR_CHECK(ctx.input(2).dtype == x.dtype && ctx.input(5).dtype == w.dtype, ModelError,
             "QLinearConvNCHW44: zero points must have their operand's dtype");
    LR_CHECK(ctx.input(1).numel() == 1 && ctx.input(2).numel() == 1 &&
                 ctx.input(6).numel() == 1 && yzp.numel() == 1,
             ModelError,
             "QLinearConvNCHW44: x_scale, x_zero_point, y_scale and y_zero_point must be single "
             "values");
    for (int i : {4, 5}) {
      const Layout& p = ctx.input(i);
      LR_CHECK(p.numel() == 1 || (p.ndim() == 1 && p.shape[0] == g.oc), ModelError,
               "QLinearConvNCHW44: ", i == 4 ? "w_scale" : "w_zero_point", " of shape ",
               shape_str(p.shape), " is neither one value nor one per ", g.oc,
               " output channels");
    }
    if (ctx.has(8)) {
      const Layout& b = ctx.input(8);
      LR_CHECK(b.dtype == DType::Int32 && b.ndim() == 1 && b.shape[0] == g.oc, ModelError,
               "QLinearConvNCHW44: B must be int32 of shape {", g.oc, "}, got ",
               dtype_name(b.dtype), " ", shape_str(b.shape));
    }
    ctx.set_output(0, {g.n, g.ocb, g.oh, g.ow, kB}, yzp.dtype);
  }
};

int64_t wzp_of(const Tensor& t, int64_t oc) { return t.get_i64(t.numel() == 1 ? 0 : oc); }

uint8_t yzp_byte(const Tensor& yzp) { return static_cast<const uint8_t*>(yzp.raw())[0]; }

// ------------------------------------------------------------------ NAIVE
void naive(const QLinearConvNchw44Op& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(3);
  const Tensor& wzp = ctx.input(5);
  const Geo g = op.geometry(x.shape(), w.shape());
  const QLinearRequant rq(ctx.input(1), ctx.input(4), ctx.input(6), ctx.input(7));
  const int64_t xzp = ctx.input(2).get_i64(0);
  const int32_t* bias = ctx.has(8) ? ctx.input(8).ptr<int32_t>() : nullptr;
  uint8_t* y = static_cast<uint8_t*>(ctx.output(0).raw());
  const uint8_t pad_out = yzp_byte(ctx.input(7));
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oc = 0; oc < g.ocb * kB; ++oc)
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          uint8_t* out = y + (((n * g.ocb + oc / kB) * g.oh + oy) * g.ow + ox) * kB + oc % kB;
          if (oc >= g.oc) {
            *out = pad_out;
            continue;
          }
          const int64_t wz = wzp_of(wzp, oc);
          uint32_t acc = 0;
          const int64_t ic0 = g.depthwise ? oc : 0, ic1 = g.depthwise ? oc + 1 : g.ic;
          for (int64_t ic = ic0; ic < ic1; ++ic)
            for (int64_t ky = 0; ky < g.kh; ++ky)
              for (int64_t kx = 0; kx < g.kw; ++kx) {
                int64_t iy = oy * g.sh - g.ph + ky * g.dh, ix = ox * g.sw - g.pw + kx * g.dw;
                if (iy < 0 || iy >= g.ih || ix < 0 || ix >= g.iw) continue;
                int64_t xv =
                    x.get_i64((((n * g.icb + ic / kB) * g.ih + iy) * g.iw + ix) * kB + ic % kB) -
                    xzp;
                const int64_t wrow = g.depthwise ? oc : oc * g.ic + ic;  // w is [OC, IC/group, ...]
                int64_t wv = w.get_i64((wrow * g.kh + ky) * g.kw + kx) - wz;
                acc += static_cast<uint32_t>(xv * wv);
              }
          if (bias) acc += static_cast<uint32_t>(bias[oc]);
          *out = rq.byte(static_cast<int32_t>(acc), rq.multiplier(oc));
        }
}

const auto kNaive = naive_algo<QLinearConvNchw44Op>(naive);

// ------------------------------------------------------------------ NCHW44_DOT
int64_t packed_bytes(const Geo& g) {
  return g.depthwise ? kernels::conv_int8_nchw44_dw_packed_bytes(g.oc, g.kh, g.kw)
                     : kernels::conv_int8_nchw44_packed_bytes(g.oc, g.ic, g.kh, g.kw);
}

// Shared workspace, in order (each part 64-byte aligned): the padded copy
// x' (icb x rows x ld x 4 bytes), S' (oh x ow int32; depthwise: none, each
// block's S' is made beside its rows), the folded bias, the
// w zero points (ocb*4 int32 each) and multipliers (ocb*4 float), all-ones
// weights (one block), and, unprepared, the packed weights and their sums.
struct Parts {
  int64_t rows, ld;
  size_t xp, s, bias, wzp, mult, ones, packed, sum_w, total;
};

Parts parts(const Geo& g, bool prepared) {
  Parts p;
  p.rows = kernels::conv_int8_nchw44_rows(g.oh, g.kh, g.sh, g.dh);
  p.ld = kernels::conv_int8_nchw44_rows(g.ow, g.kw, g.sw, g.dw);
  size_t off = 0;
  auto take = [&](size_t bytes) {
    size_t at = off;
    off += round64(bytes);
    return at;
  };
  p.xp = take(static_cast<size_t>(g.icb * p.rows * p.ld * kB));
  p.s = take(g.depthwise ? 0 : static_cast<size_t>(g.oh * g.ow) * 4);
  p.bias = take(static_cast<size_t>(g.ocb * kB) * 4);
  p.wzp = take(static_cast<size_t>(g.ocb * kB) * 4);
  p.mult = take(static_cast<size_t>(g.ocb * kB) * 4);
  p.ones = take(static_cast<size_t>((g.depthwise ? 1 : g.icb) * g.kh * g.kw * kB * kB));
  p.packed = prepared ? off : take(static_cast<size_t>(packed_bytes(g)));
  p.sum_w = prepared ? off : take(static_cast<size_t>(g.oc) * 4);
  p.total = off;
  return p;
}

class Nchw44Dot final : public Algo {
 public:
  const char* name() const override { return "NCHW44_DOT"; }
  uint32_t attributes() const override { return REPRODUCIBLE; }
  size_t workspace(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    const Geo g = cast(op).geometry(in[0]->shape, in[3]->shape);
    // Sums of up to 2 blocks (depthwise: 1 block, and its S').
    return static_cast<size_t>(2 * g.ow * kB) * sizeof(int32_t);
  }
  size_t shared_workspace(const Op& op, const InLayouts& in, const OutLayouts& out,
                          bool prepared) const override {
    return parts(cast(op).geometry(in[0]->shape, in[3]->shape), prepared).total;
  }
  std::string preprocess_key(const Op&, const InLayouts& in) const override {
    return layout_key(in, 3);
  }
  // The packed weights followed by their per-channel sums (int32).
  Prepared preprocess(const Op& op, const InLayouts& in,
                      const std::vector<const Tensor*>& values) const override {
    if (values.size() < 4 || !values[3]) return {};
    const Geo g = cast(op).geometry(in[0]->shape, in[3]->shape);
    const size_t packed = round64(static_cast<size_t>(packed_bytes(g)));
    const size_t bytes = packed + static_cast<size_t>(g.oc) * 4;
    std::shared_ptr<uint8_t> buf = alloc_aligned(bytes);
    pack(g, *values[3], buf.get(), reinterpret_cast<int32_t*>(buf.get() + packed));
    return {buf, bytes, 3};
  }
  void exec(const Op& op_base, const KernCtx& ctx) const override {
    const QLinearConvNchw44Op& op = cast(op_base);
    const Tensor& xt = ctx.input(0);
    const Tensor& wt = ctx.input(3);
    const Geo g = op.geometry(xt.shape(), wt.shape());
    const Parts p = parts(g, ctx.prepared != nullptr);
    uint8_t* ws = static_cast<uint8_t*>(ctx.shared_workspace);
    const bool w_signed = wt.dtype() == DType::Int8, x_signed = xt.dtype() == DType::Int8;
    const uint8_t flip = w_signed != x_signed ? 0x80 : 0;
    // The packed weights and their sums.
    const uint8_t* wp;
    const int32_t* sum_w;
    if (ctx.prepared) {
      wp = static_cast<const uint8_t*>(ctx.prepared);
      sum_w = reinterpret_cast<const int32_t*>(wp + round64(static_cast<size_t>(packed_bytes(g))));
    } else {
      pack(g, wt, ws + p.packed, reinterpret_cast<int32_t*>(ws + p.sum_w));
      wp = ws + p.packed;
      sum_w = reinterpret_cast<const int32_t*>(ws + p.sum_w);
    }
    // Per-channel terms: bias' = B + d*sum(W) - N*d*wzp, wzp, multiplier.
    const QLinearRequant rq(ctx.input(1), ctx.input(4), ctx.input(6), ctx.input(7));
    const Tensor& wzp_t = ctx.input(5);
    const int64_t xzp = ctx.input(2).get_i64(0);
    const int64_t xoff = !flip ? 0 : (x_signed ? -128 : 128);
    const uint32_t d = static_cast<uint32_t>(xoff - xzp);
    // Input blocks one output block reads, and taps per output channel.
    const int64_t icb_read = g.depthwise ? 1 : g.icb;
    const uint32_t taps = static_cast<uint32_t>(icb_read * g.kh * g.kw * (g.depthwise ? 1 : kB));
    const int32_t* b = ctx.has(8) ? ctx.input(8).ptr<int32_t>() : nullptr;
    int32_t* biasp = reinterpret_cast<int32_t*>(ws + p.bias);
    int32_t* wzp = reinterpret_cast<int32_t*>(ws + p.wzp);
    float* mult = reinterpret_cast<float*>(ws + p.mult);
    bool any_wzp = false;
    for (int64_t oc = 0; oc < g.oc; ++oc) {
      const uint32_t wz = static_cast<uint32_t>(wzp_of(wzp_t, oc));
      any_wzp = any_wzp || wz != 0;
      wzp[oc] = static_cast<int32_t>(wz);
      biasp[oc] = static_cast<int32_t>((b ? static_cast<uint32_t>(b[oc]) : 0u) +
                                       d * static_cast<uint32_t>(sum_w[oc]) - taps * d * wz);
      mult[oc] = rq.multiplier(oc);
    }
    // All-ones weights (depthwise: block-diagonal ones, so lane l sums lane l).
    uint8_t* ones = ws + p.ones;
    const int64_t ones_bytes = icb_read * g.kh * g.kw * kB * kB;
    std::memset(ones, g.depthwise ? 0 : 1, static_cast<size_t>(ones_bytes));
    if (g.depthwise)
      for (int64_t t = 0; t < ones_bytes; t += kB * kB)
        for (int64_t l = 0; l < kB; ++l) ones[t + l * kB + l] = 1;
    const auto& impl = kernels::kernel_table().conv_int8_nchw44;
    const kernels::ConvInt8Nchw44RowFn row = w_signed ? impl.row_s8 : impl.row_u8;
    const kernels::ConvInt8Nchw44Geo kg{icb_read, g.kh, g.kw, g.sh, g.sw,
                                        g.dh, g.dw, g.ow, p.rows, p.ld};
    const int64_t plane = p.rows * p.ld * kB, wblock = icb_read * g.kh * g.kw * kB * kB;
    const uint8_t xzp_byte = static_cast<const uint8_t*>(ctx.input(2).raw())[0];
    const uint8_t pad = static_cast<uint8_t>(xzp_byte ^ flip);
    const uint8_t pad_out = yzp_byte(ctx.input(7));
    uint8_t* xp = ws + p.xp;
    int32_t* s = reinterpret_cast<int32_t*>(ws + p.s);
    const uint8_t* x = static_cast<const uint8_t*>(xt.raw());
    uint8_t* y = static_cast<uint8_t*>(ctx.output(0).raw());
    const int64_t real_last = g.ic - (g.icb - 1) * kB;  // real lanes of the last input block
    const int64_t row_macs = g.ow * g.icb * g.kh * g.kw * kB * kB;
    const int64_t grain = std::max<int64_t>(1, kMacsPerRange / std::max<int64_t>(row_macs, 1));
    for (int64_t n = 0; n < g.n; ++n) {
      // The padded copy x', one padded row per item.
      parallel_for(ctx.comp_node, g.icb * p.rows, [&](int64_t r0, int64_t r1, int) {
        for (int64_t r = r0; r < r1; ++r) {
          const int64_t ib = r / p.rows, iy = r % p.rows - g.ph;
          uint8_t* dst = xp + r * p.ld * kB;
          std::memset(dst, pad, static_cast<size_t>(p.ld * kB));
          if (iy < 0 || iy >= g.ih) continue;
          const uint8_t* src = x + (((n * g.icb + ib) * g.ih + iy) * g.iw) * kB;
          const int64_t lanes = ib == g.icb - 1 ? real_last : kB;
          const int64_t c0 = std::max<int64_t>(0, g.pw), c1 = std::min(p.ld, g.pw + g.iw);
          for (int64_t c = c0; c < c1; ++c)
            for (int64_t l = 0; l < lanes; ++l)
              dst[c * kB + l] = static_cast<uint8_t>(src[(c - g.pw) * kB + l] ^ flip);
        }
      });
      // S', the window sums of x', when some w_zero_point needs them.
      if (any_wzp && !g.depthwise)
        parallel_for(ctx.comp_node, g.oh, [&](int64_t r0, int64_t r1, int tid) {
          int32_t* acc = static_cast<int32_t*>(ctx.thread_workspace(tid));
          for (int64_t oy = r0; oy < r1; ++oy) {
            row(kg, xp, ones, 1, oy, acc);
            for (int64_t ox = 0; ox < g.ow; ++ox) s[oy * g.ow + ox] = acc[ox * kB];
          }
        }, grain);
      // (output block pair, output row) items over the threads; depthwise
      // blocks read different input blocks, so go one at a time.
      const int64_t per = g.depthwise ? 1 : kernels::kNchw44MaxBlocks;
      const int64_t groups = (g.ocb + per - 1) / per;
      parallel_for(ctx.comp_node, groups * g.oh, [&](int64_t i0, int64_t i1, int tid) {
        int32_t* acc0 = static_cast<int32_t*>(ctx.thread_workspace(tid));
        int32_t* sacc = acc0 + g.ow * kB;  // depthwise S', per lane
        for (int64_t i = i0; i < i1; ++i) {
          const int64_t ob0 = i / g.oh * per, oy = i % g.oh;
          const int nb = static_cast<int>(std::min(per, g.ocb - ob0));
          const uint8_t* xblk = g.depthwise ? xp + ob0 * plane : xp;
          row(kg, xblk, wp + ob0 * wblock, nb, oy, acc0);
          if (any_wzp && g.depthwise) row(kg, xblk, ones, 1, oy, sacc);
          for (int64_t ob = ob0; ob < ob0 + nb; ++ob) {
          const int32_t* acc = acc0 + (ob - ob0) * g.ow * kB;
          uint8_t* out = y + (((n * g.ocb + ob) * g.oh + oy) * g.ow) * kB;
          for (int64_t l = 0; l < kB; ++l) {
            const int64_t oc = ob * kB + l;
            if (oc >= g.oc) {
              for (int64_t ox = 0; ox < g.ow; ++ox) out[ox * kB + l] = pad_out;
              continue;
            }
            const uint32_t bo = static_cast<uint32_t>(biasp[oc]);
            const uint32_t wz = static_cast<uint32_t>(wzp[oc]);
            const float m = mult[oc];
            const int32_t* srow = g.depthwise ? sacc + l : s + oy * g.ow;
            const int64_t sstep = g.depthwise ? kB : 1;
            for (int64_t ox = 0; ox < g.ow; ++ox) {
              uint32_t a = static_cast<uint32_t>(acc[ox * kB + l]) + bo;
              if (any_wzp) a -= wz * static_cast<uint32_t>(srow[ox * sstep]);
              out[ox * kB + l] = rq.byte(static_cast<int32_t>(a), m);
            }
          }
          }
        }
      }, std::max<int64_t>(1, grain / per));
    }
  }

 private:
  static void pack(const Geo& g, const Tensor& w, uint8_t* wp, int32_t* sum_w) {
    const uint8_t* wb = static_cast<const uint8_t*>(w.raw());
    const bool sgn = w.dtype() == DType::Int8;
    if (g.depthwise)
      kernels::conv_int8_nchw44_pack_dw(wb, sgn, g.oc, g.kh, g.kw, wp, sum_w);
    else
      kernels::conv_int8_nchw44_pack(wb, sgn, g.oc, g.ic, g.kh, g.kw, wp, sum_w);
  }
  static const QLinearConvNchw44Op& cast(const Op& op) {
    return static_cast<const QLinearConvNchw44Op&>(op);
  }
};

const Nchw44Dot kDot;

}  // namespace

void register_op_QLinearConvNCHW44(OpRegistry& r) {
  OpDef d;
  d.type = "QLinearConvNCHW44";
  d.domain = "loadrun";
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> {
    return std::make_unique<QLinearConvNchw44Op>(a);
  };
  d.algos = {&kNaive, &kDot};
  d.min_inputs = 8;
  d.max_inputs = 9;
  r.add(std::move(d));
}

}  // namespace loadrun
