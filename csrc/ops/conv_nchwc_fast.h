// Base of the fast ConvNCHWc algorithms (conv_nchwc_direct.cpp,
// conv_nchwc_dw.cpp): both run a kernels/conv_nchwc.h kernel over packed
// weights. The base holds what they share: the kernel geometry worked out
// once at bind (or per call by exec), the weight packing in preprocess
// (Prepared replaces input 1), and, unprepared, the packing per call into the
// shared workspace. A subclass says which convs it takes, how to pack, and
// how to share the (image, block, row) work over the threads.
#pragma once
#include "kernels/conv_nchwc.h"
#include "ops/conv_nchwc.h"

namespace loadrun {

// The kernels' geometry from the op's.
kernels::NchwcGeo nchwc_kernel_geo(const ConvNchwcGeo& geo);

// One call as the kernels see it: geometry, data, packed weights.
struct NchwcCall {
  const kernels::NchwcGeo& g;
  int64_t n;  // images
  const float* x;
  const float* wp;
  const float* bias;  // null: none
  const float* res;   // null: none
  float* y;
  kernels::Epilogue ep;  // activation only
  const KernCtx& ctx;
};

class ConvNchwcFastAlgo : public Algo {
 public:
  bool usable(const Op& op, const InLayouts& in, const OutLayouts& out) const final;
  size_t shared_workspace(const Op& op, const InLayouts& in, const OutLayouts& out,
                          bool prepared) const final;
  Prepared preprocess(const Op& op, const InLayouts& in,
                      const std::vector<const Tensor*>& values) const final;
  bool can_unprepare() const final { return true; }
  Tensor unprepare(const Op& op, const InLayouts& in, const Prepared& prepared) const final;
  void exec(const Op& op, const KernCtx& ctx) const final;
  BoundKernel bind(const Op& op, const InLayouts& in, const OutLayouts& out,
                   CompNode& cn) const final;

 protected:
  virtual bool fits(const ConvGeo& g) const = 0;
  virtual bool depthwise() const = 0;
  virtual void run(const NchwcCall& c) const = 0;

 private:
  void call(const ConvNchwcOp& op, const kernels::NchwcGeo& g, int64_t n,
            const KernCtx& ctx) const;
};

const Algo* conv_nchwc_direct_algo();
const Algo* conv_nchwc_dw_algo();

}  // namespace loadrun
