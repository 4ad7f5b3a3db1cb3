// Greedy-by-size static memory planner with best fit (Pisarchyk & Lee 2020,
// "Efficient Memory Management for Deep Neural Net Inference", the "Greedy by
// Size for Offset Calculation" method; TFLite's greedy memory planner is the
// same idea).
//
// Method. Requests are taken largest first (ties: earlier first_use, then
// lower index, so the plan is a pure function of its input). Each one is
// placed against the requests already placed whose lifetimes overlap its own:
// walking those in offset order, every hole between the end of what lies below
// and the start of the next one is a candidate, and the smallest hole that
// fits wins (best fit; the lowest such hole on a tie). When no hole fits, the
// request goes on top of the highest of them. Requests whose lifetimes do not
// overlap it are invisible to it, which is where reuse comes from. Offsets and
// placed sizes are multiples of kMemAlignment; zero-byte requests get offset 0
// and take no space. arena_bytes is the highest end.
//
// Why largest first: the big tensors set the peak, so they are placed while the
// arena is still empty and they can stack tightly; the many small ones then
// drop into the holes left between them at no cost. The paper finds it at or
// within a few percent of the lower bound on the networks it measured; on
// random lifetimes (tests/cpp/test_memory_planner.cpp) it averages 2-7% above
// lower_bound_bytes(), and it reaches the bound whenever all sizes are equal.
//
// Cost. O(n^2) time in the number of requests: each placement scans the
// placed list once (a contiguous vector sorted by offset) and inserts into it;
// O(n) memory. Graphs have hundreds to a few thousand planned tensors and the
// plan is made once per compiled shape: 1000 requests plan in about 2 ms,
// 5000 in about 40 ms, 20000 in well under a second on one core. An interval
// tree over lifetimes would cut the scan to the overlapping requests; at
// these sizes the plain scan is simple and fast enough.
//
// Good choice for: a static schedule with known sizes, planned once and run
// many times. Not a good choice when sizes change every run (plan per shape,
// or fall back to dynamic buffers), and not an optimum: finding the smallest
// arena is NP-hard (dynamic storage allocation), this is a fast heuristic.
#pragma once
#include "memory/mem_plan.h"

namespace loadrun {

MemPlan plan_greedy_by_size(const std::vector<MemRequest>& reqs);

// The paper's other strategy, "Greedy by Breadth": the steps taken broadest
// first (the most bytes live there), and at each the requests live there
// not yet placed, largest first, each placed as above. Where one large
// tensor does not set the peak but many mid-sized ones live together
// (ppocr_cls), it packs them better. O(n * lifetime points) for the keys,
// then the same O(n^2) placement.
MemPlan plan_greedy_by_breadth(const std::vector<MemRequest>& reqs);

// Both, and the smaller arena (by size on a tie): what the runtime uses.
MemPlan plan_greedy(const std::vector<MemRequest>& reqs);

}  // namespace loadrun
