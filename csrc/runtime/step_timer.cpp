// StepTimer (step_timer.h): per step index, the sum of its kernel times.
#include "runtime/step_timer.h"

namespace loadrun {

void StepTimer::after_step(const StepEvent& e) {
  std::lock_guard<std::mutex> lock(mu_);
  if (steps_.size() <= e.index) steps_.resize(e.index + 1);
  Step& s = steps_[e.index];
  if (s.runs == 0 || s.label.empty()) {
    s.label = e.node ? e.node->label() : std::string();
    s.algo = e.algo ? e.algo : "";
  }
  s.total_ms += e.ms;
  ++s.runs;
}

std::vector<StepTimer::Step> StepTimer::steps() const {
  std::lock_guard<std::mutex> lock(mu_);
  return steps_;
}

void StepTimer::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  steps_.clear();
}

}  // namespace loadrun
