// StepTimer: an observer that adds up each step's kernel time (the
// executor's own clock around the kernel: StepEvent::ms) per step index,
// with the step's node label and algorithm, copying no tensor. Benchmarks
// read it for per-step profiles of a whole plan (bench/gap_profile.py);
// steps inside a nested graph count for the If / Loop / Scan step that runs
// them.
#pragma once
#include <mutex>
#include <string>
#include <vector>

#include "runtime/observer.h"

namespace loadrun {

class StepTimer final : public StepObserver {
 public:
  struct Step {
    std::string label;  // "name{Type}"
    std::string algo;
    double total_ms = 0;
    size_t runs = 0;
  };
  void after_step(const StepEvent& e) override;
  std::vector<Step> steps() const;
  void clear();

 private:
  mutable std::mutex mu_;
  std::vector<Step> steps_;
};

}  // namespace loadrun
