// Compile stage of a Network (see runtime/plan.h): inference, folding,
// algorithm choice, and the dynamic-shape analysis compile does.
#include "runtime/network.h"
#include "runtime/plan.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "core/errors.h"
#include "runtime/compile_pass.h"

namespace loadrun {

namespace {

void check_input_shape(const Var& v, const Shape& given) {
  if (v.shape.size() != given.size()) {
    LR_THROW(InputError, "input '", v.name, "': model expects ", v.shape.size(),
             " dims ", shape_str(v.shape), ", got ", given.size(), " dims ", shape_str(given));
  }
  for (size_t d = 0; d < given.size(); ++d) {
    LR_CHECK(given[d] >= 0, InputError, "input '", v.name, "': dim ", d, " is negative");
    if (v.shape[d] >= 0 && v.shape[d] != given[d]) {
      LR_THROW(InputError, "input '", v.name, "': dim ", d, " must be ", v.shape[d], ", got ",
               given[d], " (model shape ", shape_str(v.shape), ", given ", shape_str(given), ")");
    }
  }
}

}  // namespace

// Compile: shape and dtype inference, folding of what compile time knows,
// and algorithm choice, node by node in graph order. A node whose shapes
// or values are known only at run time becomes a dynamic step (algo null).
Network::Choices Network::compile_steps(Plan& p, const std::vector<Shape>& input_shapes,
                                         const std::vector<const Tensor*>& input_values) {
  const Graph& g = *graph_;
  LR_CHECK(input_shapes.size() == g.inputs().size(), InputError, "the model has ",
           g.inputs().size(), " inputs, ", input_shapes.size(), " shapes given");
  p.key = input_shapes;
  size_t nv = g.vars().size();
  p.layouts.resize(nv);
  p.tensors.resize(nv);
  p.known.assign(nv, 0);
  p.dyn.assign(nv, 0);
  if (g.has_non_tensor()) init_values(p);
  std::vector<char> ready(nv, 0);
  for (const Var& v : g.vars()) {
    if (v.is_const) {
      p.layouts[v.id] = v.value.layout();
      p.tensors[v.id] = v.value;
      p.known[v.id] = !v.value.empty();  // freed after preprocessing: its layout only
      ready[v.id] = 1;
    }
  }
  for (size_t i = 0; i < g.inputs().size(); ++i) {
    const Var& v = g.vars()[g.inputs()[i]];
    if (v.kind != ValueKind::kTensor) {  // a Value: no shape (init_values made it dynamic)
      ready[v.id] = 1;
      continue;
    }
    check_input_shape(v, input_shapes[i]);
    p.layouts[v.id] = Layout(input_shapes[i], v.dtype);
    checked_nbytes(p.layouts[v.id], str_cat("input '", v.name, "'"));  // InputError when absurd
    ready[v.id] = 1;
    if (i < input_values.size() && input_values[i]) {  // a value the plan is keyed on
      p.tensors[v.id] = input_values[i]->clone();
      p.known[v.id] = 1;
    }
  }

  // Shape inference and folding of what is known.
  Choices choices;
  std::vector<const OprNode*>& runtime_nodes = choices.nodes;
  std::vector<CompileStep> steps;
  for (const auto& node_ptr : g.oprs()) {
    const OprNode& node = *node_ptr;
    std::string where = node.name + " (" + node.def->type + "): ";
    InferCtx ic;
    ic.runtime = this;
    bool all_known = true;
    for (int vid : node.inputs) {
      if (vid < 0) {
        ic.in.push_back(nullptr);
        ic.values.push_back(nullptr);
        continue;
      }
      LR_CHECK(ready[vid], InternalError, where, "input '", g.vars()[vid].name, "' not ready");
      ic.in.push_back(&p.layouts[vid]);
      ic.values.push_back(p.known[vid] ? &p.tensors[vid] : nullptr);
      all_known = all_known && p.known[vid];
    }
    ic.out.assign(node.outputs.size(), Layout(Shape{-1}, DType::Float32));
    if (!infer_at_compile(p, node, ic, where)) {  // shapes known only at run time
      LR_CHECK(!pinned_.count(node.id), InputError, where,
               "its weights were freed after preprocessing, and these inputs leave its shapes to "
               "run time; load with --no-weight-preprocess (weight_preprocess=False) or "
               "free_weights=False");
      for (int vid : node.outputs) {
        p.layouts[vid] = Layout(Shape{-1}, DType::Float32);
        p.dyn[vid] = 1;
        ready[vid] = 1;
      }
      p.has_dynamic = true;
      steps.push_back({&node, true, -1});
      continue;
    }
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      const Layout& l = ic.out[o];
      for (int64_t d : l.shape)
        LR_CHECK(d >= 0, ModelError, where, "the operator gives no output ", o,
                 " (the node has more outputs than the operator makes, or its inputs leave it unset)");
      checked_nbytes(l, str_cat(where, "output ", o));
      p.layouts[node.outputs[o]] = l;
      ready[node.outputs[o]] = 1;
    }
    bool fold = node.op->shape_only() || (all_known && node.op->foldable());
    if (fold) {
      KernCtx kc;
      kc.comp_node = cn_;
      kc.runtime = this;
      std::vector<Tensor> shells(node.inputs.size());
      for (size_t i = 0; i < node.inputs.size(); ++i) {
        int vid = node.inputs[i];
        if (vid < 0) {
          kc.in.push_back(nullptr);
        } else if (p.known[vid]) {
          kc.in.push_back(&p.tensors[vid]);
        } else {  // shape-only op: the layout is all it reads
          shells[i] = Tensor::borrow(p.layouts[vid], nullptr);
          kc.in.push_back(&shells[i]);
        }
      }
      for (int vid : node.outputs) {
        p.tensors[vid] = Tensor(p.layouts[vid]);
        kc.out.push_back(&p.tensors[vid]);
      }
      const Algo* naive = node.def->algos.front();
      InLayouts in_l(ic.in);
      size_t ws = naive->workspace(*node.op, in_l, ic.out);
      std::shared_ptr<uint8_t> wsbuf;
      if (ws) {
        wsbuf = alloc_aligned(workspace_total(ws, cn_->num_threads()));
        kc.workspace = wsbuf.get();
        kc.workspace_size = ws;
        kc.workspace_stride = workspace_stride(ws);
      }
      with_context(where, [&] { naive->exec(*node.op, kc); });
      for (int vid : node.outputs) p.known[vid] = 1;
      continue;
    }
    steps.push_back({&node, false, -1});
  }

