// WINOGRAD_F63 / WINOGRAD_F43: float32 3x3 Conv, stride 1, dilation 1, any
// pads and groups, by Winograd's minimal filtering F(m x m, 3 x 3) with
// m = 6 (8x8 tiles) or m = 4 (6x6 tiles). The output plane is cut into
// m x m tiles; for each tile and input channel the (m+2)^2 input window d is
// transformed to V = B^T d B, each filter g to U = G g G^T, and then for
// each of the t*t = (m+2)^2 positions xi one GEMM over channels,
// M[xi][oc][tile] = sum_ic U[xi][oc][ic] V[xi][ic][tile], does all the
// multiplications; Y = A^T M A per tile and channel, with bias and the
// fused activation, is the output. Multiplies per output: t^2/m^2 * ic
// (1.78 ic for F63, 2.25 ic for F43) against 9 ic for direct or im2col, plus
// the transforms (O(t^2) adds per tile and channel, in kernels/winograd*).
// Tiles are processed in bands of whole tile rows, sized so V and M of a
// band stay in cache; each band pads its input rows into workspace first.
// Threads: whole bands (of every image and group) go one per thread, each
// with the V and M of its own workspace slot, when they share out evenly;
// otherwise, per band, the input channels' transforms, the t^2 GEMMs and the
// output channels' transforms are each shared out over the threads. Either
// way no reduction is split: the bits are the one-thread ones.
// Preprocess transforms the filters and packs U[xi] as the GEMMs' A operand
// (the default; the original filters can then be freed); otherwise U is
// computed into the shared workspace on every run, which costs about as much
// as the conv (WANTS_WEIGHT_PREPROCESS: with --no-weight-preprocess the
// heuristic prefers IM2COL_GEMM). Per thread, a workspace slot holds one
// band's V and M and padded input rows.
// Accuracy: the transforms' constants (up to 21/4 and 32 in F63) grow the
// float32 rounding error. Relative max error against a float64 reference,
// 3x3 convs of 64..512 channels (He-scaled weights, N(0,1) input): F43
// 6e-6..1.5e-5, F63 9e-6..2.5e-5, against 5e-7..2e-6 for IM2COL_GEMM and
// NAIVE. The tests compare with NAIVE at 1e-4 (F43) and 3e-4 (F63), and the
// zoo's ResNet-18 with ORT at 1e-4.
// Preferred by the heuristic where the tiles are many enough for the GEMMs
// (see preferred()); on a 7x7 output IM2COL_GEMM wins.
#include <algorithm>

#include "kernels/winograd.h"
#include "ops/common.h"
#include "ops/conv.h"

