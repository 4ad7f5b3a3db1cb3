// Plan memory: the runtime stage between algorithm choice and execution. It
// turns the comp seq's tensors into arena buffers and places them.
//
// Method. Walking the steps in order, each output a step writes into the
// arena becomes a buffer of its own, unless
//  - the op declares it a view of an input (Op::alias_input: Reshape,
//    Flatten, Squeeze, Unsqueeze, Identity, inference Dropout) of the same
//    byte size that is in the arena: the output joins that input's buffer;
//  - the op may write it over an input (Op::inplace_input: elementwise ops)
//    that has the output's layout, lives in the arena, is not (a view of) a
//    graph input, and is read by no later step: the output takes that
//    buffer, whose lifetime goes on.
// A buffer lives from the first step that writes any of its tensors to the
// last that reads any; graph inputs live through the whole sequence (bound
// once, read by every run until the next bind) and graph outputs past its end. The buffers are then placed by greedy-by-size best fit
// (memory/greedy_planner.h), or one after another with no reuse when
// `reuse` is off (--disable-mem-opt), and the plan is verified: no two
// buffers live at one step share a byte. O(v + s) for the grouping, the
// planner's O(b^2) for the placement.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "memory/mem_plan.h"

namespace loadrun {

struct MemStepDesc {
  std::vector<int> inputs, outputs;  // var ids (-1: absent)
  int alias_input = -1;    // index into inputs: output 0 views it
  int inplace_input = -1;  // index into inputs: output 0 may overwrite it (layouts equal)
};

struct ActivationPlan {
  std::vector<int> buffer_of;        // per var: its buffer, -1 when not in the arena
  std::vector<MemRequest> buffers;   // one per buffer (bytes include the guard)
  std::vector<size_t> payload;       // per buffer: its tensors' bytes (the guard follows)
  size_t guard = 0;                  // guard bytes after every buffer (the sanity check)
  MemPlan plan;                      // offsets per buffer
  size_t lower_bound = 0;            // largest total of buffers live at one step
  size_t no_reuse = 0;               // sum of every planned tensor's aligned size, views apart
  size_t offset_of(int vid) const { return plan.offsets[buffer_of[vid]]; }
};

// planned[v]: var v needs arena bytes (var_bytes[v] of them); graph_inputs
// and graph_outputs: var ids; guard: bytes left after every buffer for the
// first-run sanity check (0: none). Throws InternalError when the plan fails
// its verification.
ActivationPlan plan_activations(const std::vector<MemStepDesc>& steps,
                                const std::vector<size_t>& var_bytes,
                                const std::vector<char>& planned,
                                const std::vector<int>& graph_inputs,
                                const std::vector<int>& graph_outputs, bool reuse,
                                size_t guard = 0);

}  // namespace loadrun
