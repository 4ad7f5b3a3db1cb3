// Dynamic shapes at run time (see network.h): choosing the value-keyed
// plan for the fed values, and re-inferring, sizing and re-binding a
// dynamic step inside the execute loop.
#include "runtime/network.h"
#include "runtime/plan.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "core/errors.h"

namespace loadrun {

// Makes current the plan keyed on the feeds' values of the shape plan's key
// inputs, building (and caching) it when new. Building can reveal more inputs
// to key on (nodes that could not even be inferred without the first ones'
// values): the key then grows and the values' plans are rebuilt.
void Network::select_value_plan(const std::vector<Tensor>& feeds) {
  Plan* base = current_->base ? current_->base : current_;
  const Graph& g = *graph_;
  auto key_of = [&](const std::vector<int>& inputs) {
    std::string key;
    for (int i : inputs) {
      const Tensor& f = feeds.at(i);
      const Var& v = g.vars()[g.inputs()[i]];
      LR_CHECK(f.dtype() == v.dtype, InputError, "input '", v.name, "': expected dtype ",
               dtype_name(v.dtype), ", got ", dtype_name(f.dtype()));
      key.append(static_cast<const char*>(f.raw()), f.nbytes());
    }
    return key;
  };
  std::vector<int> inputs = base->key_inputs;
  for (;;) {
    std::string key = key_of(inputs);
    if (inputs == base->key_inputs) {
      if (current_->base == base && current_->value_key == key) return;  // same values as last run
      auto it = base->by_value.find(key);
      if (it != base->by_value.end()) {
        current_ = it->second.get();
        return;
      }
    }
    std::vector<const Tensor*> values(g.inputs().size(), nullptr);
    for (int i : inputs) values[i] = &feeds[i];
    std::unique_ptr<Plan> plan = build_plan(base->key, values);
    std::vector<int> more = inputs;
    for (int i : plan->wants)
      if (std::find(more.begin(), more.end(), i) == more.end()) more.push_back(i);
    std::sort(more.begin(), more.end());
    if (more != inputs) {  // the values revealed more inputs that decide shapes
      inputs = more;
      continue;
    }
    if (inputs != base->key_inputs || base->by_value.size() >= std::max<size_t>(opt_.max_plans, 1)) {
      base->by_value.clear();  // plans for another key (or too many): current_ is replaced below
      base->key_inputs = inputs;
    }
    plan->base = base;
    plan->value_key = key;
    current_ = (base->by_value[key] = std::move(plan)).get();
    return;
  }
}

// Infers dynamic step `s` from its inputs as they are now, sizes its outputs
// and picks its algorithm (cached per layouts) and workspace.
void Network::prepare_dynamic_step(Plan& p, size_t s) {
  Plan::Step& step = p.seq[s];
  const OprNode& node = *step.node;
  InferCtx ic;
  ic.runtime = this;
  for (const Tensor* t : step.ctx.in) {
    ic.in.push_back(t ? &t->layout() : nullptr);
    ic.values.push_back(t);
  }
  ic.out.assign(node.outputs.size(), Layout(Shape{-1}, DType::Float32));
  if (!step.ctx.seq_in.empty() || !step.ctx.seq_out.empty()) {  // sequences and optionals
    ic.seq_in = step.ctx.seq_in;
    for (const Value* v : step.ctx.seq_out)
      ic.out_kinds.push_back(v ? v->kind : ValueKind::kTensor);
  }
  node.op->infer(ic);
  std::string key;
  for (const Layout* l : ic.in) key += l ? l->str() : "{}";
  key += "->";
  for (size_t o = 0; o < node.outputs.size(); ++o) {
    if (!ic.out_is_tensor(o)) {  // a Value: the kernel fills it
      ic.out[o] = Layout(Shape{}, DType::Float32);
      key += value_kind_name(ic.out_kinds[o]);
      continue;
    }
    const Layout& l = ic.out[o];
    for (int64_t d : l.shape)
      LR_CHECK(d >= 0, ModelError, "the operator gives no output ", o,
               " (the node has more outputs than the operator makes, or its inputs leave it unset)");
    key += l.str();
    int vid = node.outputs[o];
    p.layouts[vid] = l;
    Tensor& t = p.tensors[vid];
    if (!t.empty() && t.layout().same_shape_dtype(l)) continue;  // same size as last run
    Plan::DynBuf& buf = p.dyn_bufs[vid];
    size_t need = checked_nbytes(l, str_cat("output ", o));  // InputError when absurd
    if (need > buf.capacity || !buf.storage) {
      auto fail = [&] {
        LR_THROW(InputError, "output ", o, " of shape ", shape_str(l.shape), " (", need,
                 " bytes) cannot be allocated");
      };
      try {
        buf.storage = alloc_aligned(need);
      } catch (const std::bad_alloc&) {
        fail();
      } catch (const InternalError&) {  // alloc_aligned: out of memory
        fail();
      }
      buf.capacity = need;
    }
    t = Tensor::view(l, buf.storage, 0);
  }
  auto it = p.dyn_algos.find({node.id, key});
  if (it == p.dyn_algos.end()) {
    const Algo* algo = chooser_.choose(node, ic.in, ic.out);
    BoundKernel k = algo->bind(*node.op, ic.in, ic.out, *cn_);
    k.shared_workspace = algo->shared_workspace(*node.op, ic.in, ic.out, false);  // nothing prepared
    it = p.dyn_algos.emplace(std::make_pair(node.id, key), std::move(k)).first;
  }
  step.kernel = it->second;
  step.algo = step.kernel.algo;
  step.workspace = step.kernel.workspace;
  step.shared_workspace = step.kernel.shared_workspace;
  size_t shared = workspace_stride(step.shared_workspace);
  size_t total = shared + workspace_total(step.workspace, cn_->num_threads());
  if (total > p.dyn_workspace_bytes) {
    p.dyn_workspace = alloc_aligned(total);
    p.dyn_workspace_bytes = total;
  }
  step.ctx.shared_workspace = step.shared_workspace ? p.dyn_workspace.get() : nullptr;
  step.ctx.workspace = step.workspace ? p.dyn_workspace.get() + shared : nullptr;
  step.ctx.workspace_size = step.workspace;
  step.ctx.workspace_stride = workspace_stride(step.workspace);
}

}  // namespace loadrun