namespace loadrun {

namespace {

bool fits(const ConvGeo& g) {
  return g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1;
}

// A band's geometry: tile rows, tiles per row, tile rows per band.
struct Bands {
  int m, t;
  int64_t th, tw, rb, ld;  // ld: the padded band's row pitch
  Bands(int m_, const ConvGeo& g) : m(m_), t(m_ + 2) {
    th = (g.oh + m - 1) / m;
    tw = (g.ow + m - 1) / m;
    // V and M of a band: t*t*(icg + ocg)*nt floats; aim at about 1 MiB and
    // at least 32 tiles for the GEMMs' sake.
    int64_t per_tile = static_cast<int64_t>(t) * t * (g.icg() + g.ocg());
    int64_t nt = std::max<int64_t>(32, (256 * 1024) / per_tile);
    rb = std::clamp<int64_t>(nt / tw, 1, th);
    ld = tw * m + 2 + 8;
  }
  int64_t band_rows() const { return rb * m + 2; }
  int64_t max_tiles() const { return rb * tw; }
};

size_t packed_floats(int64_t ocg, int64_t icg) {
  return (kernels::sgemm_packed_a_floats(ocg, icg) + 15) / 16 * 16;
}

// U of group grp, [xi][oc][ic] with oc, ic local to the group.
void transform_filters(int m, const ConvGeo& g, const float* w, int64_t grp, float* u) {
  int64_t ocg = g.ocg(), icg = g.icg(), sxi = ocg * icg;
  for (int64_t oc = 0; oc < ocg; ++oc)
    for (int64_t ic = 0; ic < icg; ++ic)
      kernels::winograd_filter(m, w + ((grp * ocg + oc) * icg + ic) * 9, u + oc * icg + ic, sxi);
}

class Winograd final : public ConvAlgo {
 public:
  Winograd(const char* name, int m) : name_(name), m_(m) {}
  const char* name() const override { return name_; }
  uint32_t attributes() const override { return REPRODUCIBLE | WANTS_WEIGHT_PREPROCESS; }
  bool usable(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    ConvGeo g;
    return conv_geometry_f32(as_conv(op), in, out, &g) && fits(g) &&
           conv_residual_ok(as_conv(op), in, out);
  }
  bool preferred(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    ConvGeo g;
    if (!conv_geometry_f32(as_conv(op), in, out, &g)) return false;
    // Few tiles: the GEMMs are too narrow, and U (t^2/9 times the weights)
    // costs more to stream than it saves (ResNet's 7x7 stage: IM2COL_GEMM
    // 3.4 ms, F43 8.7 ms, F63 20 ms). F63 wins over F43 from about 20x20 up
    // (28x28x128: 1.1 against 1.4 ms), F43 below (14x14x256: 1.9 against 2.1).
    if (g.icg() < 8 || g.ocg() < 8) return false;
    if (m_ == 6) return g.oh >= 20 && g.ow >= 20;
    return g.oh >= 8 && g.ow >= 8;
  }
  size_t workspace(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    ConvGeo g;
    if (!conv_geometry_f32(as_conv(op), in, out, &g) || !fits(g)) return 0;
    Bands b(m_, g);
    int64_t t2 = static_cast<int64_t>(b.t) * b.t;
    int64_t floats = t2 * (g.icg() + g.ocg()) * b.max_tiles() + b.band_rows() * b.ld + 16;
    return static_cast<size_t>(floats) * sizeof(float);
  }
  // U, when the filters were not preprocessed: transformed once per call (per
  // group) and read by every thread.
  size_t shared_workspace(const Op& op, const InLayouts& in, const OutLayouts& out,
                          bool prepared) const override {
    ConvGeo g;
    if (prepared || !conv_geometry_f32(as_conv(op), in, out, &g) || !fits(g)) return 0;
    return static_cast<size_t>((m_ + 2) * (m_ + 2) * g.ocg() * g.icg()) * sizeof(float);
  }
  std::string preprocess_key(const Op&, const InLayouts& in) const override {
    return layout_key(in, 1);
  }
  Prepared preprocess(const Op& op, const InLayouts& in,
                       const std::vector<const Tensor*>& values) const override {
    if (values.size() < 2 || !values[1] || in[1]->shape.size() != 4) return {};
    const Shape& ws = in[1]->shape;
    if (ws[2] != 3 || ws[3] != 3) return {};
    int64_t group = as_conv(op).group, ocg = ws[0] / group, icg = ws[1];
    ConvGeo g{};
    g.group = group;
    g.oc = ws[0];
    g.ic = icg * group;
    int t2 = (m_ + 2) * (m_ + 2);
    std::vector<float> u(static_cast<size_t>(t2 * ocg * icg));
    size_t per = packed_floats(ocg, icg);
    size_t bytes = per * t2 * group * sizeof(float);
    std::shared_ptr<uint8_t> buf = alloc_aligned(bytes);
    float* p = reinterpret_cast<float*>(buf.get());
    for (int64_t grp = 0; grp < group; ++grp) {
      transform_filters(m_, g, values[1]->ptr<float>(), grp, u.data());
      for (int xi = 0; xi < t2; ++xi)
        kernels::sgemm_pack_a(false, ocg, icg, u.data() + xi * ocg * icg, icg,
                              p + (grp * t2 + xi) * per);
    }
    return {buf, bytes, 1};
  }
  void run(const ConvCall& c) const override;

