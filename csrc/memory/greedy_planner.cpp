#include "memory/greedy_planner.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace loadrun {

MemPlan plan_greedy_by_size(const std::vector<MemRequest>& reqs) {
  const size_t n = reqs.size();
  MemPlan plan;
  plan.offsets.assign(n, 0);

  std::vector<size_t> order;
  order.reserve(n);
  for (size_t i = 0; i < n; ++i)
    if (reqs[i].bytes > 0) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (reqs[a].bytes != reqs[b].bytes) return reqs[a].bytes > reqs[b].bytes;
    if (reqs[a].first_use != reqs[b].first_use) return reqs[a].first_use < reqs[b].first_use;
    return a < b;
  });

  // Placed requests, kept sorted by offset (stable: equal offsets keep the
  // order they were placed in, which is deterministic). A copy of what the
  // scan reads, contiguous, so the O(n) scan per placement streams memory.
  struct Placed {
    size_t offset, end;
    int first_use, last_use;
  };
  std::vector<Placed> placed;
  placed.reserve(order.size());
  for (size_t i : order) {
    const MemRequest& r = reqs[i];
    const size_t size = mem_align(r.bytes);
    size_t below_end = 0;  // highest end among the overlapping ones seen so far
    size_t best_offset = 0, best_gap = std::numeric_limits<size_t>::max();
    bool found = false;
    for (const Placed& p : placed) {
      if (p.first_use > r.last_use || r.first_use > p.last_use) continue;  // never live together
      if (p.offset > below_end) {
        const size_t gap = p.offset - below_end;
        if (gap >= size && gap < best_gap) {
          best_gap = gap;
          best_offset = below_end;
          found = true;
        }
      }
      below_end = std::max(below_end, p.end);
    }
    const size_t offset = found ? best_offset : below_end;
    plan.offsets[i] = offset;
    auto at = std::upper_bound(placed.begin(), placed.end(), offset,
                               [](size_t off, const Placed& p) { return off < p.offset; });
    placed.insert(at, Placed{offset, offset + size, r.first_use, r.last_use});
    plan.arena_bytes = std::max(plan.arena_bytes, offset + size);
  }
  return plan;
}

}  // namespace loadrun
