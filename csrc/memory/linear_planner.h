// Linear memory plan: every request gets its own slice of one arena, laid
// out in order of first use, 64-byte aligned, with no reuse. Its arena is
// no_reuse_bytes(): the baseline a reuse planner is measured against, and the
// plan behind --disable-mem-opt. Cost O(n log n).
#pragma once
#include "memory/mem_plan.h"

namespace loadrun {

MemPlan plan_linear(const std::vector<MemRequest>& reqs);

}  // namespace loadrun
