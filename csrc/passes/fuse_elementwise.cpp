// Elementwise-chain fusion: a connected group of unary and binary
// elementwise float ops (ai.onnx Relu, LeakyRelu, Clip with constant bounds,
// HardSigmoid, HardSwish, Sigmoid, Swish, Tanh, Exp, Log, Erf, Gelu, Sqrt,
// Reciprocal, Neg, Abs; Add, Sub, Mul, Div, two-input Max and Min) whose
// intermediate values feed only the group (and are no graph outputs) becomes
// one ElementwiseChain node (ops/elementwise_chain.cpp): one pass over memory
// instead of one per op. The 9-op tanh GELU of exported transformers, x *
// sigmoid(x) (SiLU) after a Conv, the HardSwish spelt Add/Clip/Mul/Div.
//
// Groups grow from each sink (walking the graph backwards, so consumers come
// first) by absorbing a producer when every reader of its output is already
// in the group. Dtypes are not known in a pass, so a group is fused only
// when it is surely a float one: it holds an op defined on floats only
// (Sigmoid, Tanh, Exp, ...: not Relu, Neg, Abs, Clip or the arithmetic) or a
// float constant operand (binary ops take one dtype on both sides). At most
// kMaxSteps steps and kMaxInputs inputs; the fused node takes the sink's
// place, name and output.
#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "core/errors.h"
#include "kernels/eltwise.h"
#include "passes/passes.h"

namespace loadrun {

namespace {

constexpr int kBinaryBase = 100;  // as ops/elementwise_chain.cpp
constexpr size_t kMaxSteps = 32;
constexpr size_t kMaxInputs = 16;

struct StepDesc {
  int code = 0;
  float p0 = 0, p1 = 0;
  int arity = 1;
  bool float_only = false;
};

class ChainFuser {
 public:
  explicit ChainFuser(const Graph& g) : g_(g) {
    consumers_.resize(g.vars().size());
    for (const auto& n : g.oprs())
      for (int vid : n->inputs)
        if (vid >= 0) consumers_[vid].insert(n->id);
    for (int vid : g.outputs()) is_output_.insert(vid);
  }

  std::shared_ptr<const Graph> run(std::shared_ptr<const Graph> orig) {
    const auto& oprs = g_.oprs();
    for (size_t i = oprs.size(); i-- > 0;) {
      const OprNode& n = *oprs[i];
      StepDesc d;
      if (group_of_.count(n.id) || !describe(n, &d)) continue;
      grow(n.id);
    }
    if (groups_.empty()) return orig;
    return rebuild();
  }

 private:
  using UK = kernels::UnaryKind;
  using BK = kernels::BinaryKind;

  // The step an opr would be, if it is one the chain op runs.
  bool describe(const OprNode& n, StepDesc* d) const {
    if (!n.def || !n.def->domain.empty() || n.outputs.size() != 1 || n.inputs.empty() ||
        n.inputs[0] < 0)
      return false;
    const std::string& t = n.def->type;
    static const struct {
      const char* type;
      UK kind;
      bool float_only;
    } kUnary[] = {{"Relu", UK::Relu, false},          {"Neg", UK::Neg, false},
                  {"Abs", UK::Abs, false},            {"Sigmoid", UK::Sigmoid, true},
                  {"Tanh", UK::Tanh, true},           {"Exp", UK::Exp, true},
                  {"Log", UK::Log, true},             {"Erf", UK::Erf, true},
                  {"Sqrt", UK::Sqrt, true},           {"Reciprocal", UK::Reciprocal, true},
                  {"HardSwish", UK::HardSwish, true}, {"LeakyRelu", UK::LeakyRelu, true},
                  {"HardSigmoid", UK::HardSigmoid, true}, {"Swish", UK::Swish, true},
                  {"Gelu", UK::Gelu, true},           {"Clip", UK::Clip, false}};
    for (const auto& e : kUnary) {
      if (t != e.type) continue;
      d->code = static_cast<int>(e.kind);
      d->float_only = e.float_only;
      d->arity = 1;
      if (e.kind == UK::LeakyRelu) d->p0 = static_cast<float>(n.attrs.get_float("alpha", 0.01));
      if (e.kind == UK::Swish) d->p0 = static_cast<float>(n.attrs.get_float("alpha", 1.0));
      if (e.kind == UK::HardSigmoid) {
        d->p0 = static_cast<float>(n.attrs.get_float("alpha", 0.2));
        d->p1 = static_cast<float>(n.attrs.get_float("beta", 0.5));
      }
      if (e.kind == UK::Gelu) {
        std::string approx = n.attrs.get_string("approximate", "none");
        if (approx == "tanh") {
          d->code = static_cast<int>(UK::GeluTanh);
        } else if (approx != "none") {
          return false;  // the op reports it
        }
      }
      if (e.kind == UK::Clip) return clip_bounds(n, d);
      return n.inputs.size() == 1;
    }
    static const struct {
      const char* type;
      BK kind;
    } kBinary[] = {{"Add", BK::Add}, {"Sub", BK::Sub}, {"Mul", BK::Mul},
                   {"Div", BK::Div}, {"Max", BK::Max}, {"Min", BK::Min}};
    for (const auto& e : kBinary) {
      if (t != e.type) continue;
      if (n.inputs.size() != 2 || n.inputs[1] < 0) return false;
      d->code = kBinaryBase + static_cast<int>(e.kind);
      d->arity = 2;
      return true;
    }
    return false;
  }

