// KernelAlgo: an algorithm that runs one of the kernel tables of eltwise.h.
// Each fast operator algorithm is registered twice: NAME_AVX2 (usable only
// where cpu_features().use_avx2()) and NAME_PORTABLE (everywhere), both
// ahead of NAIVE, so the heuristic takes the best the CPU allows and either
// can be forced by name (loadrun.load(model, algo="NAME")) for testing.
#pragma once
#include "fastrun/algo.h"
#include "kernels/cpu_features.h"
#include "kernels/eltwise.h"

namespace loadrun {

template <class OpT>
class KernelAlgo final : public Algo {
 public:
  // Usable: the shape/dtype/attribute conditions of the fast path.
  using Usable = bool (*)(const OpT&, const InLayouts&, const OutLayouts&);
  using Fn = void (*)(const OpT&, const KernCtx&, const kernels::EltwiseImpl&);
  KernelAlgo(const char* name, bool avx2, Usable usable, Fn fn)
      : name_(name), avx2_(avx2), usable_(usable), fn_(fn) {}
  const char* name() const override { return name_; }
  uint32_t attributes() const override { return REPRODUCIBLE; }
  bool usable(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    if (avx2_ && !cpu_features().use_avx2()) return false;
    for (const Layout* l : in)
      if (l && l->numel() < 0) return false;
    return usable_(static_cast<const OpT&>(op), in, out);
  }
  void exec(const Op& op, const KernCtx& ctx) const override {
    fn_(static_cast<const OpT&>(op), ctx, kernels::eltwise_impl(avx2_));
  }

 private:
  const char* name_;
  bool avx2_;
  Usable usable_;
  Fn fn_;
};

}  // namespace loadrun
