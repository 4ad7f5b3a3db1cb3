#include "fastrun/algo_chooser.h"

#include "core/errors.h"

namespace loadrun {

uint32_t ChooserOptions::required_attrs() const {
  uint32_t r = 0;
  if ((strategy & kReproducible) || binary_equal_between_batch) r |= Algo::REPRODUCIBLE;
  return r;
}

uint32_t ChooserOptions::forbidden_attrs() const {
  uint32_t f = 0;
  if (strategy & kOptimized) f |= Algo::NAIVE;
  if (shared_batch_size > 0) f |= Algo::USABLE_DEPEND_ON_SHAPE;
  if (binary_equal_between_batch) f |= Algo::ACCURACY_DEPEND_ON_BATCH;
  return f;
}

bool AlgoChooser::passes_filters(const Algo& algo, const OprNode& node, const InLayouts& in,
                                 const OutLayouts& out) const {
  uint32_t a = algo.attributes();
  if ((a & opt_.required_attrs()) != opt_.required_attrs()) return false;
  if (a & opt_.forbidden_attrs()) return false;
  if (!algo.usable(*node.op, in, out)) return false;
  return algo.workspace(*node.op, in, out) <= opt_.workspace_limit;
}

const Algo* AlgoChooser::choose(const OprNode& node, const InLayouts& in, const OutLayouts& out) {
  if (!opt_.prefer_algo.empty()) {
    for (const Algo* algo : node.def->algos)
      if (opt_.prefer_algo == algo->name() && algo->usable(*node.op, in, out)) return algo;
  }
  const Algo* naive = nullptr;
  const Algo* usable = nullptr;  // first usable fast algo, preferred or not
  for (const Algo* algo : node.def->algos) {
    if (algo->is_naive()) {
      // The reference is the fallback of the heuristic, whatever OPTIMIZED says:
      // an op with nothing faster must still run.
      if (!naive && algo->usable(*node.op, in, out)) naive = algo;
      continue;
    }
    if (passes_filters(*algo, node, in, out)) {
      bool slow = (algo->attributes() & Algo::WANTS_WEIGHT_PREPROCESS) && !opt_.weight_preprocess;
      if (!slow && algo->preferred(*node.op, in, out)) return algo;
      if (!usable) usable = algo;
    }
  }
  if (usable) return usable;
  LR_CHECK(naive, UnsupportedError, node.label(), ": no algorithm can run these layouts");
  return naive;
}

}  // namespace loadrun