  // Clip's bounds: constant single floats or absent (then the float limits).
  bool clip_bounds(const OprNode& n, StepDesc* d) const {
    float lo = -std::numeric_limits<float>::infinity(), hi = -lo;
    if (n.attrs.has("min") || n.attrs.has("max")) return false;  // opset < 11: left alone
    for (size_t i = 1; i < n.inputs.size(); ++i) {
      if (n.inputs[i] < 0) continue;
      const Var& v = g_.vars()[n.inputs[i]];
      if (!v.is_const || v.value.numel() != 1 || v.dtype != DType::Float32) return false;
      (i == 1 ? lo : hi) = static_cast<float>(v.value.get_f64(0));
    }
    d->p0 = lo;
    d->p1 = hi;
    d->float_only = n.inputs.size() > 1;  // float32 bounds: a float32 Clip
    return true;
  }

  int producer(int vid) const { return vid < 0 ? -1 : g_.vars()[vid].producer; }

  // Grows a group from sink `id` and keeps it if it is worth and surely float.
  void grow(int sink) {
    std::set<int> grp{sink};
    for (bool changed = true; changed;) {
      changed = false;
      for (int id : std::vector<int>(grp.begin(), grp.end())) {
        const OprNode& n = *g_.oprs()[id];
        StepDesc d;
        describe(n, &d);
        for (int k = 0; k < d.arity; ++k) {
          int vid = n.inputs[k];
          int p = producer(vid);
          if (p < 0 || grp.count(p) || group_of_.count(p) || is_output_.count(vid)) continue;
          StepDesc pd;
          if (!describe(*g_.oprs()[p], &pd)) continue;
          bool all_in = true;
          for (int c : consumers_[vid]) all_in = all_in && grp.count(c);
          if (!all_in || grp.size() >= kMaxSteps) continue;
          grp.insert(p);
          changed = true;
        }
      }
    }
    if (grp.size() < 2) return;
    // Inputs: the operand vars no step of the group produces.
    std::vector<int> inputs;
    bool is_float = false;
    for (int id : grp) {
      const OprNode& n = *g_.oprs()[id];
      StepDesc d;
      describe(n, &d);
      is_float = is_float || d.float_only;
      for (int k = 0; k < d.arity; ++k) {
        int vid = n.inputs[k];
        if (grp.count(producer(vid))) continue;
        const Var& v = g_.vars()[vid];
        if (v.is_const) {
          if (!dtype_is_float(v.dtype)) return;  // an integer chain
          is_float = true;
        }
        if (std::find(inputs.begin(), inputs.end(), vid) == inputs.end()) inputs.push_back(vid);
      }
    }
    if (!is_float || inputs.size() > kMaxInputs) return;
    for (int id : grp) group_of_[id] = sink;
    groups_[sink] = {std::vector<int>(grp.begin(), grp.end()), inputs};  // ids ascending: in order
  }

  std::shared_ptr<const Graph> rebuild() {
    auto ng = std::make_shared<Graph>();
    const auto& vars = g_.vars();
    for (int vid : g_.inputs())
      ng->add_input(vars[vid].name, vars[vid].dtype, vars[vid].shape, vars[vid].kind);
    for (const Var& v : vars)
      if (v.is_const) ng->add_const(v.name, v.value);
    for (const auto& np : g_.oprs()) {
      const OprNode& n = *np;
      auto gi = group_of_.find(n.id);
      if (gi == group_of_.end()) {
        std::vector<std::string> ins, outs;
        for (int vid : n.inputs) ins.push_back(vid < 0 ? "" : vars[vid].name);
        for (int vid : n.outputs) outs.push_back(vars[vid].name);
        ng->add_opr(n.def->type, n.def->domain, n.name, n.attrs, ins, outs);
        continue;
      }
      if (gi->second != n.id) continue;  // absorbed: the sink emits the group
      const Group& grp = groups_.at(n.id);
      std::map<int, int> operand;  // var -> operand code
      std::vector<std::string> ins;
      for (size_t i = 0; i < grp.inputs.size(); ++i) {
        operand[grp.inputs[i]] = static_cast<int>(i);
        ins.push_back(vars[grp.inputs[i]].name);
      }
      AttrValue steps, params;
      steps.kind = AttrValue::kInts;
      params.kind = AttrValue::kFloats;
      for (size_t s = 0; s < grp.steps.size(); ++s) {
        const OprNode& m = *g_.oprs()[grp.steps[s]];
        StepDesc d;
        describe(m, &d);
        steps.ints.push_back(d.code);
        steps.ints.push_back(operand.at(m.inputs[0]));
        steps.ints.push_back(d.arity == 2 ? operand.at(m.inputs[1]) : 0);
        params.floats.push_back(d.p0);
        params.floats.push_back(d.p1);
        operand[m.outputs[0]] = -1 - static_cast<int>(s);
      }
      Attrs attrs;
      attrs.set("steps", steps);
      attrs.set("params", params);
      ng->add_opr("ElementwiseChain", "loadrun", n.name, attrs, ins, {vars[n.outputs[0]].name});
    }
    for (int vid : g_.outputs()) ng->add_output(vars[vid].name);
    return ng;
  }

  struct Group {
    std::vector<int> steps;   // opr ids, in graph order
    std::vector<int> inputs;  // var ids
  };

  const Graph& g_;
  std::vector<std::set<int>> consumers_;
  std::set<int> is_output_;
  std::map<int, int> group_of_;  // opr id -> its group's sink
  std::map<int, Group> groups_;  // sink -> group
};

}  // namespace

std::shared_ptr<const Graph> fuse_elementwise_chains(std::shared_ptr<const Graph> g) {
  return ChainFuser(*g).run(g);
}

}  // namespace loadrun
