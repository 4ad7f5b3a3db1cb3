// OprProfiler: times candidate algorithms of one opr on its real shapes.
// Inputs whose values are known at compile time (weights, folded constants)
// keep their real values; the others are filled with seeded random numbers
// (floats in [-1, 1], integers and bools zero, so indices stay in range).
// Each candidate runs `warmup` times untimed, then up to `runs` timed runs
// (fewer once `budget_s` of timed runs is spent, at least one); the minimum
// is its time. With weight preprocess on, the candidate's preprocess() runs
// once first (untimed) and the timed runs use its result, as the plan would.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "fastrun/algo.h"
#include "runtime/comp_node.h"

namespace loadrun {

struct ProfileConfig {
  int warmup = 1;
  int runs = 5;
  double budget_s = 0.3;
};

class OprProfiler {
 public:
  // comp_node: where the candidates run (the network's); null: the caller's thread.
  OprProfiler(const Op& op, const InLayouts& in, const OutLayouts& out,
              const std::vector<const Tensor*>& values, CompNode* comp_node = nullptr);
  // Seconds per run (the minimum); throws what the algorithm throws.
  double time(const Algo& algo, bool weight_preprocess, const ProfileConfig& cfg,
              size_t* timed_runs = nullptr);

 private:
  const Op& op_;
  InLayouts in_layouts_;
  OutLayouts out_layouts_;
  std::vector<const Tensor*> values_;
  std::vector<Tensor> owned_in_, outs_;
  std::vector<const Tensor*> in_ptrs_;
  CpuCompNode cpu_;
  CompNode* cn_;
};

// A one-line progress bar on stderr, drawn only when stderr is a terminal.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled);
  ~ProgressBar();
  void show(const std::string& what, size_t done, size_t total);
  void clear();

 private:
  bool on_;
  bool drawn_ = false;
};

}  // namespace loadrun
