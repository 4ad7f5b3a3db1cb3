// The int8 direct convolution of QLinearConv and ConvInteger
// (INT8_DIRECT_DOT, NCHW) and QLinearConvNCHW44 (NCHW44_DOT, blocked): the
// dot-product rows of kernels/conv_int8_nchw44.h and the requantisation rows
// of kernels/requant.h. Results are NAIVE's bit for bit: the same wrapping
// int32 sums (ConvInteger's output), requantised in the same double
// arithmetic (QLinearConv's).
// Per image the input is copied once into a padded NCHW44 block x' in the
// weights' signedness (x ^ 0x80 where they differ), padding and lanes past
// IC holding x_zero_point (in x' form), so every tap of the full window
// counts and contributes nothing where it stands for a zero point. A planar
// input is interleaved into blocks of 4 channels by the same copy. With
// X = x' + xoff (xoff 0 or +-128), d = xoff - x_zero_point and
// N = KH*KW*4*ceil(IC/4) taps,
//   sum (X - xzp)(W - wzp) = dot(x', W) - wzp * S'(pixel) + d * sum(W)
//                            - N * d * wzp
// (exact in wrapping 32-bit arithmetic), where S' is the window sum of x'
// (computed by the same kernel against all-ones weights, only when some
// w_zero_point is not 0); the last two terms are constant per output channel
// and join B. Threads share the (pair of output blocks, output row) items
// of an image (a pair shares each input load); each item requantises its
// rows ([pixel][4 lanes]) and stores them blocked, or de-interleaves them
// into the 4 channel planes of an NCHW output. Cost: KH*KW*ceil(IC/4)
// 16-byte dot products per output pixel and block (plus one block for S'),
// one copy of the input. Depthwise runs the same kernel with one input
// block per output block and block-diagonal weights (N = KH*KW; 4x the
// needed products, but no separate kernel), its S' per lane beside each
// row. Preprocess packs the weights once (it replaces input 3).
#include "ops/qlinear_conv_dot.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/conv_int8_nchw44.h"
#include "kernels/kernel_table.h"
#include "ops/common.h"
#include "ops/qlinear_requant.h"
#include "runtime/comp_node.h"

