// The int8 direct convolution behind QLinearConv's and ConvInteger's
// INT8_DIRECT_DOT (ops/conv_integer.cpp, NCHW in and out) and
// QLinearConvNCHW44's NCHW44_DOT (ops/qlinear_conv_nchw44.cpp, blocked in
// and out): one algorithm class, told by its op how to read the geometry,
// which layout the tensors have and whether the output is requantised
// (QLinearConv's inputs) or the int32 sums (ConvInteger's). The method is in
// qlinear_conv_dot.cpp.
#pragma once
#include "fastrun/algo.h"
#include "ops/spatial.h"

namespace loadrun {

// A 2-D int8 convolution, group 1 or depthwise (group = channels = output
// channels, one weight channel each), in channel blocks of 4.
struct QConvGeo {
  int64_t n, ic, icb, oc, ocb, ih, iw, kh, kw, oh, ow, sh, sw, dh, dw, ph, pw;
  bool depthwise;
};

// The geometry of x (planar [N, C, H, W] or blocked [N, ceil(C/4), H, W, 4])
// and w [OC, IC/group, KH, KW] under sp and group. Throws ModelError /
// UnsupportedError naming `op` for what the direct kernels cannot run.
QConvGeo qconv_geometry(const char* op, const SpatialParams& sp, int64_t group, const Shape& x,
                        const Shape& w, bool blocked);

class QConvDotAlgo final : public Algo {
 public:
  // The op's spatial attributes and group.
  using ParamsFn = void (*)(const Op& op, const SpatialParams** sp, int64_t* group);
  // QLinear: inputs x, x_scale, x_zero_point, w, w_scale, w_zero_point,
  // y_scale, y_zero_point[, B], int8/uint8 output. Integer: inputs x, w[,
  // x_zero_point[, w_zero_point]], int32 output (planar only).
  enum class Kind { QLinear, Integer };
  QConvDotAlgo(const char* name, const char* op_name, bool blocked, ParamsFn params,
               Kind kind = Kind::QLinear)
      : name_(name), op_name_(op_name), blocked_(blocked), params_(params), kind_(kind) {}
  const char* name() const override { return name_; }
  uint32_t attributes() const override { return REPRODUCIBLE | USABLE_DEPEND_ON_SHAPE; }
  bool usable(const Op& op, const InLayouts& in, const OutLayouts& out) const override;
  size_t workspace(const Op& op, const InLayouts& in, const OutLayouts& out) const override;
  size_t shared_workspace(const Op& op, const InLayouts& in, const OutLayouts& out,
                          bool prepared) const override;
  std::string preprocess_key(const Op&, const InLayouts& in) const override;
  Prepared preprocess(const Op& op, const InLayouts& in,
                      const std::vector<const Tensor*>& values) const override;
  void exec(const Op& op, const KernCtx& ctx) const override;

 private:
  QConvGeo geometry(const Op& op, const Shape& x, const Shape& w) const;
  int w_index() const { return kind_ == Kind::QLinear ? 3 : 1; }
  const char* name_;
  const char* op_name_;
  bool blocked_;
  ParamsFn params_;
  Kind kind_;
};

}  // namespace loadrun
