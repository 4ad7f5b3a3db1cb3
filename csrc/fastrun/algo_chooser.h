// AlgoChooser: picks one algorithm per opr. Strategy bits and attribute
// filters follow MegEngine's fast-run (spec section 5).
//  - HEURISTIC (alone): the first usable candidate passing the filters in the
//    op's registration order (fast algos are registered best-first); NAIVE is
//    the fallback whatever the filters say, so every op can run.
//  - PROFILE: look the opr up in the AlgoCache (persistent when a policy file
//    is given); on a miss, time every candidate passing the filters on the
//    real shapes (see profiler.h), remember all of them sorted by time, and
//    write the file. A cached entry none of whose algorithms meets today's
//    filters is profiled again (never an abort).
//  - PROFILE|HEURISTIC ("--fast-run-algo-policy FILE" alone): the cache, else
//    the heuristic; never profiles, never writes.
//  - REPRODUCIBLE requires that attribute; OPTIMIZED forbids NAIVE (so
//    --full-run, PROFILE alone, times NAIVE too).
// Ops with a single candidate are not profiled: there is nothing to choose.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fastrun/algo.h"
#include "fastrun/algo_cache.h"
#include "fastrun/profiler.h"
#include "graph/graph.h"

namespace loadrun {

enum Strategy : uint32_t {
  kHeuristic = 1,
  kProfile = 2,
  kReproducible = 4,
  kOptimized = 8,
};

// "HEURISTIC ", "PROFILE OPTIMIZED " ... (the names of the set bits, in bit order).
std::string strategy_names(uint32_t strategy);

struct ChooserOptions {
  uint32_t strategy = kHeuristic;
  size_t workspace_limit = SIZE_MAX;
  bool binary_equal_between_batch = false;
  int shared_batch_size = 0;
  // Non-empty: every opr with a usable algorithm of this name runs it (tests
  // compare each fast algorithm with NAIVE this way); other oprs choose as usual.
  std::string prefer_algo;
  // The persistent cache file ("" = in memory only).
  std::string algo_policy;
  // Set by the Network: steps run their algos' weight preprocess (part of the
  // key, and profiling uses the preprocessed weights).
  bool weight_preprocess = false;
  bool progress = true;  // progress bar on stderr while profiling (TTY only)
  // Set by the Network: its CompNode, where profiling runs the candidates.
  CompNode* comp_node = nullptr;
  ProfileConfig profile;
  uint32_t required_attrs() const;   // "positive" set
  uint32_t forbidden_attrs() const;  // "negative" set
};

struct ChooserStats {
  size_t cache_hits = 0;     // oprs whose algo came from the cache
  size_t cache_misses = 0;   // oprs looked up and not found (or found unusable)
  size_t profiled = 0;       // oprs profiled
  size_t timed_runs = 0;     // candidate executions timed while profiling
};

class AlgoChooser {
 public:
  explicit AlgoChooser(ChooserOptions opt);
  virtual ~AlgoChooser();
  // values[i]: input i's value where known at compile time (profiling uses
  // it), else null or absent. Throws UnsupportedError when nothing can run.
  virtual const Algo* choose(const OprNode& node, const InLayouts& in, const OutLayouts& out,
                             const std::vector<const Tensor*>& values = {});
  const ChooserOptions& options() const { return opt_; }
  void set_weight_preprocess(bool on) { opt_.weight_preprocess = on; }
  const ChooserStats& stats() const { return stats_; }
  // The --verbose fast-run lines logged since the last call.
  std::vector<std::string> take_log();
  const AlgoCache& cache() const { return cache_; }

 protected:
  bool passes_filters(const Algo& algo, const OprNode& node, const InLayouts& in,
                      const OutLayouts& out) const;
  // Why `algo` fails the attribute filters ("" if it passes them).
  std::string attr_mismatch(const Algo& algo) const;
  const Algo* heuristic(const OprNode& node, const InLayouts& in, const OutLayouts& out) const;
  const Algo* from_entry(const CacheEntry& e, const OprNode& node, const InLayouts& in,
                         const OutLayouts& out) const;
  const Algo* profile(const OprNode& node, const CacheKey& key, const InLayouts& in,
                      const OutLayouts& out, const InLayouts& pin, const OutLayouts& pout,
                      const std::vector<const Tensor*>& values);
  void log(std::string line);
  bool ensure_loaded();  // false: the policy file was missing or invalid
  void persist();
  bool may_profile() const {
    return (opt_.strategy & kProfile) && !(opt_.strategy & kHeuristic);
  }

  ChooserOptions opt_;
  ChooserStats stats_;
  std::vector<std::string> log_;
  AlgoCache cache_;
  std::string category_;
  bool loaded_ = false;
  bool save_failed_ = false;
  size_t opr_count_ = 0;
};

}  // namespace loadrun
