// DispatchObserver (see dispatch_observer.h).
#include "runtime/dispatch_observer.h"

#include "graph/graph.h"

namespace loadrun {

void DispatchObserver::before_step(const StepEvent&) { before_ = cn_.dispatches(); }

void DispatchObserver::after_step(const StepEvent& e) {
  const bool fanned_out = cn_.dispatches() != before_;
  std::lock_guard<std::mutex> lock(mu_);
  if (steps_.size() <= e.index) steps_.resize(e.index + 1);
  Step& s = steps_[e.index];
  if (s.label.empty() && e.node) s.label = e.node->label();
  s.dispatched = s.dispatched || fanned_out;
}

size_t DispatchObserver::steps_seen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return steps_.size();
}

std::vector<std::string> DispatchObserver::single_thread_steps() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> r;
  for (const Step& s : steps_)
    if (!s.dispatched && !s.label.empty()) r.push_back(s.label);
  return r;
}

}  // namespace loadrun
