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
  // Comp seq: bind every kernel to its tensors once.
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
  if (opt_.weight_preprocess && opt_.free_weights) free_prepared_weights(p);
}

// Frees the constants that only prepared steps read (see network.h,
// NetworkOptions::free_weights): the first plan decides, and only when no
// other plan exists and this network alone holds its graph. Each freed
// constant's readers keep their algorithm and prepared data for every later
// plan (pinned_). When the inputs have symbolic dims, later plans may have
// other shapes: then only a constant whose readers' prepared forms depend on
// the weights alone (Algo::preprocess_key is the weight's layout: Winograd,
// packed MatMul/Gemm B) is freed, not one packed for the shapes at hand (a
// 1x1 conv's orientation), so any later shape still runs. Compile refuses a
// plan that would need an original all the same (network.h).
void Network::free_prepared_weights(Plan& p) {
  const Graph& g = *graph_;
  if (!released_.empty() || plans_.size() > 0 || graph_.use_count() != 1) return;
  const size_t nv = g.vars().size();
  // Per const var: readers in the graph, and readers that are prepared steps
  // standing in for it.
  std::vector<int> readers(nv, 0), covered(nv, 0);
  for (const auto& n : g.oprs())
    for (int vid : n->inputs)
      if (vid >= 0) ++readers[vid];
  bool shapes_fixed = opt_.const_shape;
  if (!shapes_fixed) {
    shapes_fixed = true;
    for (int vid : g.inputs())
      for (int64_t d : g.vars()[vid].shape) shapes_fixed = shapes_fixed && d >= 0;
  }
  std::vector<const Plan::Step*> by_node(g.oprs().size(), nullptr);
  for (const auto& st : p.seq) {
    if (st.dynamic || st.elided || !st.prepared || st.prepared.replaces < 0) continue;
    size_t r = static_cast<size_t>(st.prepared.replaces);
    if (r >= st.node->inputs.size()) continue;
    int vid = st.node->inputs[r];
    if (vid < 0 || !g.vars()[vid].is_const) continue;
    if (!shapes_fixed) {
      InLayouts in_l;
      for (int v : st.node->inputs) in_l.push_back(v < 0 ? nullptr : &p.layouts[v]);
      if (st.algo->preprocess_key(*st.node->op, in_l) != layout_key(in_l, r)) continue;
    }
    // the same constant at another input of the node is still read
    if (std::count(st.node->inputs.begin(), st.node->inputs.end(), vid) != 1) continue;
    ++covered[vid];
    by_node[st.node->id] = &st;
  }
  std::vector<char> is_output(nv, 0);
  for (int vid : g.outputs()) is_output[vid] = 1;
  for (const Var& v : g.vars()) {
    if (!v.is_const || is_output[v.id] || readers[v.id] == 0 || covered[v.id] != readers[v.id])
      continue;
    released_.push_back(v.id);
    released_bytes_ += v.value.nbytes();
  }
  if (released_.empty()) return;
  std::vector<char> released(nv, 0);
  for (int vid : released_) released[vid] = 1;
  for (const auto& n : g.oprs()) {
    const Plan::Step* st = by_node[n->id];
    if (!st || !released[n->inputs[st->prepared.replaces]]) continue;
    InLayouts in_l;
    for (int vid : n->inputs) in_l.push_back(vid < 0 ? nullptr : &p.layouts[vid]);
    pinned_[n->id] = Pinned{st->algo, st->algo->preprocess_key(*n->op, in_l), st->prepared};
  }
  Graph& mg = const_cast<Graph&>(g);  // this network's alone (use_count above)
  for (int vid : released_) {
    Layout l = g.vars()[vid].value.layout();
    mg.release_value(vid);
    p.tensors[vid] = Tensor::view(l, nullptr, 0);
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
