// Conv + BatchNormalization + activation fusion (what ONNX Runtime's default
// optimisations do for these chains). For each Conv (ai.onnx):
//  1. BN folding: when the Conv's output feeds only an inference
//     BatchNormalization (and is not a graph output), the Conv's weight and
//     bias are constants (float32) and so are the BN's four parameters,
//     the BN becomes part of the Conv: with a = scale / sqrt(var + eps),
//     W'[oc] = a[oc] W[oc] and B'[oc] = a[oc] (B[oc] - mean[oc]) + bias[oc]
//     (computed in double, stored as new constants).
//  2. Residual fusion: when the (folded) Conv's output feeds only an Add
//     whose other input is not a constant (a constant addend is a broadcast
//     bias-like term: left to the Add), the Add moves into the Conv as its
//     residual input (ops/conv.h: kResidualAttr; input 3), added after the
//     bias and before the activation. The fused Conv is placed where the Add
//     was, so the residual is computed before it. Shapes are not known here:
//     a residual that broadcasts is still right (the Conv's output takes the
//     Add's shape; only NAIVE takes such a residual).
//  3. Activation fusion: when the (folded) Conv's output feeds only a Relu,
//     Clip (constant or absent bounds; Clip(0, 6) is Relu6), HardSwish,
//     Sigmoid, LeakyRelu, HardSigmoid, Swish, Tanh or Gelu (either form),
//     the activation moves into the Conv as its fused activation
//     (ops/conv.h: kActAttr), which every Conv algorithm applies in its
//     epilogue with the shared definitions of kernels/activation.h.
// The fused Conv takes the name of its node and the output name of the last
// node it absorbed, so graph outputs and downstream nodes are untouched.
// The graph is rebuilt (Graph is immutable) from the nodes' attributes.
#include <cmath>
#include <limits>
#include <set>

#include "core/errors.h"
#include "ops/conv.h"
#include "passes/passes.h"

namespace loadrun {

namespace {

struct Fusion {
  int conv = -1;
  std::vector<int> absorbed;      // opr ids removed into the conv
  int out_var = -1;               // the fused conv's output
  Tensor weight, bias;            // folded constants (empty: keep the inputs)
  std::string act;                // "" or an activation name (ops/conv.h)
  int residual = -1;              // var added as residual (-1: none)
  int add = -1;                   // the absorbed Add (the fused conv's place)
  std::vector<double> act_params;
};

bool is_onnx(const OprNode& n, const char* type) {
  return n.def && n.def->domain.empty() && n.def->type == type;
}

class Fuser {
 public:
  explicit Fuser(const Graph& g) : g_(g) {
    consumers_.resize(g.vars().size());
    for (const auto& n : g.oprs())
      for (int vid : n->inputs)
        if (vid >= 0) consumers_[vid].push_back(n->id);
    for (int vid : g.outputs()) is_output_.insert(vid);
  }

  std::shared_ptr<const Graph> run(std::shared_ptr<const Graph> orig) {
    for (const auto& n : g_.oprs())
      if (is_onnx(*n, "Conv") && !removed_.count(n->id)) try_fuse(*n);
    if (fusions_.empty()) return orig;
    return rebuild();
  }

 private:
  // The single opr reading var vid, or null (several readers, a graph output).
  const OprNode* sole_consumer(int vid) const {
    if (is_output_.count(vid) || consumers_[vid].size() != 1) return nullptr;
    return g_.oprs()[consumers_[vid][0]].get();
  }
  const Var* const_f32(const OprNode& n, size_t i) const {
    if (i >= n.inputs.size() || n.inputs[i] < 0) return nullptr;
    const Var& v = g_.vars()[n.inputs[i]];
    return v.is_const && v.dtype == DType::Float32 ? &v : nullptr;
  }

