// ConvNCHWc (domain "loadrun", made by passes/convert_layout.cpp for
// --enable-nchw44 / --enable-nchw88): Conv on channel-blocked tensors.
// Blocked layout, block b (4 or 8), C real channels: [N, ceil(C/b), H, W, b],
// element (n, c, h, w) at [n][c / b][h][w][c % b]. Lanes of channels >= C in
// the last block are unspecified (any value, NaN included): a kernel never
// lets them reach a real output, and writes every lane of its own output.
// Inputs: x [N, ICb, IH, IW, b] float32; w = the original ONNX weight
// [OC, IC/group, KH, KW] (a constant the fast algorithms pack in preprocess);
// optional bias [OC]; optional residual (input 3, with the output's shape,
// added after the bias and before the activation). Output [N, OCb, OH, OW, b].
// Attributes: ONNX Conv's (2-D), the fused activation of ops/conv.h, and
// `block`. group is 1 or depthwise (group == IC == OC); the pass converts no
// other. The fast algorithms are listed by conv_nchwc_fast_algos()
// (conv_nchwc_algos.cpp), in heuristic order after NAIVE.
#pragma once
#include <vector>

#include "ops/conv.h"

namespace loadrun {

constexpr const char* kBlockAttr = "block";

struct ConvNchwcOp final : Op {
  ConvOp conv;    // the Conv attributes, fused activation and residual
  int64_t block;  // b: 4 or 8

  explicit ConvNchwcOp(const Attrs& a);
  std::string param_key() const override;
  void infer(InferCtx& ctx) const override;
};

// Geometry with real channel counts (g.ic, g.oc) and the blocked ones.
struct ConvNchwcGeo {
  ConvGeo g;
  int64_t b, icb, ocb;
};

const ConvNchwcOp& as_conv_nchwc(const Op& op);
// From layouts; false when not float32, not contiguous, or the weight is
// missing.
bool conv_nchwc_geometry(const ConvNchwcOp& op, const InLayouts& in, const OutLayouts& out,
                         ConvNchwcGeo* geo);
// From a call's shapes (x, w, y).
ConvNchwcGeo conv_nchwc_geometry(const ConvNchwcOp& op, const Shape& x, const Shape& w,
                                 const Shape& y);

// The fast algorithms, best first (conv_nchwc_algos.cpp).
std::vector<const Algo*> conv_nchwc_fast_algos();

// ceil(c / b): the blocked channel dim.
inline int64_t nchwc_blocks(int64_t c, int64_t b) { return (c + b - 1) / b; }

}  // namespace loadrun