namespace loadrun {

namespace {

constexpr int64_t kB = kernels::kNchw44;
constexpr int64_t kMacsPerRange = 64 * 1024;

bool is_q8(DType dt) { return dt == DType::Int8 || dt == DType::Uint8; }
int64_t blocks(int64_t c) { return (c + kB - 1) / kB; }
size_t round64(size_t b) { return (b + 63) / 64 * 64; }

int64_t wzp_of(const Tensor& t, int64_t oc) { return t.get_i64(t.numel() == 1 ? 0 : oc); }

// QLinearConv's multiplier of output channel oc (ops/qlinear_requant.h).
float multiplier(const KernCtx& ctx, int64_t oc) {
  return QLinearRequant(ctx.input(1), ctx.input(4), ctx.input(6), ctx.input(7)).multiplier(oc);
}

int64_t packed_bytes(const QConvGeo& g) {
  return g.depthwise ? kernels::conv_int8_nchw44_dw_packed_bytes(g.oc, g.kh, g.kw)
                     : kernels::conv_int8_nchw44_packed_bytes(g.oc, g.ic, g.kh, g.kw);
}

void pack(const QConvGeo& g, const Tensor& w, uint8_t* wp, int32_t* sum_w) {
  const uint8_t* wb = static_cast<const uint8_t*>(w.raw());
  const bool sgn = w.dtype() == DType::Int8;
  if (g.depthwise)
    kernels::conv_int8_nchw44_pack_dw(wb, sgn, g.oc, g.kh, g.kw, wp, sum_w);
  else
    kernels::conv_int8_nchw44_pack(wb, sgn, g.oc, g.ic, g.kh, g.kw, wp, sum_w);
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

Parts parts(const QConvGeo& g, bool prepared) {
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

// Per-thread workspace: the sums of up to 2 blocks (depthwise: 1 block and
// its S'), then one requantised row of bytes ([ow][4]) for a planar output.
size_t thread_bytes(const QConvGeo& g) {
  return round64(static_cast<size_t>(2 * g.ow * kB) * sizeof(int32_t)) +
         round64(static_cast<size_t>(g.ow * kB));
}

}  // namespace

QConvGeo qconv_geometry(const char* op, const SpatialParams& sp, int64_t group, const Shape& x,
                        const Shape& w, bool blocked) {
  if (blocked)
    LR_CHECK(x.size() == 5 && x[4] == kB, ModelError, op,
             ": input must be NCHW44 [N, C/4, H, W, 4], got ", shape_str(x));
  else
    LR_CHECK(x.size() == 4, UnsupportedError, op, ": the direct int8 kernels run 2-D only, input is ",
             shape_str(x));
  LR_CHECK(w.size() == 4, UnsupportedError, op, ": only 2-D convolutions, weight is ",
           shape_str(w));
  const bool depthwise = group > 1 && w[1] == 1 && w[0] == group;
  LR_CHECK(group == 1 || depthwise, UnsupportedError, op, ": group ", group, " with weight ",
           shape_str(w), " (only group 1 and depthwise)");
  const int64_t ic = w[1] * group;
  if (blocked)
    LR_CHECK(x[1] == blocks(ic), ModelError, op, ": input has ", x[1], " channel blocks, ", ic,
             " input channels need ", blocks(ic));
  else
    LR_CHECK(x[1] == ic, ModelError, op, ": input has ", x[1], " channels, weight expects ", ic);
  QConvGeo g;
  g.depthwise = depthwise;
  g.n = x[0];
  g.ic = ic;
  g.icb = blocks(ic);
  g.oc = w[0];
  g.ocb = blocks(g.oc);
  g.ih = x[2];
  g.iw = x[3];
  g.kh = w[2];
  g.kw = w[3];
  LR_CHECK(sp.kernel.empty() || sp.kernel == (Shape{g.kh, g.kw}), ModelError, op,
           ": kernel_shape ", shape_str(sp.kernel), " disagrees with weight ", shape_str(w));
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

QConvGeo QConvDotAlgo::geometry(const Op& op, const Shape& x, const Shape& w) const {
  const SpatialParams* sp;
  int64_t group;
  params_(op, &sp, &group);
  return qconv_geometry(op_name_, *sp, group, x, w, blocked_);
}

bool QConvDotAlgo::usable(const Op& op, const InLayouts& in, const OutLayouts& out) const {
  const int wi = w_index();
  if (kind_ == Kind::QLinear && (in.size() < 8 || !in[7] || !is_q8(in[7]->dtype))) return false;
  if (in.size() <= static_cast<size_t>(wi) || !in[0] || !in[wi]) return false;
  if (!is_q8(in[0]->dtype) || !is_q8(in[wi]->dtype)) return false;
  if (in[0]->ndim() != (blocked_ ? 5 : 4) || in[wi]->ndim() != 4) return false;
  const SpatialParams* sp;
  int64_t group;
  params_(op, &sp, &group);
  const Shape& w = in[wi]->shape;
  return group == 1 || (w[1] == 1 && w[0] == group);
}

size_t QConvDotAlgo::workspace(const Op& op, const InLayouts& in, const OutLayouts& out) const {
  return thread_bytes(geometry(op, in[0]->shape, in[w_index()]->shape));
}

size_t QConvDotAlgo::shared_workspace(const Op& op, const InLayouts& in, const OutLayouts& out,
                                      bool prepared) const {
  return parts(geometry(op, in[0]->shape, in[w_index()]->shape), prepared).total;
}

std::string QConvDotAlgo::preprocess_key(const Op&, const InLayouts& in) const {
  return layout_key(in, static_cast<size_t>(w_index()));
}

// The packed weights followed by their per-channel sums (int32).
Prepared QConvDotAlgo::preprocess(const Op& op, const InLayouts& in,
                                  const std::vector<const Tensor*>& values) const {
  const int wi = w_index();
  if (values.size() <= static_cast<size_t>(wi) || !values[wi]) return {};
  const QConvGeo g = geometry(op, in[0]->shape, in[wi]->shape);
  const size_t packed = round64(static_cast<size_t>(packed_bytes(g)));
  const size_t bytes = packed + static_cast<size_t>(g.oc) * 4;
  std::shared_ptr<uint8_t> buf = alloc_aligned(bytes);
  pack(g, *values[wi], buf.get(), reinterpret_cast<int32_t*>(buf.get() + packed));
  return {buf, bytes, wi};
}

void QConvDotAlgo::exec(const Op& op, const KernCtx& ctx) const {
  const bool qlinear = kind_ == Kind::QLinear;
  const Tensor& xt = ctx.input(0);
  const Tensor& wt = ctx.input(w_index());
  const QConvGeo g = geometry(op, xt.shape(), wt.shape());
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
  // Per-channel terms: bias' = B + d*sum(W) - N*d*wzp, wzp, multiplier
  // (lanes past OC: 0, their bytes are overwritten or not stored).
  // ConvInteger: zero points optional (0), no B, no requantisation.
  const int xzp_i = 2, wzp_i = qlinear ? 5 : 3;
  const Tensor* wzp_t = ctx.has(wzp_i) ? &ctx.input(wzp_i) : nullptr;
  const int64_t xzp = ctx.has(xzp_i) ? ctx.input(xzp_i).get_i64(0) : 0;
  const int64_t xoff = !flip ? 0 : (x_signed ? -128 : 128);
  const uint32_t d = static_cast<uint32_t>(xoff - xzp);
  // Input blocks one output block reads, and taps per output channel.
  const int64_t icb_read = g.depthwise ? 1 : g.icb;
  const uint32_t taps = static_cast<uint32_t>(icb_read * g.kh * g.kw * (g.depthwise ? 1 : kB));
  const int32_t* b = qlinear && ctx.has(8) ? ctx.input(8).ptr<int32_t>() : nullptr;
  int32_t* biasp = reinterpret_cast<int32_t*>(ws + p.bias);
  int32_t* wzp = reinterpret_cast<int32_t*>(ws + p.wzp);
  float* mult = reinterpret_cast<float*>(ws + p.mult);
  bool any_wzp = false, finite = true;
  for (int64_t oc = 0; oc < g.ocb * kB; ++oc) {
    if (oc >= g.oc) {
      biasp[oc] = wzp[oc] = 0;
      mult[oc] = 0.f;
      continue;
    }
    const uint32_t wz = wzp_t ? static_cast<uint32_t>(wzp_of(*wzp_t, oc)) : 0u;
    any_wzp = any_wzp || wz != 0;
    wzp[oc] = static_cast<int32_t>(wz);
    biasp[oc] = static_cast<int32_t>((b ? static_cast<uint32_t>(b[oc]) : 0u) +
                                     d * static_cast<uint32_t>(sum_w[oc]) - taps * d * wz);
    mult[oc] = qlinear ? multiplier(ctx, oc) : 0.f;
    finite = finite && std::isfinite(mult[oc]);
  }
  // All-ones weights (depthwise: block-diagonal ones, so lane l sums lane l).
  uint8_t* ones = ws + p.ones;
  const int64_t ones_bytes = icb_read * g.kh * g.kw * kB * kB;
  std::memset(ones, g.depthwise ? 0 : 1, static_cast<size_t>(ones_bytes));
  if (g.depthwise)
    for (int64_t t = 0; t < ones_bytes; t += kB * kB)
      for (int64_t l = 0; l < kB; ++l) ones[t + l * kB + l] = 1;
  const auto& table = kernels::kernel_table();
  const kernels::ConvInt8Nchw44RowFn row =
      w_signed ? table.conv_int8_nchw44.row_s8 : table.conv_int8_nchw44.row_u8;
  // A non-finite multiplier (a y_scale of 0) takes the scalar row, which
  // does what NAIVE does with it.
  const kernels::RequantRow4Fn requant =
      finite ? table.requant.row4 : kernels::requant_row4_portable;
  const kernels::ConvInt8Nchw44Geo kg{icb_read, g.kh, g.kw, g.sh, g.sw,
                                      g.dh, g.dw, g.ow, p.rows, p.ld};
  const int64_t plane = p.rows * p.ld * kB, wblock = icb_read * g.kh * g.kw * kB * kB;
  const uint8_t xzp_byte = static_cast<uint8_t>(xzp);  // the zero point's bits
  const uint8_t pad = static_cast<uint8_t>(xzp_byte ^ flip);
  const uint8_t pad_out = qlinear ? static_cast<const uint8_t*>(ctx.input(7).raw())[0] : 0;
  kernels::Requant4 q0;  // what every block shares
  if (qlinear) {
    const QLinearRequant rq(ctx.input(1), ctx.input(4), ctx.input(6), ctx.input(7));
    q0.yzp = rq.y_zero_point;
    q0.lo = rq.lo;
    q0.hi = rq.hi;
    q0.out_signed = rq.out_signed;
  }
  uint8_t* xp = ws + p.xp;
  int32_t* s = reinterpret_cast<int32_t*>(ws + p.s);
  const uint8_t* x = static_cast<const uint8_t*>(xt.raw());
  uint8_t* y = static_cast<uint8_t*>(ctx.output(0).raw());
  int32_t* y32 = reinterpret_cast<int32_t*>(y);  // ConvInteger's output
  const int64_t real_last = g.ic - (g.icb - 1) * kB;  // real lanes of the last input block
  const int64_t row_macs = g.ow * g.icb * g.kh * g.kw * kB * kB;
  const int64_t grain = std::max<int64_t>(1, kMacsPerRange / std::max<int64_t>(row_macs, 1));
  const bool blocked = blocked_;
  const size_t acc_bytes = round64(static_cast<size_t>(2 * g.ow * kB) * sizeof(int32_t));
  for (int64_t n = 0; n < g.n; ++n) {
    // The padded copy x', one padded row per item.
    parallel_for(ctx.comp_node, g.icb * p.rows, [&](int64_t r0, int64_t r1, int) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t ib = r / p.rows, iy = r % p.rows - g.ph;
        uint8_t* dst = xp + r * p.ld * kB;
        std::memset(dst, pad, static_cast<size_t>(p.ld * kB));
        if (iy < 0 || iy >= g.ih) continue;
        const int64_t lanes = ib == g.icb - 1 ? real_last : kB;
        const int64_t c0 = std::max<int64_t>(0, g.pw), c1 = std::min(p.ld, g.pw + g.iw);
        if (blocked) {
          const uint8_t* src = x + (((n * g.icb + ib) * g.ih + iy) * g.iw) * kB;
          for (int64_t c = c0; c < c1; ++c)
            for (int64_t l = 0; l < lanes; ++l)
              dst[c * kB + l] = static_cast<uint8_t>(src[(c - g.pw) * kB + l] ^ flip);
        } else {
          for (int64_t l = 0; l < lanes; ++l) {
            const uint8_t* src = x + ((n * g.ic + ib * kB + l) * g.ih + iy) * g.iw;
            for (int64_t c = c0; c < c1; ++c)
              dst[c * kB + l] = static_cast<uint8_t>(src[c - g.pw] ^ flip);
          }
        }
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
      uint8_t* tws = static_cast<uint8_t*>(ctx.thread_workspace(tid));
      int32_t* acc0 = reinterpret_cast<int32_t*>(tws);
      int32_t* sacc = acc0 + g.ow * kB;  // depthwise S', per lane
      uint8_t* bytes = tws + acc_bytes;  // a planar output's requantised row
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t ob0 = i / g.oh * per, oy = i % g.oh;
        const int nb = static_cast<int>(std::min(per, g.ocb - ob0));
        const uint8_t* xblk = g.depthwise ? xp + ob0 * plane : xp;
        row(kg, xblk, wp + ob0 * wblock, nb, oy, acc0);
        if (any_wzp && g.depthwise) row(kg, xblk, ones, 1, oy, sacc);
        const int32_t* srow = !any_wzp ? nullptr : g.depthwise ? sacc : s + oy * g.ow;
        for (int64_t ob = ob0; ob < ob0 + nb; ++ob) {
          const int32_t* acc = acc0 + (ob - ob0) * g.ow * kB;
          const int64_t real = std::min(kB, g.oc - ob * kB);
          if (!qlinear) {  // the int32 sums, corrected: acc + bias' - wzp * S'
            for (int64_t l = 0; l < real; ++l) {
              const int64_t oc = ob * kB + l;
              const uint32_t bo = static_cast<uint32_t>(biasp[oc]);
              const uint32_t wz = static_cast<uint32_t>(wzp[oc]);
              int32_t* out = y32 + ((n * g.oc + oc) * g.oh + oy) * g.ow;
              for (int64_t ox = 0; ox < g.ow; ++ox) {
                uint32_t a = static_cast<uint32_t>(acc[ox * kB + l]) + bo;
                if (srow) a -= wz * static_cast<uint32_t>(srow[g.depthwise ? ox * kB + l : ox]);
                out[ox] = static_cast<int32_t>(a);
              }
            }
            continue;
          }
          kernels::Requant4 q = q0;
          for (int64_t l = 0; l < kB; ++l) {
            q.bias[l] = biasp[ob * kB + l];
            q.wz[l] = wzp[ob * kB + l];
            q.mult[l] = static_cast<double>(mult[ob * kB + l]);
          }
          if (blocked) {
            uint8_t* out = y + (((n * g.ocb + ob) * g.oh + oy) * g.ow) * kB;
            requant(acc, g.ow, srow, g.depthwise, q, out);
            for (int64_t l = real; l < kB; ++l)
              for (int64_t ox = 0; ox < g.ow; ++ox) out[ox * kB + l] = pad_out;
          } else {
            requant(acc, g.ow, srow, g.depthwise, q, bytes);
            for (int64_t l = 0; l < real; ++l) {
              uint8_t* out = y + ((n * g.oc + ob * kB + l) * g.oh + oy) * g.ow;
              for (int64_t ox = 0; ox < g.ow; ++ox) out[ox] = bytes[ox * kB + l];
            }
          }
        }
      }
    }, std::max<int64_t>(1, grain / per));
  }
}

}  // namespace loadrun
