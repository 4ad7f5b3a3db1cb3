// KernelAlgo: an algorithm that runs the elementwise kernel family of
// kernel_table() (eltwise.h). One algorithm per operator, X_FAST, whatever
// ISA backs it: the table of the level in use (isa.h) supplies the kernels.
// It sits ahead of NAIVE, so the heuristic takes it; it can be forced by name
// (loadrun.load(model, algo="X_FAST")) for testing, and LOADRUN_ISA picks the
// level it runs at.
//
// Compatibility: before fast-run version 2 each of these was registered
// twice, X_AVX2 and X_PORTABLE; caches written then have another category
// (the version is part of it) and are not read.
#pragma once
#include "fastrun/algo.h"
#include "kernels/kernel_table.h"

namespace loadrun {

template <class OpT>
class KernelAlgo final : public Algo {
 public:
  // Usable: the shape/dtype/attribute conditions of the fast path.
  using Usable = bool (*)(const OpT&, const InLayouts&, const OutLayouts&);
  using Fn = void (*)(const OpT&, const KernCtx&, const kernels::EltwiseImpl&);
  // Algorithms that use other kernel families take the whole table.
  using TableFn = void (*)(const OpT&, const KernCtx&, const kernels::KernelTable&);
  KernelAlgo(const char* name, Usable usable, Fn fn) : name_(name), usable_(usable), fn_(fn) {}
  KernelAlgo(const char* name, Usable usable, TableFn fn)
      : name_(name), usable_(usable), table_fn_(fn) {}
  const char* name() const override { return name_; }
  uint32_t attributes() const override { return REPRODUCIBLE; }
  bool usable(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    for (const Layout* l : in)
      if (l && l->numel() < 0) return false;
    return usable_(static_cast<const OpT&>(op), in, out);
  }
  void exec(const Op& op, const KernCtx& ctx) const override {
    if (table_fn_) return table_fn_(static_cast<const OpT&>(op), ctx, kernels::kernel_table());
    fn_(static_cast<const OpT&>(op), ctx, kernels::kernel_table().eltwise);
  }

 private:
  const char* name_;
  Usable usable_;
  Fn fn_ = nullptr;
  TableFn table_fn_ = nullptr;
};

}  // namespace loadrun