 private:
  const char* name_;
  int m_;
};

void Winograd::run(const ConvCall& c) const {
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
  const int m = m_;
  Bands bd(m, g);
  const int64_t t2 = static_cast<int64_t>(bd.t) * bd.t, icg = g.icg(), ocg = g.ocg();
  // A slot's layout: V, M, the padded band rows. U (when not preprocessed)
  // is in the shared workspace.
  const int64_t mm_off = t2 * icg * bd.max_tiles();
  const int64_t band_off = mm_off + t2 * ocg * bd.max_tiles();
  const float* prepared = static_cast<const float*>(ctx.prepared);
  float* u = static_cast<float*>(ctx.shared_workspace);
  LR_CHECK(prepared || u, InternalError, name_, ": no shared workspace for the filters");
  size_t per = packed_floats(ocg, icg);
  kernels::Epilogue ep = op.epilogue(nullptr);
  const float* res = conv_residual(op, ctx);
  if (res) ep.act = kernels::Act::kNone;  // after the residual, per band

  // One band (tile rows [tr0, tr0 + rb) of image n, group grp) with the V and
  // M of workspace slot `slot`. cn: its phases split over the threads, each
  // thread padding into its own slot's band rows; null: this thread alone.
  auto run_band = [&](int64_t n, int64_t grp, int64_t tr0, float* slot, CompNode* cn) {
    float* v = slot;
    float* mm = slot + mm_off;
    const float* xg = x + (n * g.ic + grp * icg) * g.ih * g.iw;
    float* yg = y + (n * g.oc + grp * ocg) * g.oh * g.ow;
    const int64_t nr = std::min(bd.rb, bd.th - tr0), nt = nr * bd.tw, rows = nr * m + 2;
    // Grains: about 16k transform flops, or kSgemmMacsPerThread GEMM
    // multiply-adds, per range at least.
    const int64_t tx_grain = std::max<int64_t>(1, 16384 / (nt * t2));
    const int64_t gemm_macs = std::max<int64_t>(ocg * nt * icg, 1);
    const int64_t gemm_grain = std::max<int64_t>(1, kernels::kSgemmMacsPerThread / gemm_macs);
    // Input: pad the band's rows of each channel, transform its tiles.
    parallel_for(
        cn, icg,
        [&](int64_t ic0, int64_t ic1, int tid) {
          float* bnd = (cn ? static_cast<float*>(ctx.thread_workspace(tid)) : slot) + band_off;
          for (int64_t ic = ic0; ic < ic1; ++ic) {
            const float* xc = xg + ic * g.ih * g.iw;
            for (int64_t r = 0; r < rows; ++r) {
              float* d = bnd + r * bd.ld;
              int64_t ih = tr0 * m - g.ph + r;
              if (ih < 0 || ih >= g.ih) {
                std::fill(d, d + bd.ld, 0.f);
                continue;
              }
              const float* xr = xc + ih * g.iw;
              int64_t lo = std::min(g.pw, bd.ld), hi = std::min(g.pw + g.iw, bd.ld);
              std::fill(d, d + lo, 0.f);
              std::copy(xr, xr + (hi - lo), d + lo);
              std::fill(d + hi, d + bd.ld, 0.f);
            }
            kernels::winograd_input_tiles(m, bnd, bd.ld, bd.tw, nt, v + ic * nt, icg * nt);
          }
        },
        tx_grain);
    // One GEMM per xi: M[xi] (ocg x nt) = U[xi] (ocg x icg) * V[xi] (icg x nt).
    parallel_for(
        cn, t2,
        [&](int64_t xi0, int64_t xi1, int) {
          for (int64_t xi = xi0; xi < xi1; ++xi) {
            const float* vb = v + xi * icg * nt;
            float* mb = mm + xi * ocg * nt;
            if (prepared) {
              kernels::sgemm_packed_a(false, ocg, nt, icg, prepared + (grp * t2 + xi) * per, vb,
                                      nt, 0.f, mb, nt);
            } else {
              kernels::sgemm(false, false, ocg, nt, icg, 1.f, u + xi * ocg * icg, icg, vb, nt,
                             0.f, mb, nt);
            }
          }
        },
        gemm_grain);
    // Output: Y = A^T M A per tile and channel, bias, activation.
    parallel_for(
        cn, ocg,
        [&](int64_t oc0, int64_t oc1, int) {
          for (int64_t oc = oc0; oc < oc1; ++oc) {
            float b = bias ? bias[grp * ocg + oc] : 0.f;
            float* yc = yg + oc * g.oh * g.ow;
            kernels::winograd_output_tiles(m, mm + oc * nt, ocg * nt, bd.tw, nt, b, ep,
                                           yc + tr0 * m * g.ow, g.ow, g.oh - tr0 * m, g.ow);
            if (res) {
              int64_t r0 = tr0 * m, r1 = std::min(g.oh, (tr0 + nr) * m);
              int64_t off = ((n * g.oc + grp * ocg + oc) * g.oh + r0) * g.ow;
              conv_residual_act(op, res + off, y + off, (r1 - r0) * g.ow);
            }
          }
        },
        tx_grain);
  };

  // Whole bands over the threads (each with its own slot's V and M) when
  // they share out evenly and U is ready for every group; else band after
  // band, each split by phases.
  const int64_t nbands = (bd.th + bd.rb - 1) / bd.rb, tasks = g.n * g.group * nbands;
  const int threads = ctx.comp_node ? ctx.comp_node->num_threads() : 1;
  const bool by_band = (prepared || g.group == 1) && conv_split_tasks(ctx.comp_node, tasks) &&
                       (bd.th % bd.rb == 0 || tasks >= 4 * threads);
  if (by_band) {
    if (!prepared) transform_filters(m, g, w, 0, u);
    parallel_for(ctx.comp_node, tasks, [&](int64_t t0, int64_t t1, int tid) {
      float* slot = static_cast<float*>(ctx.thread_workspace(tid));
      for (int64_t t = t0; t < t1; ++t)
        run_band(t / (g.group * nbands), t / nbands % g.group, t % nbands * bd.rb, slot, nullptr);
    });
    return;
  }
  float* slot0 = static_cast<float*>(ctx.workspace);
  for (int64_t grp = 0; grp < g.group; ++grp) {
    if (!prepared) transform_filters(m, g, w, grp, u);
    for (int64_t n = 0; n < g.n; ++n)
      for (int64_t tr0 = 0; tr0 < bd.th; tr0 += bd.rb) run_band(n, grp, tr0, slot0, ctx.comp_node);
  }
}

const Winograd kF63("WINOGRAD_F63", 6);
const Winograd kF43("WINOGRAD_F43", 4);

}  // namespace

const Algo* conv_winograd_f63_algo() { return &kF63; }
const Algo* conv_winograd_f43_algo() { return &kF43; }

}  // namespace loadrun
