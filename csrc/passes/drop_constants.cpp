// Drops constants that no node reads and no graph output names: what the
// fusions leave behind (the original weights and BatchNormalization
// parameters of a Conv that now reads folded copies). Run last, so the
// network holds only the bytes it uses: on resnet18 the BN-folded convs'
// originals are about half of the weight bytes. O(nodes + vars).
#include "passes/passes.h"

namespace loadrun {

std::shared_ptr<const Graph> drop_unused_constants(std::shared_ptr<const Graph> g) {
  const auto& vars = g->vars();
  std::vector<char> read(vars.size(), 0);
  for (const auto& n : g->oprs())
    for (int vid : n->inputs)
      if (vid >= 0) read[vid] = 1;
  for (int vid : g->outputs()) read[vid] = 1;
  bool unused = false;
  for (const Var& v : vars) unused = unused || (v.is_const && !read[v.id]);
  if (!unused) return g;

  auto ng = std::make_shared<Graph>();
  for (int vid : g->inputs())
    ng->add_input(vars[vid].name, vars[vid].dtype, vars[vid].shape, vars[vid].kind);
  for (const Var& v : vars)
    if (v.is_const && read[v.id]) ng->add_const(v.name, v.value);
  for (const auto& n : g->oprs()) {
    std::vector<std::string> ins, outs;
    for (int vid : n->inputs) ins.push_back(vid < 0 ? "" : vars[vid].name);
    for (int vid : n->outputs) outs.push_back(vars[vid].name);
    ng->add_opr(n->def->type, n->def->domain, n->name, n->attrs, ins, outs);
  }
  for (int vid : g->outputs()) ng->add_output(vars[vid].name);
  return ng;
}

}  // namespace loadrun
