// IM2COL_GEMM: any float32 Conv (kernel, stride, pads, dilation, groups) as
// GEMMs. Per image and group, the input patches are unrolled into a column
// matrix col[k = icg*kh*kw][n = oh*ow] (zeros where the window hangs over
// the pads) and Y_grp[ocg x n] = W_grp[ocg x k] * col, with bias and the fused
// activation in the GEMM's epilogue. The columns are built in blocks of nb
// output positions (about 384 KiB), and each block's GEMM writes straight into
// the output plane (ldc = oh*ow); small planes run the GEMM transposed (see
// conv.h).
// Cost: the GEMM's 2*oc/g*k*oh*ow flops per image and group, plus writing
// k*oh*ow floats of columns. Workspace: one column block (and the
// transposed result), per thread. Threads: the column blocks of every image
// and group are tasks shared out over the threads, or, when they are too few
// to share evenly, each block's GEMM splits over the threads
// (conv_split_tasks). Preprocess packs the weights for the GEMM. The general fallback of the fast
// algorithms; also the file of the GEMM helpers CONV1x1_GEMM shares.
#include <algorithm>
#include <cstring>

#include "core/tensor.h"
#include "kernels/kernel_table.h"
#include "ops/common.h"
#include "ops/conv.h"

namespace loadrun {

namespace {

size_t packed_group_floats(int64_t ocg, int64_t k, bool transposed) {
  size_t f = transposed ? kernels::sgemm_packed_b_floats(k, ocg)
                        : kernels::sgemm_packed_a_floats(ocg, k);
  return (f + 15) / 16 * 16;  // keep every group's block 64-byte aligned
}

}  // namespace

int64_t conv_out_hw(const ConvOp& op, const InLayouts& in) {
  const Shape& x = in[0]->shape;
  const Shape& w = in[1]->shape;
  std::vector<int64_t> sp(x.begin() + 2, x.end()), k(w.begin() + 2, w.end());
  std::vector<int64_t> out = op.sp.resolve(sp, k, nullptr);
  int64_t n = 1;
  for (int64_t d : out) n *= d;
  return n;
}

Prepared conv_pack_weights(const float* w, int64_t group, int64_t ocg, int64_t k, bool transposed) {
  size_t per = packed_group_floats(ocg, k, transposed);
  size_t bytes = per * group * sizeof(float);
  std::shared_ptr<uint8_t> buf = alloc_aligned(bytes);
  float* p = reinterpret_cast<float*>(buf.get());
  for (int64_t g = 0; g < group; ++g) {
    if (transposed) {
      kernels::sgemm_pack_b(true, k, ocg, w + g * ocg * k, k, p + g * per);
    } else {
      kernels::sgemm_pack_a(false, ocg, k, w + g * ocg * k, k, p + g * per);
    }
  }
  return {buf, bytes, 1};
}

// W (group x ocg x k) from conv_pack_weights' form, through GEMMs with the
// identity: every output element is one weight times 1 plus zeros, exact
// for finite weights (a -0 weight comes back +0, which changes no sum but
// an exactly zero one's sign).
Tensor conv_unpack_weights(const Prepared& p, const Shape& w_shape, int64_t group, bool transposed) {
  const int64_t ocg = w_shape[0] / group, k = dims_product(w_shape, 1, w_shape.size());
  const size_t per = packed_group_floats(ocg, k, transposed);
  const float* packed = static_cast<const float*>(p.data.get());
  Tensor w(Layout(w_shape, DType::Float32));
  float* out = w.ptr<float>();
  // Columns j0 .. j0+nb of the identity at a time: k x nb floats (or nb x k).
  constexpr int64_t nb = 64;
  std::vector<float> eye(static_cast<size_t>(k * nb)), t(static_cast<size_t>(nb * ocg));
  for (int64_t j0 = 0; j0 < k; j0 += nb) {
    const int64_t cols = std::min(nb, k - j0);
    std::fill(eye.begin(), eye.end(), 0.f);
    for (int64_t j = 0; j < cols; ++j)  // !transposed: I[:, j0:j0+cols] (k x cols); else its transpose
      eye[static_cast<size_t>(transposed ? j * k + j0 + j : (j0 + j) * cols + j)] = 1.f;
    for (int64_t g = 0; g < group; ++g) {
      float* wg = out + g * ocg * k;
      if (!transposed) {  // W_g[:, block] = packed A (ocg x k) * I[:, block]
        kernels::sgemm_packed_a(false, ocg, cols, k, packed + g * per, eye.data(), cols, 0.f, wg + j0, k);
        continue;
      }
      // packed B is W_g^T (k x ocg): I[block, :] * W_g^T = W_g^T[block, :], transposed back.
      kernels::sgemm_packed_b(false, cols, ocg, k, eye.data(), k, packed + g * per, 0.f, t.data(), ocg);
      for (int64_t o = 0; o < ocg; ++o)
        for (int64_t j = 0; j < cols; ++j) wg[o * k + j0 + j] = t[static_cast<size_t>(j * ocg + o)];
    }
  }
  return w;
}

void conv_group_gemm(const float* w, const void* prepared, bool transposed, int64_t grp,
                     int64_t ocg, int64_t k, const float* b, int64_t ldb, float* c, int64_t ldc,
                     int64_t n, const kernels::Epilogue& ep, float* scratch, CompNode* cn) {
  const float* wg = prepared ? nullptr : w + grp * ocg * k;  // w: null once freed
  const float* pg = prepared ? static_cast<const float*>(prepared) +
                                   grp * packed_group_floats(ocg, k, transposed)
                             : nullptr;
  if (!transposed) {
    if (pg) {
      kernels::sgemm_packed_a(false, ocg, n, k, pg, b, ldb, 0.f, c, ldc, ep, cn);
    } else {
      kernels::sgemm(false, false, ocg, n, k, 1.f, wg, k, b, ldb, 0.f, c, ldc, ep, cn);
    }
    return;
  }
  // scratch[n x ocg] = B^T W^T, bias per column (channel), then transpose.
  kernels::Epilogue ept = ep;
  ept.bias_mode = kernels::Epilogue::kPerCol;
  ept.residual = nullptr;  // in C's layout, not scratch's: added below
  if (ep.residual) ept.act = kernels::Act::kNone;
  if (pg) {
    kernels::sgemm_packed_b(true, n, ocg, k, b, ldb, pg, 0.f, scratch, ocg, ept, cn);
  } else {
    kernels::sgemm(true, true, n, ocg, k, 1.f, b, ldb, wg, k, 0.f, scratch, ocg, ept, cn);
  }
  // Transposed back (and residual, activation) by ranges of channels over
  // the threads: each channel's row of C is written by one range.
  constexpr int64_t kB = 16;
  const int64_t grain = std::max<int64_t>(1, 8192 / std::max<int64_t>(n, 1));
  parallel_for(
      cn, ocg,
      [&](int64_t o0, int64_t o1, int) {
        for (int64_t j0 = 0; j0 < n; j0 += kB) {
          int64_t j1 = std::min(n, j0 + kB);
          for (int64_t o = o0; o < o1; ++o) {
            float* co = c + o * ldc;
            if (ep.residual) {
              const float* r = ep.residual + o * ep.res_ld;
              for (int64_t j = j0; j < j1; ++j) co[j] = scratch[j * ocg + o] + r[j];
            } else {
              for (int64_t j = j0; j < j1; ++j) co[j] = scratch[j * ocg + o];
            }
          }
        }
        if (ep.residual && ep.act != kernels::Act::kNone) {  // after the residual
          const kernels::EltwiseImpl& kt = kernels::kernel_table().eltwise;
          for (int64_t o = o0; o < o1; ++o)
            kt.act(ep.act, c + o * ldc, c + o * ldc, n, ep.p0, ep.p1);
        }
      },
      grain);
}

namespace {

// Output positions per column block: about 384 KiB of columns, so the block
// (and the GEMM's packed copy of it) stays in L2 (ResNet's 7x7 stem: 3.1 ms
// against 3.6 ms with 2 MiB blocks), a multiple of 16, at least 64 (or all).
int64_t block_cols(int64_t k, int64_t n) {
  int64_t nb = (96 * 1024 / std::max<int64_t>(k, 1)) / 16 * 16;
  nb = std::max<int64_t>(nb, 64);
  return std::min(nb, n);
}

// im2col_channel for a plane one element wide (a 1-D conv along H, as
// JAX exports Conv1D: [N, C, L, 1]): column j is output row n0 + j, so each
// kernel row is one run of input rows; the general loop would do its
// bookkeeping per element there (magika's 5x1 conv: 3x its GEMM's time).
void im2col_channel_h(const ConvGeo& g, const float* xp, int64_t n0, int64_t nb, float* row) {
  for (int64_t kh = 0; kh < g.kh; ++kh) {
    for (int64_t kw = 0; kw < g.kw; ++kw, row += nb) {
      if (kw * g.dw - g.pw != 0) {  // this tap reads the width's padding only
        std::fill(row, row + nb, 0.f);
        continue;
      }
      // ih = (n0 + j) * sh - ph + kh * dh is inside [0, ih) for j in [lo, hi)
      const int64_t base = n0 * g.sh - g.ph + kh * g.dh;
      int64_t lo = base >= 0 ? 0 : (-base + g.sh - 1) / g.sh;
      int64_t hi = g.ih - base <= 0 ? 0 : (g.ih - base + g.sh - 1) / g.sh;
      hi = std::min(hi, nb);
      lo = std::min(lo, hi);
      std::fill(row, row + lo, 0.f);
      if (g.sh == 1) {
        std::memcpy(row + lo, xp + base + lo, static_cast<size_t>(hi - lo) * sizeof(float));
      } else {
        for (int64_t j = lo; j < hi; ++j) row[j] = xp[base + j * g.sh];
      }
      std::fill(row + hi, row + nb, 0.f);
    }
  }
}

// The kh*kw rows of input channel plane xp in columns [n0, n0 + nb) of the
// im2col matrix, from `row` on.
void im2col_channel(const ConvGeo& g, const float* xp, int64_t n0, int64_t nb, float* row) {
  if (g.ow == 1 && g.iw == 1) {  // a 1-D conv along H: the columns are one run of H
    im2col_channel_h(g, xp, n0, nb, row);
    return;
  }
  for (int64_t kh = 0; kh < g.kh; ++kh) {
    for (int64_t kw = 0; kw < g.kw; ++kw, row += nb) {
      int64_t off = kw * g.dw - g.pw;  // iw = ow * sw + off
      int64_t a = off >= 0 ? 0 : (-off + g.sw - 1) / g.sw;
      int64_t b = g.iw - off <= 0 ? 0 : (g.iw - off + g.sw - 1) / g.sw;
      b = std::min(b, g.ow);
      a = std::min(a, b);
      int64_t oh = n0 / g.ow, ow0 = n0 % g.ow;
      for (int64_t j = 0; j < nb; ++oh, ow0 = 0) {
        int64_t len = std::min(g.ow - ow0, nb - j);
        float* dst = row + j;  // dst[o - ow0] for ow o in [ow0, e)
        int64_t ih = oh * g.sh - g.ph + kh * g.dh;
        int64_t e = ow0 + len;
        if (ih < 0 || ih >= g.ih) {
          std::fill(dst, dst + len, 0.f);
        } else {
          const float* xr = xp + ih * g.iw;  // xr[o * sw + off] is ow o's input
          int64_t lo = std::clamp(a, ow0, e), hi = std::clamp(b, ow0, e);
          std::fill(dst, dst + (lo - ow0), 0.f);
          if (g.sw == 1) {
            std::memcpy(dst + (lo - ow0), xr + lo + off, (hi - lo) * sizeof(float));
          } else {
            for (int64_t o = lo; o < hi; ++o) dst[o - ow0] = xr[o * g.sw + off];
          }
          std::fill(dst + (hi - ow0), dst + len, 0.f);
        }
        j += len;
      }
    }
  }
}

// Columns [n0, n0 + nb) of the group's im2col matrix (x: its first channel);
// channels over cn's threads (null: this thread).
void im2col_block(const ConvGeo& g, const float* x, int64_t n0, int64_t nb, float* col,
                  CompNode* cn) {
  const int64_t ihw = g.ih * g.iw, rows = g.kh * g.kw * nb;
  const int64_t grain = std::max<int64_t>(1, 8192 / std::max<int64_t>(rows, 1));
  parallel_for(
      cn, g.icg(),
      [&](int64_t c0, int64_t c1, int) {
        for (int64_t c = c0; c < c1; ++c) im2col_channel(g, x + c * ihw, n0, nb, col + c * rows);
      },
      grain);
}

class Im2colGemm final : public ConvAlgo {
 public:
  const char* name() const override { return "IM2COL_GEMM"; }
  uint32_t attributes() const override { return REPRODUCIBLE; }
  bool usable(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    ConvGeo g;
    return conv_geometry_f32(as_conv(op), in, out, &g) && conv_residual_ok(as_conv(op), in, out);
  }
  size_t workspace(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    ConvGeo g;
    if (!conv_geometry_f32(as_conv(op), in, out, &g)) return 0;
    int64_t k = g.icg() * g.kh * g.kw, ohw = g.oh * g.ow, nb = block_cols(k, ohw);
    int64_t scratch = conv_gemm_transposed(ohw) ? nb * g.ocg() : 0;
    return static_cast<size_t>(k * nb + scratch) * sizeof(float);
  }
  std::string preprocess_key(const Op& op, const InLayouts& in) const override {
    // the packing follows the weights and whether the GEMM runs transposed
    return layout_key(in, 1) + (conv_gemm_transposed(conv_out_hw(as_conv(op), in)) ? "T" : "N");
  }
  Prepared preprocess(const Op& op, const InLayouts& in,
                       const std::vector<const Tensor*>& values) const override {
    if (values.size() < 2 || !values[1]) return {};
    const Shape& w = in[1]->shape;
    int64_t k = dims_product(w, 1, w.size());
    const ConvOp& c = as_conv(op);
    return conv_pack_weights(values[1]->ptr<float>(), c.group, w[0] / c.group, k,
                             conv_gemm_transposed(conv_out_hw(c, in)));
  }
  bool can_unprepare() const override { return true; }
  Tensor unprepare(const Op& op, const InLayouts& in, const Prepared& p) const override {
    const ConvOp& c = as_conv(op);
    return conv_unpack_weights(p, in[1]->shape, c.group, conv_gemm_transposed(conv_out_hw(c, in)));
  }
  void run(const ConvCall& c) const override {
    const ConvOp& op = c.op;
    const KernCtx& ctx = c.ctx;
    const Tensor& xt = ctx.input(0);
    const Tensor& wt = ctx.input(1);
    Tensor& yt = ctx.output(0);
    const ConvGeo& g = c.g;  // worked out at bind
    const float* x = xt.ptr<float>();
    const float* w = wt.ptr<float>();
    const float* bias = ctx.has(2) ? ctx.input(2).ptr<float>() : nullptr;
    float* y = yt.ptr<float>();
    int64_t k = g.icg() * g.kh * g.kw, ohw = g.oh * g.ow, ocg = g.ocg();
    int64_t nb = block_cols(k, ohw), blocks = (ohw + nb - 1) / nb;
    bool tr = conv_gemm_transposed(ohw);
    const float* res = conv_residual(op, ctx);
    // Task t: image, group and column block; `cn` splits its GEMM (null:
    // the task runs on this thread alone).
    auto task = [&](int64_t t, float* col, CompNode* cn) {
      const int64_t n = t / (g.group * blocks), grp = t / blocks % g.group;
      const int64_t n0 = t % blocks * nb, cols = std::min(nb, ohw - n0);
      const float* xg = x + (n * g.ic + grp * g.icg()) * g.ih * g.iw;
      float* yg = y + (n * g.oc + grp * ocg) * ohw;
      const float* rg = res ? res + (n * g.oc + grp * ocg) * ohw : nullptr;
      kernels::Epilogue ep =
          op.epilogue(bias ? bias + grp * ocg : nullptr, rg ? rg + n0 : nullptr, ohw);
      im2col_block(g, xg, n0, cols, col, cn);
      conv_group_gemm(w, ctx.prepared, tr, grp, ocg, k, col, cols, yg + n0, ohw, cols, ep,
                      col + k * nb, cn);
    };
    const int64_t tasks = g.n * g.group * blocks;
    if (!conv_split_tasks(ctx.comp_node, tasks)) {
      float* col = static_cast<float*>(ctx.workspace);
      for (int64_t t = 0; t < tasks; ++t) task(t, col, ctx.comp_node);
      return;
    }
    parallel_for(ctx.comp_node, tasks, [&](int64_t begin, int64_t end, int tid) {
      float* col = static_cast<float*>(ctx.thread_workspace(tid));
      for (int64_t t = begin; t < end; ++t) task(t, col, nullptr);
    });
  }
};

const Im2colGemm kAlgo;

}  // namespace

const Algo* conv_im2col_gemm_algo() { return &kAlgo; }

}  // namespace loadrun
