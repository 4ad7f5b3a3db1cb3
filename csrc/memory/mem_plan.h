// What every static memory planner shares: the request a tensor makes, the
// plan that answers it, the two yardsticks a plan is measured against (the
// live-bytes lower bound and the no-reuse sum) and the verifier every plan
// passes before the runtime trusts it.
//
// A request is one slice of the arena. Tensors that share bytes (a Reshape
// output aliasing its input, an in-place output overwriting a dying input)
// are merged into one request by the caller before planning, so a planner
// sees plain, independent requests.
//
// Lifetimes are inclusive step ranges [first_use, last_use] over the
// execution sequence: a request is live at every step from the one that
// writes it to the last one that reads it. first_use = kBeforeFirstStep (-1)
// is a graph input, live before step 0; last_use = kAfterLastStep (INT_MAX) is
// a graph output, live after the last step.
#pragma once
#include <climits>
#include <cstddef>
#include <string>
#include <vector>

namespace loadrun {

constexpr size_t kMemAlignment = 64;  // every offset, and every size as placed
constexpr int kBeforeFirstStep = -1;
constexpr int kAfterLastStep = INT_MAX;

inline size_t mem_align(size_t n) {
  return (n + kMemAlignment - 1) / kMemAlignment * kMemAlignment;
}

struct MemRequest {
  size_t bytes = 0;
  int first_use = 0;  // step that produces it (kBeforeFirstStep: a graph input)
  int last_use = 0;   // last step that reads it (kAfterLastStep: a graph output)
};

struct MemPlan {
  std::vector<size_t> offsets;  // per request, in bytes from the arena start
  size_t arena_bytes = 0;
};

// True when a and b are live at some common step.
inline bool lifetimes_overlap(const MemRequest& a, const MemRequest& b) {
  return a.first_use <= b.last_use && b.first_use <= a.last_use;
}

// Max over steps of the sum of the aligned sizes live at that step: no plan,
// however clever, fits in less (for one-dimensional placement it is usually
// reachable only approximately; see greedy_planner.h).
size_t lower_bound_bytes(const std::vector<MemRequest>& reqs);

// Sum of the aligned sizes: the arena when nothing is reused (plan_linear).
size_t no_reuse_bytes(const std::vector<MemRequest>& reqs);

// True when the plan is safe: one offset per request, every offset aligned,
// every request inside arena_bytes, and no two requests live at a common step
// sharing a byte (zero-byte requests hold no bytes). On failure, *why (when
// given) says what is wrong and names the offending request(s) by index.
// Cost O(n log n + k), k the number of pairs overlapping in bytes.
bool verify_plan(const std::vector<MemRequest>& reqs, const MemPlan& plan,
                 std::string* why = nullptr);

}  // namespace loadrun
