// Compile passes (runtime/compile_pass.h): the built-in list and the
// registry, and the first pass, "shape_views".
//
// shape_views: a step whose op says that at this plan's layouts and known
// values output 0 is input i's bytes in order (Op::view_input_at: a
// Transpose moving only unit dims, an Expand to the input's own shape, a
// Cast to the input's own dtype, and every op that is always a view:
// Reshape, Flatten, Squeeze, Unsqueeze, Identity, inference Dropout) is
// marked a view of that input. The memory plan then gives both one buffer
// and the step runs no kernel. O(steps).
#include <mutex>

#include "runtime/compile_pass.h"

namespace loadrun {

namespace {

class ShapeViews final : public CompilePass {
 public:
  const char* name() const override { return "shape_views"; }
  void run(CompileView& v) const override {
    for (CompileStep& st : v.steps) {
      const OprNode& node = *st.node;
      if (st.dynamic || node.outputs.size() != 1) continue;
      InferCtx ic;
      for (int vid : node.inputs) {
        ic.in.push_back(vid < 0 ? nullptr : &v.layouts[vid]);
        ic.values.push_back(vid >= 0 && v.known[vid] ? &v.values[vid] : nullptr);
      }
      ic.out.push_back(v.layouts[node.outputs[0]]);
      int i = node.op->view_input_at(ic);
      if (i < 0 || i >= static_cast<int>(node.inputs.size()) || node.inputs[i] < 0) continue;
      if (v.layouts[node.inputs[i]].nbytes() != v.layouts[node.outputs[0]].nbytes()) continue;
      st.view_of = i;
    }
  }
};

std::mutex& registry_mu() {
  static std::mutex m;
  return m;
}

std::vector<std::shared_ptr<const CompilePass>>& registered() {
  static std::vector<std::shared_ptr<const CompilePass>> r;
  return r;
}

}  // namespace

std::vector<std::shared_ptr<const CompilePass>> compile_passes() {
  static const std::shared_ptr<const CompilePass> builtin = std::make_shared<ShapeViews>();
  std::vector<std::shared_ptr<const CompilePass>> r{builtin};
  std::lock_guard<std::mutex> lock(registry_mu());
  r.insert(r.end(), registered().begin(), registered().end());
  return r;
}

void register_compile_pass(std::shared_ptr<const CompilePass> pass) {
  std::lock_guard<std::mutex> lock(registry_mu());
  for (const auto& p : registered())
    if (std::string(p->name()) == pass->name()) return;  // once per name
  registered().push_back(std::move(pass));
}

}  // namespace loadrun
