// NCHWC_DEPTHWISE: depthwise ConvNCHWc (group == IC == OC), any kernel
// size, stride, dilation and pads, by the blocked depthwise kernel of
// kernels/conv_nchwc.h: b channels per vector lane, a few output pixels per
// tile, 3x3 with each row's input vectors loaded once; padded lanes masked
// to zero before bias, residual and the fused activation. Weights packed once
// as [cb][kh][kw][b] (ops/conv_nchwc_fast.h). Unlike DEPTHWISE_DIRECT on
// NCHW data it needs no padded copy of the input: the blocked layout already
// gives b channels per contiguous vector.
// Threads: the work items are (image, channel block, output row), one
// contiguous range per thread. Cost: kh*kw MACs per output element; load
// bound (1-2 loads per FMA), so the tile is chosen for input reuse.
#include <algorithm>

#include "kernels/kernel_table.h"
#include "ops/common.h"
#include "ops/conv_nchwc_fast.h"

namespace loadrun {

namespace {

constexpr int64_t kMacsPerRange = 32 * 1024;

class NchwcDepthwise final : public ConvNchwcFastAlgo {
 public:
  const char* name() const override { return "NCHWC_DEPTHWISE"; }
  uint32_t attributes() const override { return REPRODUCIBLE; }

 protected:
  bool fits(const ConvGeo& g) const override {
    return g.group == g.ic && g.oc == g.ic && g.group > 1;
  }
  bool depthwise() const override { return true; }
  void run(const NchwcCall& c) const override {
    const kernels::NchwcGeo& g = c.g;
    const kernels::ConvNchwcFn fn = kernels::kernel_table().conv_nchwc.dw(g.b);
    const int64_t items = c.n * g.ocb * g.oh, row_macs = g.ow * g.b * g.kh * g.kw;
    const int64_t grain = std::max<int64_t>(1, kMacsPerRange / std::max<int64_t>(row_macs, 1));
    const int64_t xs = g.icb * g.ih * g.iw * g.b, ys = g.ocb * g.oh * g.ow * g.b;
    parallel_for(
        c.ctx.comp_node, items,
        [&](int64_t begin, int64_t end, int) {
          for (int64_t it = begin; it < end;) {
            const int64_t row = it % g.oh, img_blk = it / g.oh;
            const int64_t n = img_blk / g.ocb, cb = img_blk % g.ocb;
            const int64_t rows = std::min(g.oh - row, end - it);
            fn(g, c.x + n * xs, c.wp, c.bias, c.res ? c.res + n * ys : nullptr, c.ep,
               c.y + n * ys, cb, cb + 1, row, row + rows);
            it += rows;
          }
        },
        grain);
  }
};

const NchwcDepthwise kAlgo;

}  // namespace

const Algo* conv_nchwc_dw_algo() { return &kAlgo; }

}  // namespace loadrun
