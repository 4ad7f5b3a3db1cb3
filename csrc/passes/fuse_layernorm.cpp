// LayerNorm fusion: the decomposed layer normalisation of PyTorch exports
// before opset 17,
//   m = ReduceMean(x, axes);  d = Sub(x, m);  v = ReduceMean(Pow(d, 2), axes)
//   y = Div(d, Sqrt(Add(v, eps))) * gamma [+ beta]
// becomes one LayerNormalization(x, gamma[, beta], axis, epsilon). The
// square may be Mul(d, d) and the division Mul(d, Reciprocal(...)); the
// gamma Mul and beta Add take their operands in either order.
// It must be exactly that computation:
//  - both ReduceMeans keep dims (keepdims 1) and reduce the same axes (the
//    attribute, or the opset-18 constant input), which are the last k dims
//    written as negative axes -k..-1 (the rank is unknown in a pass, so a
//    positive axis list is left alone); axis = -k;
//  - eps is a float scalar constant, the exponent the scalar 2 (rank 0 or
//    1: the operands they meet have rank >= k >= 1);
//  - gamma and beta are float constants of rank <= k, so they broadcast over
//    the normalised dims only, as LayerNormalization's Scale and B do;
//  - every intermediate is read only inside the subgraph and is no output.
// The fused node takes the last node's name and output.
#include <algorithm>

#include "passes/pattern.h"
#include "passes/passes.h"

namespace loadrun {

namespace {

class LayerNormFuser {
 public:
  explicit LayerNormFuser(const Graph& g) : p_(g) {}

  std::shared_ptr<const Graph> run(std::shared_ptr<const Graph> orig) {
    for (const auto& n : p_.graph().oprs())
      if (n->def && n->def->domain.empty() && n->def->type == "ReduceMean" && n->outputs.size() == 1)
        try_fuse(*n);
    if (rw_.empty()) return orig;
    return apply_rewrite(p_.graph(), rw_);
  }

 private:
  // The reduced axes of a ReduceMean that keeps dims: -k..-1 gives k, else 0.
  int trailing_axes(const OprNode& r) const {
    if (r.attrs.get_int("keepdims", 1) != 1) return 0;
    std::vector<int64_t> axes;
    if (r.attrs.has("axes")) {
      axes = r.attrs.get_ints("axes");
    } else {
      if (r.inputs.size() < 2 || r.inputs[1] < 0) return 0;
      const Var& a = p_.var(r.inputs[1]);
      if (!a.is_const || a.dtype != DType::Int64 || a.value.shape().size() != 1) return 0;
      for (int64_t i = 0; i < a.value.numel(); ++i) axes.push_back(static_cast<int64_t>(a.value.get_f64(i)));
    }
    if (axes.empty()) return 0;
    std::sort(axes.begin(), axes.end());
    const int k = static_cast<int>(axes.size());
    for (int i = 0; i < k; ++i)
      if (axes[i] != i - k) return 0;
    return k;
  }

  // A float constant of rank <= k (broadcasts over the normalised dims only).
  bool param(int vid, int k) const {
    if (vid < 0) return false;
    const Var& v = p_.var(vid);
    return v.is_const && dtype_is_float(v.dtype) && static_cast<int>(v.value.shape().size()) <= k;
  }

