// Bind stage of a Network (see runtime/plan.h): the activation arena from
// the memory plan (runtime/plan_memory.h), then every step's kernel bound to
// its tensors (Algo::bind), weights preprocessed once and shared, and one
// workspace slot per thread.
#include "runtime/network.h"
#include "runtime/plan.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "core/errors.h"

namespace loadrun {

void Network::plan_memory(Plan& p, const Choices& choices) {
  const Graph& g = *graph_;
  const size_t nv = g.vars().size();
  const std::vector<const OprNode*>& runtime_nodes = choices.nodes;
  const std::vector<const Algo*>& runtime_algos = choices.algos;
  // Plan memory (runtime/plan_memory.h): every var computed at run time, and
  // every input, gets arena bytes; views share their input's, in-place
  // outputs take a dying input's.
  std::vector<char> planned(nv, 0);
  std::vector<size_t> var_bytes(nv, 0);
  auto want = [&](int vid) {
    if (vid < 0 || p.dyn[vid] || p.known[vid]) return;  // own buffers / a keyed input's value
    planned[vid] = 1;
    var_bytes[vid] = p.layouts[vid].nbytes();
  };
  for (int vid : g.inputs()) want(vid);
  std::vector<MemStepDesc> mem_steps(runtime_nodes.size());
  for (size_t s = 0; s < runtime_nodes.size(); ++s) {
    const OprNode& node = *runtime_nodes[s];
    MemStepDesc& d = mem_steps[s];
    d.inputs = node.inputs;
    d.outputs = node.outputs;
    for (int vid : node.outputs) want(vid);
    if (!runtime_algos[s] || node.outputs.empty()) continue;  // dynamic steps: no views
    InLayouts in_l;
    for (int vid : node.inputs) in_l.push_back(vid < 0 || p.dyn[vid] ? nullptr : &p.layouts[vid]);
    d.alias_input = choices.view_of[s] >= 0 ? choices.view_of[s] : node.op->alias_input(in_l);
    int ip = node.op->inplace_input(in_l);
    if (ip >= 0 && ip < static_cast<int>(node.inputs.size()) && node.inputs[ip] >= 0 &&
        p.layouts[node.inputs[ip]].same_shape_dtype(p.layouts[node.outputs[0]]))
      d.inplace_input = ip;
  }
  p.mem = plan_activations(mem_steps, var_bytes, planned, g.inputs(), g.outputs(), opt_.mem_reuse,
                           opt_.sanity_check ? kGuardBytes : 0);
  p.arena_bytes = p.mem.plan.arena_bytes;
  p.arena = alloc_arena(p.arena_bytes);
  for (size_t vid = 0; vid < nv; ++vid)
    if (planned[vid])
      p.tensors[vid] = Tensor::view(p.layouts[vid], p.arena, p.mem.offset_of(static_cast<int>(vid)));
}

void Network::bind_steps(Plan& p, const Choices& choices) {
  const Graph& g = *graph_;
  const std::vector<const OprNode*>& runtime_nodes = choices.nodes;
  const std::vector<const Algo*>& runtime_algos = choices.algos;
  // Comp seq: bind every kernel to its tensors once; weights freed as soon
  // as every reader has prepared them (free_weights.cpp).
  WeightFreer freer(*this, p);
  for (size_t s = 0; s < runtime_nodes.size(); ++s) {
    const OprNode& node = *runtime_nodes[s];
    Plan::Step step{&node, runtime_algos[s], {}, 0, 0, {}, {}};
    if (!step.algo) {  // dynamic: bound to its tensors now, sized and given an algo per run
      step.dynamic = true;
      for (int vid : node.inputs) step.ctx.in.push_back(vid < 0 ? nullptr : &p.tensors[vid]);
      for (int vid : node.outputs) step.ctx.out.push_back(&p.tensors[vid]);
      if (g.has_non_tensor()) bind_step_values(p, node, step.ctx);
      step.ctx.comp_node = cn_;
      step.ctx.runtime = this;
      p.seq.push_back(std::move(step));
      continue;
    }
    InLayouts in_l;
    OutLayouts out_l;
    std::vector<const Tensor*> values;
    for (int vid : node.inputs) {
      step.ctx.in.push_back(vid < 0 ? nullptr : &p.tensors[vid]);
      in_l.push_back(vid < 0 ? nullptr : &p.layouts[vid]);
      values.push_back(vid >= 0 && p.known[vid] ? &p.tensors[vid] : nullptr);
    }
    int view = choices.view_of[s];
    if (view >= 0 && node.outputs.size() == 1 && step.ctx.in[view] &&
        p.tensors[node.outputs[0]].raw() == step.ctx.in[view]->raw()) {
      // A view the memory plan gave its input's buffer: no kernel to run.
      step.elided = true;
      step.ctx.out.push_back(&p.tensors[node.outputs[0]]);
      step.ctx.comp_node = cn_;
      step.ctx.runtime = this;
      p.seq.push_back(std::move(step));
      continue;
    }
    if (opt_.weight_preprocess) {
      std::string where = node.label() + ": ";
      step.prepared = with_context(where, [&] { return prepared_for(node, *step.algo, in_l, values); });
      step.ctx.prepared = step.prepared.data.get();
    }
    if (step.prepared) freer.prepared(node, *step.algo, step.prepared);
    for (int vid : node.outputs) {
      step.ctx.out.push_back(&p.tensors[vid]);
      out_l.push_back(p.layouts[vid]);
    }
    step.ctx.comp_node = cn_;
    step.ctx.runtime = this;
    step.kernel = with_context(node.label() + ": ",
                               [&] { return step.algo->bind(*node.op, in_l, out_l, *cn_); });
    step.workspace = step.kernel.workspace;
    step.shared_workspace = step.kernel.shared_workspace =
        step.algo->shared_workspace(*node.op, in_l, out_l, bool(step.prepared));
    p.workspace_bytes = std::max(p.workspace_bytes, step.workspace);
    p.shared_bytes = std::max(p.shared_bytes, step.shared_workspace);
    p.seq.push_back(std::move(step));
  }
  // The shared scratch, then one slot per thread of the node, each sized by
  // the largest need.
  size_t stride = workspace_stride(p.workspace_bytes);
  p.shared_bytes = workspace_stride(p.shared_bytes);
  p.workspace_bytes = p.shared_bytes + workspace_total(p.workspace_bytes, cn_->num_threads());
  if (p.workspace_bytes) p.workspace = alloc_arena(p.workspace_bytes + p.mem.guard);
  if (p.mem.guard) fill_guards(p, -2);
  for (auto& step : p.seq) {
    if (step.dynamic) continue;
    step.ctx.shared_workspace = step.shared_workspace ? p.workspace.get() : nullptr;
    step.ctx.workspace = step.workspace ? p.workspace.get() + p.shared_bytes : nullptr;
    step.ctx.workspace_size = step.workspace;
    step.ctx.workspace_stride = stride;
  }
}

Prepared Network::prepared_for(const OprNode& node, const Algo& algo, const InLayouts& in,
                               const std::vector<const Tensor*>& values) {
  auto pin = pinned_.find(node.id);
  if (pin != pinned_.end() && pin->second.algo == &algo) return pin->second.prepared;
  std::string key = str_cat(node.id, "/", algo.name(), "/", algo.preprocess_key(*node.op, in));
  auto it = prepared_.find(key);
  if (it != prepared_.end())
    if (auto p = it->second.data.lock()) return {p, it->second.bytes, it->second.replaces};
  Prepared p = algo.preprocess(*node.op, in, values);
  if (p) prepared_[key] = {p.data, p.bytes, p.replaces};
  return p;
}

}  // namespace loadrun
