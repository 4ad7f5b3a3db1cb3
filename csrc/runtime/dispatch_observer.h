// DispatchObserver: --check-dispatch. Reads CompNode::dispatches() (the
// parallel_for calls that fanned out to more than one thread) before and
// after every step; a step whose count did not move ran entirely on one
// thread. Per step index it keeps the node's label and whether any observed
// run of it used the pool, so after the first run the caller can name every
// operator that did not (steps inside a nested graph count for the If / Loop
// / Scan step that runs them).
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/comp_node.h"
#include "runtime/observer.h"

namespace loadrun {

class DispatchObserver final : public StepObserver {
 public:
  explicit DispatchObserver(const CompNode& cn) : cn_(cn) {}
  void before_step(const StepEvent& e) override;
  void after_step(const StepEvent& e) override;

  // Steps observed so far (the longest comp seq seen), and the labels
  // ("name{Type}") of those that never used the pool, in step order.
  size_t steps_seen() const;
  std::vector<std::string> single_thread_steps() const;

 private:
  struct Step {
    std::string label;
    bool dispatched = false;
  };
  const CompNode& cn_;
  uint64_t before_ = 0;
  mutable std::mutex mu_;
  std::vector<Step> steps_;
};

}  // namespace loadrun