  void try_fuse(const OprNode& mean) {
    const int k = trailing_axes(mean);
    if (k == 0 || mean.inputs.empty()) return;
    const int x = mean.inputs[0];
    std::set<int> ids{mean.id};
    // d = x - m; read by the square and the division only.
    const OprNode* sub = p_.sole_consumer(mean.outputs[0], "Sub");
    if (!sub || sub->inputs.size() != 2 || sub->inputs[0] != x || sub->inputs[1] != mean.outputs[0])
      return;
    ids.insert(sub->id);
    const int d = sub->outputs[0];
    const OprNode* sq = nullptr;
    const OprNode* div = nullptr;
    const OprNode* recip_mul = nullptr;
    for (const auto& np : p_.graph().oprs()) {
      const OprNode& n = *np;
      if (std::find(n.inputs.begin(), n.inputs.end(), d) == n.inputs.end()) continue;
      if (!n.def || !n.def->domain.empty() || n.outputs.size() != 1) return;
      const std::string& t = n.def->type;
      if (t == "Pow" && n.inputs.size() == 2 && n.inputs[0] == d && p_.scalar_is(n.inputs[1], 2.0, true, 1) && !sq) {
        sq = &n;
      } else if (t == "Mul" && n.inputs.size() == 2 && n.inputs[0] == d && n.inputs[1] == d && !sq) {
        sq = &n;
      } else if (t == "Div" && n.inputs.size() == 2 && n.inputs[0] == d && n.inputs[1] != d && !div && !recip_mul) {
        div = &n;
      } else if (t == "Mul" && n.inputs.size() == 2 && p_.other_operand(n, d) >= 0 && !div && !recip_mul) {
        recip_mul = &n;
      } else {
        return;
      }
    }
    if (!sq || !(div || recip_mul)) return;
    ids.insert(sq->id);
    // v = ReduceMean(d^2) over the same axes.
    const OprNode* var = p_.sole_consumer(sq->outputs[0], "ReduceMean");
    if (!var || trailing_axes(*var) != k || var->inputs[0] != sq->outputs[0]) return;
    if (mean.attrs.has("axes") != var->attrs.has("axes")) return;
    ids.insert(var->id);
    const OprNode* add = p_.sole_consumer(var->outputs[0], "Add");
    double eps = 0;
    if (!add || !p_.scalar(p_.other_operand(*add, var->outputs[0]), &eps, false, 1) || !(eps >= 0)) return;
    ids.insert(add->id);
    const OprNode* sqrt = p_.sole_consumer(add->outputs[0], "Sqrt");
    if (!sqrt) return;
    ids.insert(sqrt->id);
    const OprNode* norm = nullptr;
    if (div) {
      if (div->inputs[1] != sqrt->outputs[0]) return;
      norm = div;
    } else {
      const OprNode* rec = p_.sole_consumer(sqrt->outputs[0], "Reciprocal");
      if (!rec || p_.other_operand(*recip_mul, d) != rec->outputs[0]) return;
      ids.insert(rec->id);
      norm = recip_mul;
    }
    ids.insert(norm->id);
    // * gamma [+ beta]
    const OprNode* mul = p_.sole_consumer(norm->outputs[0], "Mul");
    if (!mul) return;
    const int gamma = p_.other_operand(*mul, norm->outputs[0]);
    if (!param(gamma, k)) return;
    ids.insert(mul->id);
    const OprNode* sink = mul;
    int beta = -1;
    if (const OprNode* b = p_.sole_consumer(mul->outputs[0], "Add")) {
      int o = p_.other_operand(*b, mul->outputs[0]);
      if (param(o, k) && p_.var(o).dtype == p_.var(gamma).dtype) {
        beta = o;
        sink = b;
        ids.insert(b->id);
      }
    }
    for (int id : ids) {
      const OprNode& n = *p_.graph().oprs()[id];
      if (id != sink->id && !p_.internal(n.outputs[0], ids)) return;
    }
    if (rw_.taken(ids)) return;
    FusedNode ln;
    ln.type = "LayerNormalization";
    ln.name = sink->name;
    ln.attrs.set("axis", attr_int(-k));
    ln.attrs.set("epsilon", attr_float(eps));
    ln.inputs = {p_.var(x).name, p_.var(gamma).name};
    if (beta >= 0) ln.inputs.push_back(p_.var(beta).name);
    ln.outputs = {p_.var(sink->outputs[0]).name};
    rw_.add(sink->id, ids, std::move(ln));
  }

  PatternGraph p_;
  Rewrite rw_;
};

}  // namespace

std::shared_ptr<const Graph> fuse_layernorm(std::shared_ptr<const Graph> g) {
  return LayerNormFuser(*g).run(g);
}

}  // namespace loadrun
