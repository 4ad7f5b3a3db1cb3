#include "memory/linear_planner.h"

#include <algorithm>
#include <numeric>

namespace loadrun {

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
    off += mem_align(reqs[i].bytes);
  }
  plan.arena_bytes = off;
  return plan;
}

}  // namespace loadrun