  void try_fuse(const OprNode& conv) {
    if (conv.attrs.has(kActAttr) || conv.outputs.size() != 1) return;
    Fusion f;
    f.conv = conv.id;
    f.out_var = conv.outputs[0];
    // 1. BatchNormalization.
    const OprNode* bn = sole_consumer(f.out_var);
    const Var* w = const_f32(conv, 1);
    bool has_bias = conv.inputs.size() > 2 && conv.inputs[2] >= 0;
    const Var* b = has_bias ? const_f32(conv, 2) : nullptr;
    if (bn && is_onnx(*bn, "BatchNormalization") && bn->inputs[0] == f.out_var && w &&
        (!has_bias || b) && fold_bn(*bn, *w, b, &f)) {
      f.absorbed.push_back(bn->id);
      f.out_var = bn->outputs[0];
    }
    // 2. Residual Add.
    const OprNode* add = sole_consumer(f.out_var);
    if (add && is_onnx(*add, "Add") && !removed_.count(add->id) && add->inputs.size() == 2 && add->outputs.size() == 1 &&
        add->inputs[0] != add->inputs[1]) {
      int other = add->inputs[0] == f.out_var ? add->inputs[1] : add->inputs[0];
      if (other >= 0 && !g_.vars()[other].is_const) {
        f.absorbed.push_back(add->id);
        f.residual = other;
        f.add = add->id;
        f.out_var = add->outputs[0];
      }
    }
    // 3. Activation.
    const OprNode* act = sole_consumer(f.out_var);
    if (act && act->outputs.size() == 1 && act->inputs[0] == f.out_var && activation(*act, &f)) {
      f.absorbed.push_back(act->id);
      f.out_var = act->outputs[0];
    }
    if (f.absorbed.empty()) return;
    for (int id : f.absorbed) removed_.insert(id);
    fusions_[conv.id] = std::move(f);
  }

  bool fold_bn(const OprNode& bn, const Var& w, const Var* b, Fusion* f) {
    if (bn.outputs.size() != 1 || bn.inputs.size() != 5) return false;
    if (bn.attrs.get_int("training_mode", 0) != 0) return false;
    int64_t oc = w.shape.empty() ? 0 : w.shape[0];
    const Var* p[4];
    for (int i = 0; i < 4; ++i) {
      p[i] = const_f32(bn, i + 1);
      if (!p[i] || p[i]->value.shape() != Shape{oc}) return false;
    }
    if (b && b->value.shape() != Shape{oc}) return false;
    double eps = bn.attrs.get_float("epsilon", 1e-5);
    const float *scale = p[0]->value.ptr<float>(), *shift = p[1]->value.ptr<float>();
    const float *mean = p[2]->value.ptr<float>(), *var = p[3]->value.ptr<float>();
    f->weight = w.value.clone();
    f->bias = Tensor(Layout(Shape{oc}, DType::Float32));
    float* nw = f->weight.ptr<float>();
    float* nb = f->bias.ptr<float>();
    int64_t per = oc ? w.value.numel() / oc : 0;
    for (int64_t c = 0; c < oc; ++c) {
      double a = scale[c] / std::sqrt(static_cast<double>(var[c]) + eps);
      for (int64_t i = 0; i < per; ++i) nw[c * per + i] = static_cast<float>(a * nw[c * per + i]);
      double b0 = b ? b->value.ptr<float>()[c] : 0.0;
      nb[c] = static_cast<float>(a * (b0 - mean[c]) + shift[c]);
    }
    return true;
  }

