// GELU fusion: the decomposed GELU subgraphs that PyTorch and Hugging Face
// exports contain become one ai.onnx Gelu node (loadrun runs Gelu at every
// opset: it is a core op, and the fused node never reaches an exporter).
//   erf form:  f = Erf(x / sqrt(2))       (Div by sqrt 2 or Mul by 1/sqrt 2)
//   tanh form: f = Tanh(sqrt(2/pi) * (x + 0.044715 * x^3))
//              (x^3 as Pow(x, 3) or x * x * x in either association)
// then y = x * 0.5 * (1 + f), as Mul(Mul(x, 1 + f), 0.5) or
// Mul(Mul(x, 0.5), 1 + f), operands in either order. Constants must be
// rank-0 scalars (a one-element tensor of rank 1 or more could broadcast x
// to a higher rank) of those values up to their type's rounding (float32:
// relative 1e-6; a float64 model needs them to float64 precision); every
// intermediate must be
// read only inside the subgraph and be no graph output; the graph is left
// alone otherwise. The fused node takes the sink's name and output.
#include "passes/pattern.h"
#include "passes/passes.h"

#include <cmath>

namespace loadrun {

namespace {

constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kSqrt2OverPi = 0.7978845608028654;

class GeluFuser {
 public:
  explicit GeluFuser(const Graph& g) : p_(g) {}

  std::shared_ptr<const Graph> run(std::shared_ptr<const Graph> orig) {
    for (const auto& n : p_.graph().oprs()) {
      if (!n->def || !n->def->domain.empty() || n->outputs.size() != 1) continue;
      if (n->def->type == "Erf" || n->def->type == "Tanh") try_fuse(*n);
    }
    if (rw_.empty()) return orig;
    return apply_rewrite(p_.graph(), rw_);
  }

 private:
  // x for the erf form's argument x / sqrt(2) (or x * (1/sqrt 2)), else -1.
  int erf_arg(int vid, std::set<int>* ids) const {
    if (const OprNode* d = p_.producer(vid, "Div")) {
      if (d->inputs.size() == 2 && p_.scalar_is(d->inputs[1], kSqrt2)) {
        ids->insert(d->id);
        return d->inputs[0];
      }
      return -1;
    }
    if (const OprNode* m = p_.producer(vid, "Mul")) {
      for (int k = 0; k < 2 && m->inputs.size() == 2; ++k)
        if (p_.scalar_is(m->inputs[k], 1.0 / kSqrt2)) {
          ids->insert(m->id);
          return m->inputs[1 - k];
        }
    }
    return -1;
  }

  // vid == x^3 (Pow(x, 3), x * (x * x), (x * x) * x)?
  bool is_cube(int vid, int x, std::set<int>* ids) const {
    if (const OprNode* pw = p_.producer(vid, "Pow")) {
      if (pw->inputs.size() == 2 && pw->inputs[0] == x && p_.scalar_is(pw->inputs[1], 3.0, true)) {
        ids->insert(pw->id);
        return true;
      }
      return false;
    }
    const OprNode* m = p_.producer(vid, "Mul");
    if (!m || m->inputs.size() != 2) return false;
    for (int k = 0; k < 2; ++k) {
      if (m->inputs[k] != x) continue;
      const OprNode* sq = p_.producer(m->inputs[1 - k], "Mul");
      if (sq && sq->inputs.size() == 2 && sq->inputs[0] == x && sq->inputs[1] == x) {
        ids->insert(m->id);
        ids->insert(sq->id);
        return true;
      }
    }
    return false;
  }

  // x for the tanh form's argument sqrt(2/pi) * (x + 0.044715 x^3), else -1.
  int tanh_arg(int vid, std::set<int>* ids) const {
    const OprNode* m = p_.producer(vid, "Mul");
    if (!m || m->inputs.size() != 2) return -1;
    for (int k = 0; k < 2; ++k) {
      if (!p_.scalar_is(m->inputs[k], kSqrt2OverPi)) continue;
      const OprNode* add = p_.producer(m->inputs[1 - k], "Add");
      if (!add || add->inputs.size() != 2) return -1;
      for (int j = 0; j < 2; ++j) {
        int x = add->inputs[j];
        const OprNode* c = p_.producer(add->inputs[1 - j], "Mul");
        if (!c || c->inputs.size() != 2) continue;
        for (int i = 0; i < 2; ++i) {
          std::set<int> got{m->id, add->id, c->id};
          if (p_.scalar_is(c->inputs[i], 0.044715) && is_cube(c->inputs[1 - i], x, &got)) {
            ids->insert(got.begin(), got.end());
            return x;
          }
        }
      }
      return -1;
    }
    return -1;
  }

  void try_fuse(const OprNode& f) {
    const bool erf = f.def->type == "Erf";
    if (f.inputs.size() != 1) return;
    std::set<int> ids{f.id};
    const int x = erf ? erf_arg(f.inputs[0], &ids) : tanh_arg(f.inputs[0], &ids);
    if (x < 0) return;
    // 1 + f
    const OprNode* one = p_.sole_consumer(f.outputs[0], "Add");
    if (!one || !p_.scalar_is(p_.other_operand(*one, f.outputs[0]), 1.0)) return;
    ids.insert(one->id);
    const int t = one->outputs[0];
    const OprNode* m1 = p_.sole_consumer(t, "Mul");
    if (!m1) return;
    ids.insert(m1->id);
    const int other = p_.other_operand(*m1, t);
    const OprNode* sink = nullptr;
    if (other == x) {  // (x * (1 + f)) * 0.5
      sink = p_.sole_consumer(m1->outputs[0], "Mul");
      if (!sink || !p_.scalar_is(p_.other_operand(*sink, m1->outputs[0]), 0.5)) return;
    } else {  // (x * 0.5) * (1 + f)
      const OprNode* half = p_.producer(other, "Mul");
      if (!half || p_.other_operand(*half, x) < 0 || !p_.scalar_is(p_.other_operand(*half, x), 0.5))
        return;
      ids.insert(half->id);
      sink = m1;
    }
    ids.insert(sink->id);
    // Every value made inside must stay inside (the sink's output leaves).
    for (int id : ids) {
      const OprNode& n = *p_.graph().oprs()[id];
      if (id != sink->id && !p_.internal(n.outputs[0], ids)) return;
    }
    if (rw_.taken(ids)) return;
    FusedNode g;
    g.type = "Gelu";
    g.name = sink->name;
    g.attrs.set("approximate", attr_string(erf ? "none" : "tanh"));
    g.inputs = {p_.var(x).name};
    g.outputs = {p_.var(sink->outputs[0]).name};
    rw_.add(sink->id, ids, std::move(g));
  }

  PatternGraph p_;
  Rewrite rw_;
};

}  // namespace

std::shared_ptr<const Graph> fuse_gelu(std::shared_ptr<const Graph> g) {
  return GeluFuser(*g).run(g);
}

}  // namespace loadrun
