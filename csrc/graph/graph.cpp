#include "graph/graph.h"

#include "core/errors.h"

namespace loadrun {

std::string OprNode::label() const { return name + "{" + (def ? def->type : "?") + "}"; }

int Graph::new_var(const std::string& name) {
  LR_CHECK(!name.empty(), ModelError, "a tensor has an empty name");
  LR_CHECK(!by_name_.count(name), ModelError, "tensor '", name, "' is defined twice");
  Var v;
  v.id = static_cast<int>(vars_.size());
  v.name = name;
  vars_.push_back(std::move(v));
  by_name_[name] = vars_.back().id;
  return vars_.back().id;
}

int Graph::find_var(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? -1 : it->second;
}

int Graph::add_input(const std::string& name, DType dtype, const Shape& shape, ValueKind kind) {
  int id = new_var(name);
  Var& v = vars_[id];
  v.kind = kind;
  non_tensor_ = non_tensor_ || kind != ValueKind::kTensor;
  v.dtype = dtype;
  v.shape = shape;
  v.is_input = true;
  inputs_.push_back(id);
  return id;
}

int Graph::add_const(const std::string& name, const Tensor& value) {
  int id = new_var(name);
  Var& v = vars_[id];
  v.dtype = value.dtype();
  v.shape = value.shape();
  v.is_const = true;
  v.value = value;
  return id;
}

int Graph::add_opr(const std::string& type, const std::string& domain, const std::string& name,
                   const Attrs& attrs, const std::vector<std::string>& inputs,
                   const std::vector<std::string>& outputs) {
  const OpDef* def = OpRegistry::get().find(domain, type);
  std::string dom = domain.empty() ? "ai.onnx" : domain;
  LR_CHECK(def, UnsupportedError, "unsupported operator ", type, " (domain ", dom, ") at node '",
           name, "'");
  auto node = std::make_unique<OprNode>();
  node->id = static_cast<int>(oprs_.size());
  node->name = name;
  node->def = def;
  int n_in = static_cast<int>(inputs.size());
  LR_CHECK(n_in >= def->min_inputs && n_in <= def->max_inputs, ModelError, "node '", name, "' (",
           type, "): ", n_in, " inputs given, expected ", def->min_inputs, "..", def->max_inputs);
  for (const auto& in : inputs) {
    if (in.empty()) {
      node->inputs.push_back(-1);
      continue;
    }
    int id = find_var(in);
    LR_CHECK(id >= 0, ModelError, "node '", name, "' (", type, ") reads tensor '", in,
             "' which nothing produced before it (graph not in topological order?)");
    node->inputs.push_back(id);
  }
  node->op = with_context(str_cat("node '", name, "' (", type, "): "),
                          [&] { return def->create(attrs); });
  node->op->def = def;
  node->attrs = attrs;
  std::vector<ValueKind> in_kinds, out_kinds(outputs.size(), ValueKind::kTensor);
  for (int id : node->inputs) in_kinds.push_back(id < 0 ? ValueKind::kTensor : vars_[id].kind);
  with_context(str_cat("node '", name, "' (", type, "): "),
               [&] { node->op->value_kinds(in_kinds, out_kinds); });
  for (const auto& out : outputs) {
    if (out.empty()) {  // unused optional output: give it a private name
      int id = new_var(str_cat("__unused_", node->id, "_", node->outputs.size()));
      vars_[id].producer = node->id;
      node->outputs.push_back(id);
      continue;
    }
    int id = new_var(out);
    vars_[id].producer = node->id;
    node->outputs.push_back(id);
  }
  for (size_t o = 0; o < node->outputs.size(); ++o) {
    vars_[node->outputs[o]].kind = out_kinds[o];
    non_tensor_ = non_tensor_ || out_kinds[o] != ValueKind::kTensor;
  }
  oprs_.push_back(std::move(node));
  return oprs_.back()->id;
}

void Graph::add_output(const std::string& name) {
  int id = find_var(name);
  LR_CHECK(id >= 0, ModelError, "graph output '", name, "' is not produced by any node");
  outputs_.push_back(id);
}

void Graph::retype_input(size_t i, DType dtype, const Shape& shape) {
  LR_CHECK(i < inputs_.size(), InternalError, "graph input ", i, " does not exist");
  Var& v = vars_[inputs_[i]];
  v.dtype = dtype;
  v.shape = shape;
}

void Graph::release_value(int vid) {
  Var& v = vars_.at(static_cast<size_t>(vid));
  LR_CHECK(v.is_const, InternalError, "release_value: '", v.name, "' is not a constant");
  v.value = Tensor::view(v.value.layout(), nullptr, 0);
}

void Graph::restore_value(int vid, const Tensor& value) {
  Var& v = vars_.at(static_cast<size_t>(vid));
  LR_CHECK(v.is_const && v.value.empty() && value.layout().same_shape_dtype(v.value.layout()),
           InternalError, "restore_value: '", v.name, "' was not released with this layout");
  v.value = value;
}

std::shared_ptr<Graph> Graph::clone() const {
  auto ng = std::make_shared<Graph>();
  for (int vid : inputs_) ng->add_input(vars_[vid].name, vars_[vid].dtype, vars_[vid].shape, vars_[vid].kind);
  for (const Var& v : vars_)
    if (v.is_const) ng->add_const(v.name, v.value);
  for (const auto& n : oprs_) {
    std::vector<std::string> ins, outs;
    for (int vid : n->inputs) ins.push_back(vid < 0 ? "" : vars_[vid].name);
    for (int vid : n->outputs) outs.push_back(vars_[vid].name);
    ng->add_opr(n->def->type, n->def->domain, n->name, n->attrs, ins, outs);
  }
  for (int vid : outputs_) ng->add_output(vars_[vid].name);
  return ng;
}

}  // namespace loadrun
