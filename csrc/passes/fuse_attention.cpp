// Attention fusion: the scaled dot-product attention of exported BERT-style
// models,
//   scores = MatMul(Q4, K4)            Q4 (b,h,s,d), K4 (b,h,d,t)
//   scores = Div(scores, c) | Mul(scores, c) | scores
//                                      (c a one-element float constant, rank <= 4)
//   scores = Add(scores, mask)         (optional; either operand order)
//   probs  = Softmax(scores, axis=-1)  (axis 3 too; not the opset<13 default)
//   ctx    = MatMul(probs, V4)         V4 (b,h,t,dv)
//   y      = Transpose(ctx, perm)      (optional)
// where Q4, K4 and V4 are each the output of a 4-D Transpose (the head split
// of the export: Reshape then Transpose; K's may be two Transposes), becomes
// one MultiHeadAttention (domain "loadrun", ops/fused_attention.cpp) that
// reads the Transposes' inputs through strides: the transposes, the scores
// and the probabilities are never written. A Transpose whose output is also
// read elsewhere stays, and the node reads its output instead. The scores,
// scaled scores, masked scores, probabilities (and ctx, when the output
// Transpose is taken in) must be read only inside the subgraph and be no
// graph outputs. The fused node takes the sink's name and output.
#include "passes/pattern.h"
#include "passes/passes.h"

namespace loadrun {

namespace {

class AttentionFuser {
 public:
  explicit AttentionFuser(const Graph& g) : p_(g) {}

  std::shared_ptr<const Graph> run(std::shared_ptr<const Graph> orig) {
    for (const auto& n : p_.graph().oprs())
      if (n->def && n->def->domain.empty() && n->def->type == "Softmax" && n->outputs.size() == 1)
        try_fuse(*n);
    if (rw_.empty()) return orig;
    return apply_rewrite(p_.graph(), rw_);
  }

 private:
  // A Transpose's 4-D perm (reversal when the attribute is absent), or empty.
  static std::vector<int64_t> perm_of(const OprNode& t) {
    std::vector<int64_t> p = t.attrs.get_ints("perm", {3, 2, 1, 0});
    return p.size() == 4 ? p : std::vector<int64_t>{};
  }

  // Operand vid of the attention as (input var, perm): the chain of 4-D
  // Transposes producing it, taken in while their outputs are only read
  // inside `ids`. False when vid is not the output of a 4-D Transpose.
  bool operand(int vid, std::set<int>* ids, int* in, std::vector<int64_t>* perm) const {
    const OprNode* t = p_.producer(vid, "Transpose");
    if (!t || perm_of(*t).empty()) return false;
    *in = vid;
    *perm = {0, 1, 2, 3};
    for (int depth = 0; depth < 2 && t; ++depth) {
      std::vector<int64_t> tp = perm_of(*t);
      if (tp.empty() || !p_.internal(t->outputs[0], *ids)) break;
      // logical[i] = out[perm[i]] = in[tp[perm[i]]]
      std::vector<int64_t> np(4);
      for (int i = 0; i < 4; ++i) np[i] = tp[(*perm)[i]];
      *perm = np;
      *in = t->inputs[0];
      ids->insert(t->id);
      t = p_.producer(*in, "Transpose");
    }
    return true;
  }

  void try_fuse(const OprNode& sm) {
    const bool legacy = sm.attrs.get_int("_legacy_2d", 0) != 0;
    const int64_t axis = sm.attrs.get_int("axis", legacy ? 1 : -1);
    if (axis != -1 && axis != 3) return;
    std::set<int> ids{sm.id};
    int scores = sm.inputs[0];
    int mask = -1;
    // Add(scaled, mask): the operand that comes from the MatMul is the scores.
    if (const OprNode* add = p_.producer(scores, "Add")) {
      if (add->inputs.size() != 2 || add->inputs[0] == add->inputs[1]) return;
      int pick = -1;
      for (int k = 0; k < 2 && pick < 0; ++k) {
        int s = add->inputs[k];
        const OprNode* sc = p_.producer(s, "Div");
        if (!sc) sc = p_.producer(s, "Mul");
        if (sc && sc->inputs.size() == 2) {
          for (int v : sc->inputs)
            if (p_.producer(v, "MatMul")) pick = k;
        }
        if (p_.producer(s, "MatMul")) pick = k;
      }
      if (pick < 0) return;
      ids.insert(add->id);
      mask = add->inputs[1 - pick];
      scores = add->inputs[pick];
    }
    double scale = 1.0;
    if (const OprNode* d = p_.producer(scores, "Div")) {
      double c;
      if (d->inputs.size() != 2 || !p_.scalar(d->inputs[1], &c, false, 4) || c == 0) return;
      scale = 1.0 / c;
      ids.insert(d->id);
      scores = d->inputs[0];
    } else if (const OprNode* m = p_.producer(scores, "Mul")) {
      int k = 0;
      for (; k < 2; ++k)
        if (m->inputs.size() == 2 && p_.scalar(m->inputs[k], &scale, false, 4) &&
            p_.producer(m->inputs[1 - k], "MatMul"))
          break;
      if (k == 2) return;
      ids.insert(m->id);
      scores = m->inputs[1 - k];
    }
    const OprNode* qk = p_.producer(scores, "MatMul");
    if (!qk || qk->inputs.size() != 2) return;
    ids.insert(qk->id);
    const OprNode* pv = p_.sole_consumer(sm.outputs[0], "MatMul");
    if (!pv || pv->inputs.size() != 2 || pv->inputs[0] != sm.outputs[0]) return;
    ids.insert(pv->id);
    const OprNode* sink = pv;
    std::vector<int64_t> out_perm{0, 1, 2, 3};
    if (const OprNode* t = p_.sole_consumer(pv->outputs[0], "Transpose")) {
      if (!perm_of(*t).empty()) {
        out_perm = perm_of(*t);
        sink = t;
        ids.insert(t->id);
      }
    }
    // The internal values must stay inside.
    for (int id : ids) {
      const OprNode& n = *p_.graph().oprs()[id];
      if (id != sink->id && !p_.internal(n.outputs[0], ids)) return;
    }
    if (mask >= 0 && p_.var(mask).producer >= 0 && ids.count(p_.var(mask).producer)) return;
    int q, k, v;
    std::vector<int64_t> qp, kp, vp;
    if (!operand(qk->inputs[0], &ids, &q, &qp) || !operand(qk->inputs[1], &ids, &k, &kp) ||
        !operand(pv->inputs[1], &ids, &v, &vp))
      return;
    if (rw_.taken(ids)) return;
    FusedNode f;
    f.type = "MultiHeadAttention";
    f.domain = "loadrun";
    f.name = sink->name;
    f.attrs.set("q_perm", attr_ints(qp));
    f.attrs.set("k_perm", attr_ints(kp));
    f.attrs.set("v_perm", attr_ints(vp));
    f.attrs.set("out_perm", attr_ints(out_perm));
    f.attrs.set("scale", attr_float(scale));
    f.inputs = {p_.var(q).name, p_.var(k).name, p_.var(v).name};
    if (mask >= 0) f.inputs.push_back(p_.var(mask).name);
    f.outputs = {p_.var(sink->outputs[0]).name};
    rw_.add(sink->id, ids, std::move(f));
  }

  PatternGraph p_;
  Rewrite rw_;
};

}  // namespace

std::shared_ptr<const Graph> fuse_attention(std::shared_ptr<const Graph> g) {
  return AttentionFuser(*g).run(g);
}

}  // namespace loadrun
