// AlgoChooser: picks one algorithm per opr. Strategy bits and attribute
// filters follow MegEngine's fast-run (spec section 5). HEURISTIC takes the
// first usable candidate in the op's registration order (fast algos are
// registered best-first, NAIVE is the fallback); profiling strategies plug in
// here with the persistent cache.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "fastrun/algo.h"
#include "graph/graph.h"

namespace loadrun {

enum Strategy : uint32_t {
  kHeuristic = 1,
  kProfile = 2,
  kReproducible = 4,
  kOptimized = 8,
};

struct ChooserOptions {
  uint32_t strategy = kHeuristic;
  size_t workspace_limit = SIZE_MAX;
  bool binary_equal_between_batch = false;
  int shared_batch_size = 0;
  // Non-empty: every opr with a usable algorithm of this name runs it (tests
  // compare each fast algorithm with NAIVE this way); other oprs choose as usual.
  std::string prefer_algo;
  // Weights will be preprocessed (NetworkOptions::weight_preprocess).
  bool weight_preprocess = false;
  uint32_t required_attrs() const;   // "positive" set
  uint32_t forbidden_attrs() const;  // "negative" set
};

class AlgoChooser {
 public:
  explicit AlgoChooser(ChooserOptions opt) : opt_(opt) {}
  virtual ~AlgoChooser() = default;
  // Throws UnsupportedError when no algorithm meets the filters.
  virtual const Algo* choose(const OprNode& node, const InLayouts& in, const OutLayouts& out);
  const ChooserOptions& options() const { return opt_; }

 protected:
  bool passes_filters(const Algo& algo, const OprNode& node, const InLayouts& in,
                      const OutLayouts& out) const;
  ChooserOptions opt_;
};

}  // namespace loadrun