  // Compile passes (runtime/compile_pass.h): what the shapes allow.
  if (opt_.optimize) {
    CompileView view{g, p.layouts, p.known, p.tensors, steps};
    for (const auto& pass : compile_passes())
      with_context(str_cat("compile pass ", pass->name(), ": "), [&] { pass->run(view); });
  }

  // Algorithm choice for every step known now.
  for (const CompileStep& st : steps) {
    const OprNode& node = *st.node;
    runtime_nodes.push_back(&node);
    choices.view_of.push_back(st.dynamic ? -1 : st.view_of);
    if (st.dynamic) {
      choices.algos.push_back(nullptr);
      continue;
    }
    InLayouts in;
    std::vector<const Tensor*> values;
    OutLayouts out;
    for (int vid : node.inputs) {
      in.push_back(vid < 0 ? nullptr : &p.layouts[vid]);
      values.push_back(vid >= 0 && p.known[vid] ? &p.tensors[vid] : nullptr);
    }
    for (int vid : node.outputs) out.push_back(p.layouts[vid]);
    const Algo* pinned = pinned_algo(p, node, in, out);
    if (!pinned)  // the weights may have just been rebuilt
      for (size_t i = 0; i < node.inputs.size(); ++i)
        if (node.inputs[i] >= 0) values[i] = p.known[node.inputs[i]] ? &p.tensors[node.inputs[i]] : nullptr;
    choices.algos.push_back(pinned ? pinned
                                   : with_context(str_cat(node.name, " (", node.def->type, "): "),
                                                  [&] { return chooser_.choose(node, in, out, values); }));
  }
  return choices;
}

