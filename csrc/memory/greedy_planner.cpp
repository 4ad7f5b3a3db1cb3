#include "memory/greedy_planner.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace loadrun {

namespace {

// Places the requests in `order` one by one (see greedy_planner.h).
MemPlan place_in_order(const std::vector<MemRequest>& reqs, const std::vector<size_t>& order) {
  MemPlan plan;
  plan.offsets.assign(reqs.size(), 0);
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

std::vector<size_t> nonempty(const std::vector<MemRequest>& reqs) {
  std::vector<size_t> order;
  order.reserve(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i)
    if (reqs[i].bytes > 0) order.push_back(i);
  return order;
}

}  // namespace

MemPlan plan_greedy_by_size(const std::vector<MemRequest>& reqs) {
  std::vector<size_t> order = nonempty(reqs);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (reqs[a].bytes != reqs[b].bytes) return reqs[a].bytes > reqs[b].bytes;
    if (reqs[a].first_use != reqs[b].first_use) return reqs[a].first_use < reqs[b].first_use;
    return a < b;
  });
  return place_in_order(reqs, order);
}

MemPlan plan_greedy_by_breadth(const std::vector<MemRequest>& reqs) {
  std::vector<size_t> order = nonempty(reqs);
  // Time points: the distinct first and last uses, in order.
  std::vector<int> t;
  for (size_t i : order) {
    t.push_back(reqs[i].first_use);
    t.push_back(reqs[i].last_use);
  }
  std::sort(t.begin(), t.end());
  t.erase(std::unique(t.begin(), t.end()), t.end());
  auto at = [&](int v) { return static_cast<size_t>(std::lower_bound(t.begin(), t.end(), v) - t.begin()); };
  // Breadth per point: the aligned bytes live there (a difference array).
  std::vector<long double> diff(t.size() + 1, 0);
  for (size_t i : order) {
    diff[at(reqs[i].first_use)] += mem_align(reqs[i].bytes);
    diff[at(reqs[i].last_use) + 1] -= mem_align(reqs[i].bytes);
  }
  std::vector<long double> breadth(t.size(), 0);
  long double run = 0;
  for (size_t k = 0; k < t.size(); ++k) breadth[k] = run += diff[k];
  // Each request's key: the broadest point of its lifetime (the first one on
  // a tie), which is where the by-breadth walk over points first meets it.
  struct Key {
    long double breadth;
    size_t point;
  };
  std::vector<Key> key(reqs.size(), Key{0, 0});
  for (size_t i : order) {
    size_t a = at(reqs[i].first_use), b = at(reqs[i].last_use);
    Key k{breadth[a], a};
    for (size_t p = a + 1; p <= b; ++p)
      if (breadth[p] > k.breadth) k = Key{breadth[p], p};
    key[i] = k;
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (key[a].breadth != key[b].breadth) return key[a].breadth > key[b].breadth;
    if (key[a].point != key[b].point) return key[a].point < key[b].point;
    if (reqs[a].bytes != reqs[b].bytes) return reqs[a].bytes > reqs[b].bytes;
    return a < b;
  });
  return place_in_order(reqs, order);
}

MemPlan plan_greedy(const std::vector<MemRequest>& reqs) {
  MemPlan by_size = plan_greedy_by_size(reqs);
  MemPlan by_breadth = plan_greedy_by_breadth(reqs);
  return by_breadth.arena_bytes < by_size.arena_bytes ? by_breadth : by_size;
}

}  // namespace loadrun
