// Freeing weights once they are preprocessed (NetworkOptions::free_weights),
// during the bind stage of a network's first plan (bind.cpp).
//
// A constant is freed when every node that reads it is a step of this plan
// whose algorithm prepared a form standing in for it (Prepared::replaces),
// it is no graph output, and this network alone holds its graph: as soon as
// its last reader is bound, so the original and all the prepared forms never
// sit in memory together (load's peak stays near the prepared bytes). Its
// readers keep their algorithm and prepared form for every later plan
// (Network::pinned_). When the inputs have symbolic dims, later plans may
// have other shapes; then a reader must either have a form that depends on
// the weights alone (Algo::preprocess_key is the weight's layout: Winograd,
// packed MatMul/Gemm B) or be able to give the original back exactly
// (Algo::unprepare: a GEMM packing, finite weights), which compile does when a
// later shape needs another form (Network::pinned_algo in compile.cpp).
#include "runtime/network.h"
#include "runtime/plan.h"

#include <algorithm>
#include <cmath>

namespace loadrun {

Network::WeightFreer::WeightFreer(Network& net, Plan& p) : net_(net), p_(p) {
  const Graph& g = *net.graph_;
  on_ = net.opt_.weight_preprocess && net.opt_.free_weights && net.plans_.empty() &&
        net.released_.empty() && net.graph_.use_count() == 1;
  if (!on_) return;
  shapes_fixed_ = net.opt_.const_shape;
  if (!shapes_fixed_) {
    shapes_fixed_ = true;
    for (int vid : g.inputs())
      for (int64_t d : g.vars()[vid].shape) shapes_fixed_ = shapes_fixed_ && d >= 0;
  }
  const size_t nv = g.vars().size();
  left_.assign(nv, 0);
  for (const auto& n : g.oprs())
    for (int vid : n->inputs)
      if (vid >= 0) ++left_[vid];
  for (int vid : g.outputs()) left_[vid] = -1;  // never freed
  for (const Var& v : g.vars())
    if (!v.is_const) left_[v.id] = -1;
  pending_.resize(nv);
}

bool Network::WeightFreer::may_stand_in(const OprNode& node, const Algo& algo, size_t r,
                                        const Tensor& w) const {
  if (shapes_fixed_) return true;
  InLayouts in;
  for (int v : node.inputs) in.push_back(v < 0 ? nullptr : &p_.layouts[v]);
  if (algo.preprocess_key(*node.op, in) == layout_key(in, r)) return true;
  if (!algo.can_unprepare() || w.dtype() != DType::Float32) return false;
  const float* x = w.ptr<float>();
  for (int64_t i = 0, n = w.numel(); i < n; ++i)
    if (!std::isfinite(x[i])) return false;  // the identity GEMM would spread a NaN
  return true;
}

void Network::WeightFreer::prepared(const OprNode& node, const Algo& algo, const Prepared& prep) {
  if (!on_ || prep.replaces < 0 || static_cast<size_t>(prep.replaces) >= node.inputs.size()) return;
  const size_t r = static_cast<size_t>(prep.replaces);
  const int vid = node.inputs[r];
  // the same constant at another input of the node is still read there
  if (vid < 0 || left_[vid] <= 0 || std::count(node.inputs.begin(), node.inputs.end(), vid) != 1)
    return;
  const Graph& g = *net_.graph_;
  if (!may_stand_in(node, algo, r, g.vars()[vid].value)) {
    left_[vid] = -1;
    return;
  }
  Pinned pin{&algo, {}, prep, {}, {}};
  InLayouts in;
  for (int v : node.inputs) {
    in.push_back(v < 0 ? nullptr : &p_.layouts[v]);
    pin.in_layouts.push_back(v < 0 ? Layout() : p_.layouts[v]);
    pin.in_present.push_back(v >= 0);
  }
  pin.key = algo.preprocess_key(*node.op, in);
  pending_[vid].emplace_back(node.id, std::move(pin));
  if (--left_[vid] > 0) return;
  // Every reader stands in for it: free it now.
  for (auto& [id, pinned] : pending_[vid]) net_.pinned_[id] = std::move(pinned);
  pending_[vid].clear();
  left_[vid] = -1;
  const Layout l = g.vars()[vid].value.layout();
  net_.released_.push_back(vid);
  net_.released_bytes_ += l.nbytes();
  const_cast<Graph&>(g).release_value(vid);  // this network's alone (use_count above)
  p_.tensors[vid] = Tensor::view(l, nullptr, 0);
}

}  // namespace loadrun
