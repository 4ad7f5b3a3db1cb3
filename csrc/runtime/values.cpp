// Sequences and optionals (see network.h): their Values, binding them to
// dynamic steps, and feeding and reading them at the API.
#include "runtime/network.h"
#include "runtime/plan.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "core/errors.h"

namespace loadrun {

// Gives every non-tensor var its (empty) Value and makes it dynamic: no arena
// space, and whatever reads it is inferred at run time.
void Network::init_values(Plan& p) const {
  const Graph& g = *graph_;
  p.values.resize(g.vars().size());
  for (const Var& v : g.vars()) {
    if (v.kind == ValueKind::kTensor) continue;
    p.values[v.id].kind = v.kind;
    p.values[v.id].elem = v.dtype;
    p.values[v.id].present = !is_optional(v.kind);
    p.layouts[v.id] = Layout(Shape{-1}, v.dtype);
    p.dyn[v.id] = 1;
  }
}

// Does `node` make a sequence or optional? (Reading one makes it dynamic anyway.)
bool Network::makes_values(const OprNode& node) const {
  for (int vid : node.outputs)
    if (graph_->vars()[vid].kind != ValueKind::kTensor) return true;
  return false;
}

// Binds a dynamic step's sequence and optional inputs and outputs (none for
// a node of tensors only).
void Network::bind_step_values(Plan& p, const OprNode& node, KernCtx& ctx) const {
  const Graph& g = *graph_;
  bool any = makes_values(node);
  for (int vid : node.inputs) any = any || (vid >= 0 && g.vars()[vid].kind != ValueKind::kTensor);
  if (!any) return;
  ctx.seq_in.assign(node.inputs.size(), nullptr);
  ctx.seq_out.assign(node.outputs.size(), nullptr);
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    int vid = node.inputs[i];
    if (vid < 0 || g.vars()[vid].kind == ValueKind::kTensor) continue;
    ctx.in[i] = nullptr;
    ctx.seq_in[i] = &p.values[vid];
  }
  for (size_t o = 0; o < node.outputs.size(); ++o) {
    int vid = node.outputs[o];
    if (g.vars()[vid].kind != ValueKind::kTensor) ctx.seq_out[o] = &p.values[vid];
  }
}

void Network::bind_values(const std::vector<Value>& feeds, bool share) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const Graph& g = *graph_;
  LR_CHECK(feeds.size() == g.inputs().size(), InputError, "the model has ", g.inputs().size(),
           " inputs, ", feeds.size(), " given");
  std::vector<Tensor> tensors(feeds.size());
  std::vector<Value> values(feeds.size());
  std::vector<Shape> shapes(feeds.size());
  for (size_t i = 0; i < feeds.size(); ++i) {
    const Var& v = g.vars()[g.inputs()[i]];
    std::string what = str_cat("input '", v.name, "'");
    Value x = feeds[i].as_kind(v.kind, what);
    if (v.kind == ValueKind::kTensor) {
      LR_CHECK(!x.tensor.empty() || x.tensor.nbytes() == 0, InputError, what, " has no data");
      tensors[i] = x.tensor;
      shapes[i] = x.tensor.shape();
      continue;
    }
    const std::vector<Tensor>* items = &x.items;
    std::vector<Tensor> one;
    if (content_kind(v.kind) == ValueKind::kTensor) {
      if (x.present) one.push_back(x.tensor);
      items = &one;
    }
    for (const Tensor& t : *items)
      LR_CHECK(t.dtype() == v.dtype, InputError, what, ": expected ", dtype_name(v.dtype),
               " elements, got ", dtype_name(t.dtype()));
    // The plan's Values own their elements: the caller's are copied, unless
    // they are the core's own Values (share), never written once made. A
    // tensor fed where an optional is expected is copied either way.
    Value& dst = values[i];
    dst.kind = v.kind;
    dst.elem = v.dtype;
    dst.present = x.present;
    bool copy = !share || feeds[i].kind == ValueKind::kTensor;
    if (content_kind(v.kind) == ValueKind::kTensor) {
      if (x.present) dst.tensor = copy ? x.tensor.clone() : x.tensor;
    } else if (copy) {
      for (const Tensor& t : x.items) dst.items.push_back(t.clone());
    } else {
      dst.items = x.items;
    }
  }
  if (!current_ || current_->key != shapes) compile(shapes);
  if (current_->base || !current_->key_inputs.empty()) select_value_plan(tensors);
  if (opt_.debug_fill_nan) fill_nan(*current_);
  for (size_t i = 0; i < feeds.size(); ++i) {
    int vid = g.inputs()[i];
    if (g.vars()[vid].kind == ValueKind::kTensor) {
      set_input(i, tensors[i]);
    } else {
      current_->values[vid] = std::move(values[i]);
    }
  }
}

Value Network::output_value(size_t i) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  require_compiled();
  int vid = graph_->outputs().at(i);
  if (graph_->vars()[vid].kind == ValueKind::kTensor)
    return Value::of_tensor(current_->tensors[vid].clone());
  return current_->values[vid];
}

std::vector<Value> Network::run_values(const std::vector<Value>& feeds, bool share) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  bind_values(feeds, share);
  execute();
  std::vector<Value> outs;
  for (size_t i = 0; i < graph_->outputs().size(); ++i) outs.push_back(output_value(i));
  return outs;
}

}  // namespace loadrun
