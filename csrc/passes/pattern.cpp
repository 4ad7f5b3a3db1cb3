// Shared helpers of the subgraph fusion passes (see pattern.h).
#include "passes/pattern.h"

#include <cmath>

namespace loadrun {

PatternGraph::PatternGraph(const Graph& g) : g_(g) {
  consumers_.resize(g.vars().size());
  for (const auto& n : g.oprs())
    for (int vid : n->inputs)
      if (vid >= 0) consumers_[vid].push_back(n->id);
  for (int vid : g.outputs()) is_output_.insert(vid);
}

static bool is_onnx(const OprNode& n, const char* type) {
  return n.def && n.def->domain.empty() && n.def->type == type && n.outputs.size() == 1;
}

const OprNode* PatternGraph::producer(int vid, const char* type) const {
  if (vid < 0) return nullptr;
  int p = g_.vars()[vid].producer;
  if (p < 0) return nullptr;
  const OprNode* n = g_.oprs()[p].get();
  return is_onnx(*n, type) ? n : nullptr;
}

const OprNode* PatternGraph::sole_reader(int vid) const {
  if (vid < 0 || is_output_.count(vid)) return nullptr;
  const auto& c = consumers_[vid];
  if (c.empty()) return nullptr;
  for (int id : c)
    if (id != c[0]) return nullptr;  // read twice by one node is fine, by two is not
  const OprNode* n = g_.oprs()[c[0]].get();
  return n->outputs.size() == 1 ? n : nullptr;
}

const OprNode* PatternGraph::sole_consumer(int vid, const char* type) const {
  const OprNode* n = sole_reader(vid);
  return n && is_onnx(*n, type) ? n : nullptr;
}

bool PatternGraph::internal(int vid, const std::set<int>& group) const {
  if (vid < 0 || is_output_.count(vid)) return false;
  for (int id : consumers_[vid])
    if (!group.count(id)) return false;
  return true;
}

bool PatternGraph::scalar(int vid, double* v, bool ints, size_t max_rank) const {
  if (vid < 0) return false;
  const Var& var = g_.vars()[vid];
  if (!var.is_const || var.value.numel() != 1 || var.value.shape().size() > max_rank) return false;
  if (!dtype_is_float(var.dtype) && !(ints && (var.dtype == DType::Int64 || var.dtype == DType::Int32))) return false;
  *v = var.value.get_f64(0);
  return true;
}

bool PatternGraph::scalar_is(int vid, double want, bool ints, size_t max_rank) const {
  double v;
  if (!scalar(vid, &v, ints, max_rank)) return false;
  // The constant's own rounding: a few ulps of its type.
  const DType dt = var(vid).dtype;
  const double tol = dt == DType::Float64 ? 1e-12 : dt == DType::Float32 ? 1e-6
                     : dtype_is_float(dt) ? 1e-2 : 0.0;
  return std::fabs(v - want) <= tol * std::fabs(want);
}

int PatternGraph::other_operand(const OprNode& n, int vid) const {
  if (n.inputs.size() != 2 || n.inputs[0] == n.inputs[1]) return -1;
  if (n.inputs[0] == vid) return n.inputs[1];
  if (n.inputs[1] == vid) return n.inputs[0];
  return -1;
}

bool Rewrite::taken(const std::set<int>& ids) const {
  for (int id : ids)
    if (removed.count(id)) return true;
  return false;
}

void Rewrite::add(int sink, std::set<int> ids, FusedNode node) {
  removed.insert(ids.begin(), ids.end());
  removed.insert(sink);
  at[sink] = std::move(node);
}

std::shared_ptr<const Graph> apply_rewrite(const Graph& g, const Rewrite& rw) {
  auto ng = std::make_shared<Graph>();
  const auto& vars = g.vars();
  for (int vid : g.inputs())
    ng->add_input(vars[vid].name, vars[vid].dtype, vars[vid].shape, vars[vid].kind);
  for (const Var& v : vars)
    if (v.is_const) ng->add_const(v.name, v.value);
  for (const auto& [name, t] : rw.new_consts) ng->add_const(name, t);
  for (const auto& np : g.oprs()) {
    const OprNode& n = *np;
    auto it = rw.at.find(n.id);
    if (it != rw.at.end()) {
      const FusedNode& f = it->second;
      ng->add_opr(f.type, f.domain, f.name, f.attrs, f.inputs, f.outputs);
      continue;
    }
    if (rw.removed.count(n.id)) continue;
    std::vector<std::string> ins, outs;
    for (int vid : n.inputs) ins.push_back(vid < 0 ? "" : vars[vid].name);
    for (int vid : n.outputs) outs.push_back(vars[vid].name);
    ng->add_opr(n.def->type, n.def->domain, n.name, n.attrs, ins, outs);
  }
  for (int vid : g.outputs()) ng->add_output(vars[vid].name);
  return ng;
}

AttrValue attr_int(int64_t v) {
  AttrValue a;
  a.kind = AttrValue::kInt;
  a.i = v;
  return a;
}
AttrValue attr_float(double v) {
  AttrValue a;
  a.kind = AttrValue::kFloat;
  a.f = v;
  return a;
}
AttrValue attr_string(const std::string& s) {
  AttrValue a;
  a.kind = AttrValue::kString;
  a.s = s;
  return a;
}
AttrValue attr_ints(const std::vector<int64_t>& v) {
  AttrValue a;
  a.kind = AttrValue::kInts;
  a.ints = v;
  return a;
}
AttrValue attr_floats(const std::vector<double>& v) {
  AttrValue a;
  a.kind = AttrValue::kFloats;
  a.floats = v;
  return a;
}

}  // namespace loadrun
