// The ONNX Attention op and FlexAttention (ai.onnx.preview), which shares
// it: parsed attributes and the geometry of one call, shared by the NAIVE
// algorithm (attention.cpp, where the op's semantics are described) and
// ATTENTION_TILED (attention_tiled.cpp).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "fastrun/algo.h"
#include "ops/common.h"
#include "ops/subgraph.h"

namespace loadrun {

// Shapes of one call, and where each (b, h, s, d) element of Q/K/V lives.
struct AttnGeo {
  bool three_d;
  int64_t B, Hq, Hkv, Sq, Skv, P, T, D, Dv;
  // Offset of element (b, h, s, 0) of a tensor with H heads, S rows of width W.
  int64_t off(int64_t b, int64_t h, int64_t s, int64_t H, int64_t S, int64_t W) const {
    if (three_d) return ((b * S + s) * H + h) * W;
    return ((b * H + h) * S + s) * W;
  }
};

struct AttentionOp final : Op {
  bool flex = false;  // FlexAttention: 4-D Q, K, V only
  // FlexAttention's modifiers (null when absent) and its captured inputs.
  std::unique_ptr<SubGraph> score_mod, prob_mod;
  int64_t captures = 0;
  int64_t is_causal, q_heads, kv_heads, mode, left, right, softmax_precision;
  bool has_scale;
  double scale, softcap;
  explicit AttentionOp(const Attrs& a);
  std::string param_key() const override;
  // Checks Q, K, V (and the past cache, when given) against each other.
  AttnGeo geometry(const Shape& q, const Shape& k, const Shape& v, const Shape* pk,
                   const Shape* pv) const;
  void infer(InferCtx& ctx) const override;
  static void check_mask(const Shape& m, const AttnGeo& g);
};

// Strides reading the mask at (b, h, i, j), 0 on broadcast dims.
struct MaskView {
  int64_t sb = 0, sh = 0, si = 0, sj = 0, len = 0;
};

MaskView mask_view(const Shape& m);

// ATTENTION_TILED (attention_tiled.cpp).
const Algo* attention_tiled_algo();

}  // namespace loadrun
