// NCHWC_DIRECT: dense (group 1) ConvNCHWc, any kernel size, stride,
// dilation and pads, by the direct blocked kernel of kernels/conv_nchwc.h:
// register tiles of a few output pixels x two output-channel blocks, each
// input scalar broadcast against b-lane weight vectors, bias, residual and
// the fused activation applied before the tile is stored. Weights are packed
// once ([ocb][icb][kh][kw][b][b], ops/conv_nchwc_fast.h).
// Threads: the work items are (image, pair of output blocks, output row);
// each thread takes one contiguous range and runs it as a few kernel calls
// (a run of rows of one image and block pair), so a pair's weights stay in
// cache across its rows. Cost: oc*ic*kh*kw MACs per output pixel, no
// im2col copy; good for every dense conv on blocked data, and the only fast
// choice for strided / dilated / large kernels there.
#include <algorithm>

#include "kernels/kernel_table.h"
#include "ops/common.h"
#include "ops/conv_nchwc_fast.h"

namespace loadrun {

namespace {

constexpr int64_t kMacsPerRange = 64 * 1024;
constexpr int64_t kObChunk = 2;  // output blocks per work item (the kernels' tile)

class NchwcDirect final : public ConvNchwcFastAlgo {
 public:
  const char* name() const override { return "NCHWC_DIRECT"; }
  uint32_t attributes() const override { return REPRODUCIBLE; }

 protected:
  bool fits(const ConvGeo& g) const override { return g.group == 1; }
  bool depthwise() const override { return false; }
  void run(const NchwcCall& c) const override {
    const kernels::NchwcGeo& g = c.g;
    const kernels::ConvNchwcFn fn = kernels::kernel_table().conv_nchwc.dense(g.b);
    const int64_t chunks = (g.ocb + kObChunk - 1) / kObChunk, items = c.n * chunks * g.oh;
    const int64_t row_macs = g.ow * kObChunk * g.b * g.ic * g.kh * g.kw;
    const int64_t grain = std::max<int64_t>(1, kMacsPerRange / std::max<int64_t>(row_macs, 1));
    const int64_t xs = g.icb * g.ih * g.iw * g.b, ys = g.ocb * g.oh * g.ow * g.b;
    parallel_for(
        c.ctx.comp_node, items,
        [&](int64_t begin, int64_t end, int) {
          for (int64_t it = begin; it < end;) {
            const int64_t row = it % g.oh, img_chunk = it / g.oh;
            const int64_t n = img_chunk / chunks, ob = (img_chunk % chunks) * kObChunk;
            const int64_t rows = std::min(g.oh - row, end - it);
            fn(g, c.x + n * xs, c.wp, c.bias, c.res ? c.res + n * ys : nullptr, c.ep,
               c.y + n * ys, ob, std::min(ob + kObChunk, g.ocb), row, row + rows);
            it += rows;
          }
        },
        grain);
  }
};

const NchwcDirect kAlgo;

}  // namespace

const Algo* conv_nchwc_direct_algo() { return &kAlgo; }

}  // namespace loadrun
