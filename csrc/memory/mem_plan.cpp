#include "memory/mem_plan.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <utility>

namespace loadrun {

size_t lower_bound_bytes(const std::vector<MemRequest>& reqs) {
  // Sweep the step axis: +size where a lifetime opens, -size one step after it
  // closes (inclusive lifetimes). 64-bit times keep last_use + 1 from
  // overflowing for graph outputs.
  std::vector<std::pair<int64_t, int64_t>> events;
  events.reserve(2 * reqs.size());
  for (const MemRequest& r : reqs) {
    if (r.bytes == 0 || r.last_use < r.first_use) continue;
    int64_t size = static_cast<int64_t>(mem_align(r.bytes));
    events.emplace_back(r.first_use, size);
    events.emplace_back(static_cast<int64_t>(r.last_use) + 1, -size);
  }
  std::sort(events.begin(), events.end());
  int64_t live = 0, peak = 0;
  for (size_t i = 0; i < events.size();) {
    int64_t t = events[i].first;
    for (; i < events.size() && events[i].first == t; ++i) live += events[i].second;
    peak = std::max(peak, live);
  }
  return static_cast<size_t>(peak);
}

size_t no_reuse_bytes(const std::vector<MemRequest>& reqs) {
  size_t sum = 0;
  for (const MemRequest& r : reqs) sum += mem_align(r.bytes);
  return sum;
}

namespace {
std::string describe(size_t i, const MemRequest& r, size_t offset) {
  auto step = [](int s) {
    if (s == kBeforeFirstStep) return std::string("input");
    if (s == kAfterLastStep) return std::string("output");
    return std::to_string(s);
  };
  return "request " + std::to_string(i) + " (" + std::to_string(r.bytes) + " B at offset " +
         std::to_string(offset) + ", steps " + step(r.first_use) + ".." + step(r.last_use) + ")";
}
}  // namespace

bool verify_plan(const std::vector<MemRequest>& reqs, const MemPlan& plan, std::string* why) {
  auto fail = [&](std::string msg) {
    if (why) *why = std::move(msg);
    return false;
  };
  if (plan.offsets.size() != reqs.size())
    return fail("plan has " + std::to_string(plan.offsets.size()) + " offsets for " +
                std::to_string(reqs.size()) + " requests");
  std::vector<size_t> order;
  order.reserve(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    size_t off = plan.offsets[i];
    if (off % kMemAlignment != 0)
      return fail(describe(i, reqs[i], off) + " is not " + std::to_string(kMemAlignment) +
                  "-byte aligned");
    if (reqs[i].bytes == 0) continue;
    if (off > plan.arena_bytes || reqs[i].bytes > plan.arena_bytes - off)
      return fail(describe(i, reqs[i], off) + " ends past the arena of " +
                  std::to_string(plan.arena_bytes) + " B");
    order.push_back(i);
  }
  // In offset order, a request can only share bytes with the ones that start
  // before it ends: compare exactly those.
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return plan.offsets[a] != plan.offsets[b] ? plan.offsets[a] < plan.offsets[b] : a < b;
  });
  for (size_t x = 0; x < order.size(); ++x) {
    size_t i = order[x];
    size_t end_i = plan.offsets[i] + reqs[i].bytes;
    for (size_t y = x + 1; y < order.size() && plan.offsets[order[y]] < end_i; ++y) {
      size_t j = order[y];
      if (lifetimes_overlap(reqs[i], reqs[j])) {
        size_t a = std::min(i, j), b = std::max(i, j);
        return fail(describe(a, reqs[a], plan.offsets[a]) + " and " +
                    describe(b, reqs[b], plan.offsets[b]) + " are live together and share bytes");
      }
    }
  }
  return true;
}

}  // namespace loadrun
