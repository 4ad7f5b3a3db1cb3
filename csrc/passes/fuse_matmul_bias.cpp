// MatMul + bias (+ activation) fusion: MatMul(A, W) whose W is a 2-D float32
// constant (K, N), read only by an Add of a float32 constant bias of shape
// (N) (the nn.Linear of PyTorch exports), optionally followed by an Add of
// a non-constant residual that is the only reader of the sum (a
// transformer's skip connection; it may broadcast: FusedMatMul adds it as
// Add would), and then by an activation that is the only reader of the
// result (Relu, LeakyRelu, Sigmoid, Tanh, Gelu in either form, HardSwish,
// Swish), becomes one FusedMatMul
// (domain "loadrun", ops/fused_matmul.cpp): SGEMM with the bias, residual
// and activation in its epilogue, so the product is written once instead of
// two to four times. A bias of any other shape (a broadcast that could
// change the output's shape) or a non-constant one leaves the graph alone.
// The fused node takes the last absorbed node's name and output.
#include "passes/pattern.h"
#include "passes/passes.h"

namespace loadrun {

namespace {

class MatMulBiasFuser {
 public:
  explicit MatMulBiasFuser(const Graph& g) : p_(g) {}

  std::shared_ptr<const Graph> run(std::shared_ptr<const Graph> orig) {
    for (const auto& n : p_.graph().oprs())
      if (n->def && n->def->domain.empty() && n->def->type == "MatMul" && n->outputs.size() == 1 &&
          n->inputs.size() == 2)
        try_fuse(*n);
    if (rw_.empty()) return orig;
    return apply_rewrite(p_.graph(), rw_);
  }

 private:
  // The activation a node computes, named as kernels/activation.h's act_named.
  bool activation(const OprNode& n, std::string* name, std::vector<double>* params) const {
    if (!n.def || !n.def->domain.empty() || n.outputs.size() != 1 || n.inputs.size() != 1) return false;
    const std::string& t = n.def->type;
    params->clear();
    if (t == "Relu" || t == "Sigmoid" || t == "Tanh" || t == "HardSwish") {
      *name = t;
      return true;
    }
    if (t == "LeakyRelu") {
      *name = t;
      *params = {n.attrs.get_float("alpha", 0.01)};
      return true;
    }
    if (t == "Swish") {
      *name = t;
      *params = {n.attrs.get_float("alpha", 1.0)};
      return true;
    }
    if (t == "Gelu") {
      std::string approx = n.attrs.get_string("approximate", "none");
      if (approx != "none" && approx != "tanh") return false;
      *name = approx == "tanh" ? "GeluTanh" : "Gelu";
      return true;
    }
    return false;
  }

  void try_fuse(const OprNode& mm) {
    const Var& w = p_.var(mm.inputs[1]);
    if (!w.is_const || w.dtype != DType::Float32 || w.value.shape().size() != 2) return;
    const int64_t n = w.value.shape()[1];
    const OprNode* add = p_.sole_consumer(mm.outputs[0], "Add");
    if (!add) return;
    const int bias = p_.other_operand(*add, mm.outputs[0]);
    if (bias < 0) return;
    const Var& b = p_.var(bias);
    if (!b.is_const || b.dtype != DType::Float32 || b.value.shape() != Shape{n}) return;
    std::set<int> ids{mm.id, add->id};
    const OprNode* sink = add;
    std::string act;
    std::vector<double> params;
    int residual = -1;
    if (const OprNode* r = p_.sole_consumer(add->outputs[0], "Add")) {
      const int o = p_.other_operand(*r, add->outputs[0]);
      if (o >= 0 && !p_.var(o).is_const) {
        residual = o;
        sink = r;
        ids.insert(r->id);
      }
    }
    if (const OprNode* c = p_.sole_reader(sink->outputs[0]))
      if (activation(*c, &act, &params)) {
        sink = c;
        ids.insert(c->id);
      }
    if (rw_.taken(ids)) return;
    FusedNode f;
    f.type = "FusedMatMul";
    f.domain = "loadrun";
    f.name = sink->name;
    if (!act.empty()) {
      f.attrs.set("activation", attr_string(act));
      f.attrs.set("activation_params", attr_floats(params));
    }
    f.inputs = {p_.var(mm.inputs[0]).name, w.name, b.name};
    if (residual >= 0) f.inputs.push_back(p_.var(residual).name);
    f.outputs = {p_.var(sink->outputs[0]).name};
    rw_.add(sink->id, ids, std::move(f));
  }

  PatternGraph p_;
  Rewrite rw_;
};

}  // namespace

std::shared_ptr<const Graph> fuse_matmul_bias(std::shared_ptr<const Graph> g) {
  return MatMulBiasFuser(*g).run(g);
}

}  // namespace loadrun
