#include "memory/linear_planner.h"

#include <algorithm>
#include <numeric>

namespace loadrun {

namespace {
size_t align64(size_t n) { return (n + 63) / 64 * 64; }
}  // namespace

MemPlan plan_linear(const std::vector<MemRequest>& reqs) {
  MemPlan plan;
  plan.offsets.resize(reqs.size());
  std::vector<size_t> order(reqs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return reqs[a].first_use < reqs[b].first_use; });
  size_t off = 0;
  for (size_t i : order) {
    plan.offsets[i] = off;
    off += align64(reqs[i].bytes);
  }
  plan.arena_bytes = off;
  return plan;
}

bool verify_plan(const std::vector<MemRequest>& reqs, const MemPlan& plan) {
  for (size_t i = 0; i < reqs.size(); ++i) {
    for (size_t j = i + 1; j < reqs.size(); ++j) {
      bool live_together =
          reqs[i].first_use <= reqs[j].last_use && reqs[j].first_use <= reqs[i].last_use;
      bool overlap = plan.offsets[i] < plan.offsets[j] + reqs[j].bytes &&
                     plan.offsets[j] < plan.offsets[i] + reqs[i].bytes;
      if (live_together && overlap && reqs[i].bytes && reqs[j].bytes) return false;
    }
  }
  return plan.arena_bytes >= [&] {
    size_t end = 0;
    for (size_t i = 0; i < reqs.size(); ++i) end = std::max(end, plan.offsets[i] + reqs[i].bytes);
    return end;
  }();
}

}  // namespace loadrun