  bool activation(const OprNode& n, Fusion* f) const {
    if (!n.def || !n.def->domain.empty()) return false;
    const std::string& t = n.def->type;
    if (t == "Relu" || t == "HardSwish" || t == "Sigmoid" || t == "Tanh") {
      f->act = t;
      return true;
    }
    if (t == "LeakyRelu") {
      f->act = t;
      f->act_params = {n.attrs.get_float("alpha", 0.01)};
      return true;
    }
    if (t == "HardSigmoid") {
      f->act = t;
      f->act_params = {n.attrs.get_float("alpha", 0.2), n.attrs.get_float("beta", 0.5)};
      return true;
    }
    if (t == "Swish") {
      f->act = t;
      f->act_params = {n.attrs.get_float("alpha", 1.0)};
      return true;
    }
    if (t == "Gelu") {
      std::string approx = n.attrs.get_string("approximate", "none");
      if (approx != "none" && approx != "tanh") return false;  // the op reports it
      f->act = approx == "tanh" ? "GeluTanh" : "Gelu";
      return true;
    }
    if (t == "Clip") {
      double lo = -std::numeric_limits<float>::infinity(), hi = -lo;
      for (size_t i = 1; i < n.inputs.size(); ++i) {
        if (n.inputs[i] < 0) continue;
        const Var& v = g_.vars()[n.inputs[i]];
        if (!v.is_const || v.value.numel() != 1) return false;
        (i == 1 ? lo : hi) = v.value.get_f64(0);
      }
      if (lo == 0.0 && hi == 6.0) {
        f->act = "Relu6";
      } else {
        f->act = "Clip";
        f->act_params = {lo, hi};
      }
      return true;
    }
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
    std::map<int, std::pair<std::string, std::string>> folded;  // conv -> weight, bias names
    for (auto& [id, f] : fusions_) {
      if (f.weight.empty()) continue;
      const OprNode& c = *g_.oprs()[id];
      std::string wn = fresh_name(c.name + "/weight_bn_folded");
      std::string bn = fresh_name(c.name + "/bias_bn_folded");
      ng->add_const(wn, f.weight);
      ng->add_const(bn, f.bias);
      folded[id] = {wn, bn};
    }
    std::map<int, int> at_add;  // absorbed Add -> the fused conv emitted there
    for (auto& [id, f] : fusions_)
      if (f.add >= 0) at_add[f.add] = id;
    for (const auto& np0 : g_.oprs()) {
      auto aa = at_add.find(np0->id);
      const OprNode& n = aa != at_add.end() ? *g_.oprs()[aa->second] : *np0;
      if (aa == at_add.end() && (removed_.count(n.id) || deferred(n.id))) continue;
      std::vector<std::string> ins, outs;
      for (int vid : n.inputs) ins.push_back(vid < 0 ? "" : vars[vid].name);
      for (int vid : n.outputs) outs.push_back(vars[vid].name);
      Attrs attrs = n.attrs;
      auto it = fusions_.find(n.id);
      if (it != fusions_.end()) {
        const Fusion& f = it->second;
        auto fo = folded.find(n.id);
        if (fo != folded.end()) {
          ins.resize(3);
          ins[1] = fo->second.first;
          ins[2] = fo->second.second;
        }
        outs = {vars[f.out_var].name};
        if (f.residual >= 0) {
          ins.resize(4);
          ins[3] = vars[f.residual].name;
          AttrValue r;
          r.kind = AttrValue::kInt;
          r.i = 1;
          attrs.set(kResidualAttr, r);
        }
        if (!f.act.empty()) {
          AttrValue a;
          a.kind = AttrValue::kString;
          a.s = f.act;
          attrs.set(kActAttr, a);
          AttrValue p;
          p.kind = AttrValue::kFloats;
          p.floats = f.act_params;
          attrs.set(kActParamsAttr, p);
        }
      }
      ng->add_opr(n.def->type, n.def->domain, n.name, attrs, ins, outs);
    }
    for (int vid : g_.outputs()) ng->add_output(vars[vid].name);
    return ng;
  }

  bool deferred(int id) const {
    auto it = fusions_.find(id);
    return it != fusions_.end() && it->second.add >= 0;
  }

  const Graph& g_;
  std::vector<std::vector<int>> consumers_;
  std::set<int> is_output_;
  std::set<int> removed_;
  std::map<int, Fusion> fusions_;
  std::set<std::string> taken_;
};

}  // namespace

std::shared_ptr<const Graph> fuse_conv_bn_act(std::shared_ptr<const Graph> g) {
  return Fuser(*g).run(g);
}

}  // namespace loadrun
