// Plan memory (see plan_memory.h): tensors grouped into buffers by views and
// in-place writes, then placed by the greedy-by-size planner.
#include "runtime/plan_memory.h"

#include <algorithm>

#include "core/errors.h"
#include "memory/greedy_planner.h"
#include "memory/linear_planner.h"

namespace loadrun {

ActivationPlan plan_activations(const std::vector<MemStepDesc>& steps,
                                const std::vector<size_t>& var_bytes,
                                const std::vector<char>& planned,
                                const std::vector<int>& graph_inputs,
                                const std::vector<int>& graph_outputs, bool reuse,
                                size_t guard) {
  const size_t nv = var_bytes.size();
  ActivationPlan ap;
  ap.guard = guard;
  ap.buffer_of.assign(nv, -1);
  // Last step reading each var (graph outputs: past the end).
  std::vector<int> last_read(nv, kBeforeFirstStep);
  for (size_t s = 0; s < steps.size(); ++s)
    for (int v : steps[s].inputs)
      if (v >= 0) last_read[v] = std::max(last_read[v], static_cast<int>(s));
  // Graph outputs are read after the run; graph inputs are bound once and
  // read by every run until the next bind (benchmark() repeats runs), so
  // both live for the whole sequence.
  for (int v : graph_outputs) last_read[v] = kAfterLastStep;
  for (int v : graph_inputs)
    if (v >= 0) last_read[v] = kAfterLastStep;

  std::vector<char> holds_input;  // per buffer: (a view of) a graph input: never overwritten
  auto new_buffer = [&](int v, int step) {
    ap.buffer_of[v] = static_cast<int>(ap.buffers.size());
    ap.buffers.push_back({var_bytes[v] + guard, step, std::max(step, last_read[v])});
    ap.payload.push_back(var_bytes[v]);
    holds_input.push_back(0);
    ap.no_reuse += mem_align(var_bytes[v]);
  };
  auto join = [&](int v, int b) {
    ap.buffer_of[v] = b;
    ap.buffers[b].last_use = std::max(ap.buffers[b].last_use, last_read[v]);
  };
  for (int v : graph_inputs) {
    if (v < 0 || !planned[v]) continue;
    new_buffer(v, kBeforeFirstStep);
    holds_input.back() = 1;
  }
  for (size_t s = 0; s < steps.size(); ++s) {
    const MemStepDesc& st = steps[s];
    const int step = static_cast<int>(s);
    for (size_t o = 0; o < st.outputs.size(); ++o) {
      int v = st.outputs[o];
      if (v < 0 || !planned[v]) continue;
      if (reuse && o == 0) {
        auto in_var = [&](int idx) {
          return idx >= 0 && idx < static_cast<int>(st.inputs.size()) ? st.inputs[idx] : -1;
        };
        int a = in_var(st.alias_input);
        if (a >= 0 && ap.buffer_of[a] >= 0 && var_bytes[a] == var_bytes[v]) {
          join(v, ap.buffer_of[a]);
          continue;
        }
        int p = in_var(st.inplace_input);
        if (p >= 0 && ap.buffer_of[p] >= 0 && var_bytes[p] == var_bytes[v]) {
          int b = ap.buffer_of[p];
          // the buffer dies here: no later step reads any tensor it holds
          if (!holds_input[b] && ap.buffers[b].last_use == step) {
            join(v, b);
            continue;
          }
        }
      }
      new_buffer(v, step);
    }
  }
  ap.lower_bound = lower_bound_bytes(ap.buffers);
  if (guard) {  // the bound of the tensors themselves, as without guards
    std::vector<MemRequest> bare = ap.buffers;
    for (size_t b = 0; b < bare.size(); ++b) bare[b].bytes = ap.payload[b];
    ap.lower_bound = lower_bound_bytes(bare);
  }
  ap.plan = reuse ? plan_greedy(ap.buffers) : plan_linear(ap.buffers);
  std::string why;
  LR_CHECK(verify_plan(ap.buffers, ap.plan, &why), InternalError, "memory plan: ", why);
  return ap;
}

}  // namespace loadrun