const Algo* Network::pinned_algo(Plan& p, const OprNode& node, const InLayouts& in,
                                 const OutLayouts& out) {
  auto it = pinned_.find(node.id);
  if (it == pinned_.end()) return nullptr;
  const Pinned& pin = it->second;
  if (pin.algo->usable(*node.op, in, out) && pin.algo->preprocess_key(*node.op, in) == pin.key)
    return pin.algo;
  // These shapes need another form: the original back, from the prepared one.
  const int vid = node.inputs[static_cast<size_t>(pin.prepared.replaces)];
  InLayouts then;
  for (size_t i = 0; i < pin.in_layouts.size(); ++i)
    then.push_back(pin.in_present[i] ? &pin.in_layouts[i] : nullptr);
  Tensor w = pin.algo->unprepare(*node.op, then, pin.prepared);
  LR_CHECK(!w.empty(), InputError, node.label(), ": its weights were freed after ", pin.algo->name(),
           " preprocessed them for the first input shapes, and these shapes need another form; "
           "load with --no-weight-preprocess (weight_preprocess=False) or free_weights=False "
           "to run other shapes");
  const_cast<Graph&>(*graph_).restore_value(vid, w);  // this network's alone (bind.cpp)
  released_.erase(std::remove(released_.begin(), released_.end(), vid), released_.end());
  released_bytes_ -= w.nbytes();
  for (auto pi = pinned_.begin(); pi != pinned_.end();) {
    const OprNode& reader = *graph_->oprs()[static_cast<size_t>(pi->first)];
    bool reads = std::find(reader.inputs.begin(), reader.inputs.end(), vid) != reader.inputs.end();
    pi = reads ? pinned_.erase(pi) : std::next(pi);
  }
  p.tensors[vid] = w;
  p.known[vid] = 1;
  return nullptr;
}

namespace {

constexpr int64_t kMaxKeyElems = 64;  // a graph input keys plans when it is this small

bool keyable(const Layout& l) {
  switch (l.dtype) {
    case DType::Int8: case DType::Uint8: case DType::Int16: case DType::Uint16:
    case DType::Int32: case DType::Uint32: case DType::Int64: case DType::Uint64:
      return l.numel() <= kMaxKeyElems;
    default:
      return false;
  }
}

}  // namespace

// Infers `node` at compile time; false when it must be inferred at run time
// (an input's layout is only known then, or its inference wants a value that
// is). A wanted value that follows from small integer graph inputs alone
// adds those inputs to p.wants.
bool Network::infer_at_compile(Plan& p, const OprNode& node, InferCtx& ic,
                               const std::string& where) {
  for (int vid : node.inputs)
    if (vid >= 0 && p.dyn[vid]) return false;
  if (graph_->has_non_tensor() && makes_values(node)) return false;
  try {
    with_context(where, [&] { node.op->infer(ic); });
  } catch (const UnsupportedError&) {
    if (ic.missing_value < 0 || static_cast<size_t>(ic.missing_value) >= node.inputs.size())
      throw;
    std::vector<int> inputs;
    std::map<int, bool> memo;
    if (value_sources(p, node.inputs[ic.missing_value], inputs, memo)) {
      for (int i : inputs)
        if (std::find(p.wants.begin(), p.wants.end(), i) == p.wants.end()) p.wants.push_back(i);
      std::sort(p.wants.begin(), p.wants.end());
    }
    return false;
  }
  return true;
}

// True when var `vid`'s value follows, through foldable nodes, from constants
// and keyable graph inputs; their input indices are added to `inputs`.
bool Network::value_sources(const Plan& p, int vid, std::vector<int>& inputs,
                            std::map<int, bool>& memo) const {
  if (p.known[vid]) return true;
  if (p.dyn[vid]) return false;
  auto m = memo.find(vid);
  if (m != memo.end()) return m->second;
  const Graph& g = *graph_;
  const Var& v = g.vars()[vid];
  bool ok = false;
  if (v.is_input) {
    ok = keyable(p.layouts[vid]);
    if (ok) {
      auto it = std::find(g.inputs().begin(), g.inputs().end(), vid);
      inputs.push_back(static_cast<int>(it - g.inputs().begin()));
    }
  } else if (v.producer >= 0) {
    const OprNode& n = *g.oprs()[v.producer];
    ok = n.op->foldable() && !n.op->shape_only();
    for (int in : n.inputs)
      if (ok && in >= 0) ok = value_sources(p, in, inputs, memo);
  }
  memo[vid] = ok;
  return ok;
}

}  // namespace loadrun
