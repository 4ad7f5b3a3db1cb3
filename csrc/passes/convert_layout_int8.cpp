// The int8 NCHW44 layout pass (--enable-nchw44-dot, load(layout=
// "nchw44-dot")): every ONNX QLinearConv that QLinearConvNCHW44 can run
// (2-D weights, group 1 or depthwise, constant int8/uint8 weights and constant
// quantisation parameters and B) becomes a QLinearConvNCHW44 (domain
// "loadrun", ops/qlinear_conv_nchw44.cpp) on the blocked layout
// [N, ceil(C/4), H, W, 4], with a ToNCHWc (block 4) before it and a
// FromNCHWc (block 4, channels = OC) after it only where needed:
//  - a converted conv whose input is another converted conv's output reads
//    the blocked tensor directly (chains of convs stay blocked);
//  - a var that several converted convs read is blocked once (the ToNCHWc
//    sits before the first of them);
//  - a converted conv's output is unblocked (by a FromNCHWc that writes the
//    original var, so names are unchanged) only when a graph output names it
//    or some node that is not a converted conv (or a converted conv, at
//    another input than x) reads it.
// Results are bit for bit the same: QLinearConvNCHW44 computes exactly what
// QLinearConv does, and the layout ops only move bytes. The graph is rebuilt
// from the nodes' attributes (Graph is immutable); nothing to convert
// returns the graph given.
#include <map>
#include <set>

#include "passes/passes.h"

namespace loadrun {

namespace {

constexpr int64_t kBlock = 4;

bool is_onnx(const OprNode& n, const char* type) {
  return n.def && n.def->domain.empty() && n.def->type == type;
}

AttrValue int_attr(int64_t v) {
  AttrValue a;
  a.kind = AttrValue::kInt;
  a.i = v;
  return a;
}

class Converter {
 public:
  explicit Converter(const Graph& g) : g_(g) {
    readers_.resize(g.vars().size());
    for (const auto& n : g.oprs())
      for (size_t i = 0; i < n->inputs.size(); ++i)
        if (n->inputs[i] >= 0) readers_[n->inputs[i]].push_back({n->id, i});
    for (int vid : g.outputs()) is_output_.insert(vid);
  }

  std::shared_ptr<const Graph> run(std::shared_ptr<const Graph> orig) {
    for (const auto& n : g_.oprs())
      if (convertible(*n)) converted_.insert(n->id);
    if (converted_.empty()) return orig;
    return rebuild();
  }

 private:
  bool is_const(const OprNode& n, size_t i) const {
    return i < n.inputs.size() && n.inputs[i] >= 0 && g_.vars()[n.inputs[i]].is_const;
  }

  bool convertible(const OprNode& n) const {
    if (!is_onnx(n, "QLinearConv") || n.outputs.size() != 1) return false;
    if (n.inputs.size() < 8 || n.inputs[0] < 0) return false;
    for (size_t i = 1; i < 8; ++i)
      if (!is_const(n, i)) return false;
    if (n.inputs.size() > 8 && n.inputs[8] >= 0 && !is_const(n, 8)) return false;
    const Var& w = g_.vars()[n.inputs[3]];
    if (w.value.shape().size() != 4) return false;
    if (w.dtype != DType::Int8 && w.dtype != DType::Uint8) return false;
    const int64_t group = n.attrs.get_int("group", 1);
    return group == 1 || (w.value.shape()[1] == 1 && group == w.value.shape()[0]);  // depthwise
  }

  // Whether converted conv output `vid` must also exist unblocked.
  bool needs_unblocked(int vid) const {
    if (is_output_.count(vid)) return true;
    for (auto [opr, idx] : readers_[vid])
      if (!converted_.count(opr) || idx != 0) return true;
    return false;
  }

  std::string fresh_name(const std::string& base) {
    std::string n = base;
    while (g_.find_var(n) >= 0 || taken_.count(n)) n += "_";
    taken_.insert(n);
    return n;
  }

  std::shared_ptr<const Graph> rebuild() {
    auto ng = std::make_shared<Graph>();
    const auto& vars = g_.vars();
    for (int vid : g_.inputs())
      ng->add_input(vars[vid].name, vars[vid].dtype, vars[vid].shape, vars[vid].kind);
    for (const Var& v : vars)
      if (v.is_const) ng->add_const(v.name, v.value);
    std::map<int, std::string> blocked;  // var -> its blocked form's name
    for (const auto& np : g_.oprs()) {
      const OprNode& n = *np;
      std::vector<std::string> ins, outs;
      for (int vid : n.inputs) ins.push_back(vid < 0 ? "" : vars[vid].name);
      for (int vid : n.outputs) outs.push_back(vars[vid].name);
      if (!converted_.count(n.id)) {
        ng->add_opr(n.def->type, n.def->domain, n.name, n.attrs, ins, outs);
        continue;
      }
      const int x = n.inputs[0], y = n.outputs[0];
      auto bx = blocked.find(x);
      if (bx == blocked.end()) {
        std::string name = fresh_name(vars[x].name + "_nchw44");
        Attrs a;
        a.set("block", int_attr(kBlock));
        ng->add_opr("ToNCHWc", "loadrun", n.name + "/to_nchw44", a, {vars[x].name}, {name});
        bx = blocked.emplace(x, name).first;
      }
      ins[0] = bx->second;
      const std::string yb = fresh_name(vars[y].name + "_nchw44");
      blocked[y] = yb;
      ng->add_opr("QLinearConvNCHW44", "loadrun", n.name, n.attrs, ins, {yb});
      if (needs_unblocked(y)) {
        Attrs a;
        a.set("block", int_attr(kBlock));
        a.set("channels", int_attr(vars[n.inputs[3]].value.shape()[0]));
        ng->add_opr("FromNCHWc", "loadrun", n.name + "/from_nchw44", a, {yb}, {vars[y].name});
      }
    }
    for (int vid : g_.outputs()) ng->add_output(vars[vid].name);
    return ng;
  }

  const Graph& g_;
  std::vector<std::vector<std::pair<int, size_t>>> readers_;  // (opr, input index)
  std::set<int> is_output_;
  std::set<int> converted_;
  std::set<std::string> taken_;
};

}  // namespace

std::shared_ptr<const Graph> convert_nchw44_dot(std::shared_ptr<const Graph> g) {
  return Converter(*g).run(g);
}

}  // namespace loadrun
