// RESIZE_FAST, the fast algorithm of Resize (resize.h): float32 NCHW, N and
// C unchanged, nearest or linear, no antialias / exclude_outside /
// tf_crop_and_resize. The same per-axis mapping as NAIVE (source() and
// nearest() / interp_taps()), tabled once per output row and column;
// nearest then gathers each output row from its source row (copying the
// previous output row when both map to the same one), linear blends the two
// horizontally interpolated source rows it needs (kept in a two-row cache)
// by the row weights. O(numel(Y)); where the given scales would move N or C
// it runs NAIVE's loops. The output rows of all planes are split over the
// step's threads.
#include <cstring>
#include <vector>

#include "kernels/parallel_split.h"
#include "ops/resize.h"

namespace loadrun {
namespace resize {

namespace {

// Two taps (i0, w0), (i1, w1) per output coordinate along one axis, from the
// same taps NAIVE uses (one tap: w1 = 0).
struct Tap2 {
  int64_t i0, i1;
  float w0, w1;
};

bool linear_table(const ResizeOp& op, const Geometry& g, const Shape& in, size_t a,
                  std::vector<Tap2>& t) {
  t.resize(g.out[a]);
  for (int64_t i = 0; i < g.out[a]; ++i) {
    float s = op.source(i, g.scales[a], g.out[a], in[a]);
    std::vector<Tap> taps = interp_taps(op, static_cast<double>(s), in[a],
                                        static_cast<double>(g.scales[a]));
    if (taps.empty() || taps.size() > 2) return false;
    t[i].i0 = taps[0].idx;
    t[i].w0 = static_cast<float>(taps[0].w);
    t[i].i1 = taps.size() == 2 ? taps[1].idx : taps[0].idx;
    t[i].w1 = taps.size() == 2 ? static_cast<float>(taps[1].w) : 0.f;
  }
  return true;
}

void nearest_table(const ResizeOp& op, const Geometry& g, const Shape& in, size_t a,
                   std::vector<int64_t>& t) {
  t.resize(g.out[a]);
  for (int64_t i = 0; i < g.out[a]; ++i) {
    float s = op.source(i, g.scales[a], g.out[a], in[a]);
    int64_t k = op.nearest(s, g.scales[a]);
    t[i] = k < 0 ? 0 : (k >= in[a] ? in[a] - 1 : k);
  }
}

// Does the mapping along axis a leave every index where it is?
bool identity_axis(const ResizeOp& op, const Geometry& g, const Shape& in, size_t a) {
  if (g.out[a] != in[a]) return false;
  if (op.mode == Mode::Nearest) {
    std::vector<int64_t> t;
    nearest_table(op, g, in, a, t);
    for (int64_t i = 0; i < in[a]; ++i)
      if (t[i] != i) return false;
    return true;
  }
  std::vector<Tap2> t;
  if (!linear_table(op, g, in, a, t)) return false;
  for (int64_t i = 0; i < in[a]; ++i) {
    bool one = (t[i].i0 == i && t[i].w0 == 1.f && t[i].w1 == 0.f) ||
               (t[i].i1 == i && t[i].w1 == 1.f && t[i].w0 == 0.f);
    if (!one) return false;
  }
  return true;
}

// Output rows [begin, end) of all planes (row index = plane * oh + r).
void resize_fast_nearest(const float* x, float* y, int64_t begin, int64_t end, int64_t ih,
                         int64_t iw, int64_t oh, int64_t ow, const std::vector<int64_t>& sh,
                         const std::vector<int64_t>& sw) {
  int64_t r = begin % oh;
  const float* xp = x + (begin / oh) * ih * iw;
  for (int64_t q = begin; q < end; ++q, ++r) {
    if (r == oh) {  // the next plane
      r = 0;
      xp += ih * iw;
    }
    float* yr = y + q * ow;
    if (r > 0 && q > begin && sh[r] == sh[r - 1]) {
      std::memcpy(yr, yr - ow, static_cast<size_t>(ow) * sizeof(float));
      continue;
    }
    const float* xr = xp + sh[r] * iw;
    for (int64_t c = 0; c < ow; ++c) yr[c] = xr[sw[c]];
  }
}

// Output rows [begin, end) of all planes; each output row is the same
// weighted sum of two horizontally interpolated source rows whichever rows
// the two-row cache happens to hold.
void resize_fast_linear(const float* x, float* y, int64_t begin, int64_t end, int64_t ih,
                        int64_t iw, int64_t oh, int64_t ow, const std::vector<Tap2>& th,
                        const std::vector<Tap2>& tw) {
  std::vector<float> buf(static_cast<size_t>(2 * ow));
  float* rows[2] = {buf.data(), buf.data() + ow};
  int64_t have[2] = {-1, -1};  // source row (plane * ih + row) held by rows[k]
  const float* xp = x;
  int64_t base = 0;  // plane * ih of the current plane
  auto horiz = [&](int64_t src, float* dst) {
    const float* xr = xp + src * iw;
    for (int64_t c = 0; c < ow; ++c) dst[c] = tw[c].w0 * xr[tw[c].i0] + tw[c].w1 * xr[tw[c].i1];
  };
  auto get = [&](int64_t src, int64_t keep) -> const float* {
    for (int k = 0; k < 2; ++k)
      if (have[k] == base + src) return rows[k];
    int k = have[0] == base + keep ? 1 : 0;  // do not evict the row still needed
    horiz(src, rows[k]);
    have[k] = base + src;
    return rows[k];
  };
  int64_t r = begin % oh;
  xp = x + (begin / oh) * ih * iw;
  base = (begin / oh) * ih;
  for (int64_t q = begin; q < end; ++q, ++r) {
    if (r == oh) {  // the next plane
      r = 0;
      xp += ih * iw;
      base += ih;
    }
    const Tap2& t = th[r];
    float* yr = y + q * ow;
    if (t.w1 == 0.f) {
      const float* a = get(t.i0, -1);
      for (int64_t c = 0; c < ow; ++c) yr[c] = t.w0 * a[c];
      continue;
    }
    const float* a = get(t.i0, t.i1);
    const float* b = get(t.i1, t.i0);
    for (int64_t c = 0; c < ow; ++c) yr[c] = t.w0 * a[c] + t.w1 * b[c];
  }
}

class ResizeFast final : public Algo {
 public:
  const char* name() const override { return "RESIZE_FAST"; }
  uint32_t attributes() const override { return REPRODUCIBLE; }
  bool usable(const Op& op_, const InLayouts& in, const OutLayouts& out) const override {
    const auto& op = static_cast<const ResizeOp&>(op_);
    if (in.empty() || !in[0] || out.empty()) return false;
    const Layout& x = *in[0];
    const Layout& y = out[0];
    if (x.dtype != DType::Float32 || x.ndim() != 4 || y.ndim() != 4 || x.numel() < 0 ||
        y.numel() < 0)
      return false;
    if (op.mode == Mode::Cubic || op.coord == Coord::TfCrop || op.antialias || op.exclude_outside)
      return false;
    return y.shape[0] == x.shape[0] && y.shape[1] == x.shape[1];
  }
  void exec(const Op& op_, const KernCtx& ctx) const override {
    const auto& op = static_cast<const ResizeOp&>(op_);
    const Tensor& xt = ctx.input(0);
    Tensor& yt = ctx.output(0);
    const Shape& in = xt.shape();
    Geometry g = op.geometry(in, given(ctx, 2), given(ctx, 3));
    LR_CHECK(g.out == yt.shape(), InternalError, "Resize output shape changed since compile");
    if (yt.numel() == 0) return;
    if (!identity_axis(op, g, in, 0) || !identity_axis(op, g, in, 1)) {
      resize_naive(op, ctx);  // scales that move N or C: the general loops
      return;
    }
    const int64_t planes = in[0] * in[1];
    if (op.mode == Mode::Nearest) {
      std::vector<int64_t> sh, sw;
      nearest_table(op, g, in, 2, sh);
      nearest_table(op, g, in, 3, sw);
      kernels::split_items(ctx.comp_node, planes * g.out[2], 8.0 * static_cast<double>(g.out[3]),
                           [&](int64_t b, int64_t e, int) {
                             resize_fast_nearest(xt.ptr<float>(), yt.ptr<float>(), b, e, in[2],
                                                 in[3], g.out[2], g.out[3], sh, sw);
                           });
      return;
    }
    std::vector<Tap2> th, tw;
    if (!linear_table(op, g, in, 2, th) || !linear_table(op, g, in, 3, tw)) {
      resize_naive(op, ctx);
      return;
    }
    kernels::split_items(ctx.comp_node, planes * g.out[2], 24.0 * static_cast<double>(g.out[3]),
                         [&](int64_t b, int64_t e, int) {
                           resize_fast_linear(xt.ptr<float>(), yt.ptr<float>(), b, e, in[2],
                                              in[3], g.out[2], g.out[3], th, tw);
                         });
  }
};

const ResizeFast kResizeFast;

}  // namespace

const Algo* resize_fast_algo() { return &kResizeFast; }

}  // namespace resize
}  // namespace loadrun
