// Linear memory plan: every activation gets its own slice of one arena, laid
// out in order of first use, 64-byte aligned, with no reuse. Its peak is the
// sum of all tensors: the baseline a reuse planner is measured against, and
// the plan behind --disable-mem-opt.
#pragma once
#include <cstddef>
#include <vector>

namespace loadrun {

struct MemRequest {
  size_t bytes = 0;
  int first_use = 0;  // step index that produces it (-1: before the first step)
  int last_use = 0;   // last step that reads it (INT_MAX: a graph output)
};

struct MemPlan {
  std::vector<size_t> offsets;  // per request
  size_t arena_bytes = 0;
};

MemPlan plan_linear(const std::vector<MemRequest>& reqs);

// True if no two requests live at the same time share a byte.
bool verify_plan(const std::vector<MemRequest>& reqs, const MemPlan& plan);

}  // namespace loadrun
