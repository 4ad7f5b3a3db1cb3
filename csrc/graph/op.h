// Op: one node's parsed operator (its params), with shape inference.
// InferCtx carries input layouts and, where known, input values (at compile
// time: weights, folded shape arithmetic, graph inputs the plan is keyed on;
// at run time, for nodes whose shapes depend on data: every input);
// KernCtx carries bound tensors.
// Sequences and optionals (core/value.h) reach the few ops that read or make
// them through seq_in / seq_out, at run time only; tensor-only nodes never
// see those fields filled.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/tensor.h"
#include "core/value.h"
#include "graph/nested.h"

namespace loadrun {

class CompNode;
struct OpDef;

struct InferCtx {
  NestedRuntime* runtime = nullptr;   // for nested graphs (graph/nested.h); null: none
  std::vector<const Layout*> in;      // nullptr: optional input absent
  std::vector<const Tensor*> values;  // nullptr: value unknown until run time
  std::vector<Layout> out;            // sized to the node's outputs; infer fills

  size_t num_inputs() const { return in.size(); }
  bool has(size_t i) const { return i < in.size() && in[i] != nullptr; }
  const Layout& input(size_t i) const {
    LR_CHECK(has(i), ModelError, "input ", i, " is required but absent");
    return *in[i];
  }
  const Tensor* value_or_null(size_t i) const { return i < values.size() ? values[i] : nullptr; }
  // Value of input i. When it is not known yet, records i in missing_value
  // and throws UnsupportedError: the compiler then keys the plan on the graph
  // inputs the value comes from, or infers this node at run time instead.
  const Tensor& value(size_t i, const char* what) const {
    const Tensor* v = value_or_null(i);
    if (has(i) && !v) missing_value = static_cast<int>(i);
    LR_CHECK(has(i) && v, UnsupportedError, what, " (input ", i,
             ") must be known at compile time (a constant or a shape computation)");
    return *v;
  }
  mutable int missing_value = -1;  // set by value(): the input whose value was wanted
  void set_output(size_t i, const Shape& s, DType dt) {
    LR_CHECK(i < out.size(), ModelError, "output ", i, " does not exist on this node");
    out[i] = Layout(s, dt);
  }
  // Sequences and optionals (run time only; empty for tensor-only nodes):
  // per input, its Value when it is not a tensor (in[i] is then null); per
  // output, its kind (infer sets the layouts of tensor outputs only).
  std::vector<const Value*> seq_in;
  std::vector<ValueKind> out_kinds;
  const Value* seq(size_t i) const { return i < seq_in.size() ? seq_in[i] : nullptr; }
  bool out_is_tensor(size_t o) const {
    return o >= out_kinds.size() || out_kinds[o] == ValueKind::kTensor;
  }
};

struct KernCtx {
  std::vector<const Tensor*> in;  // nullptr: optional input absent
  std::vector<Tensor*> out;
  // Scratch: one slot of workspace_size bytes per thread of comp_node,
  // workspace_stride apart (64-byte aligned); a range running on thread
  // `tid` of CompNode::parallel_for uses thread_workspace(tid). Slot 0 is
  // the whole scratch of a kernel that does not split its work.
  void* workspace = nullptr;
  size_t workspace_size = 0;
  size_t workspace_stride = 0;
  // Scratch shared by the call's threads (Algo::shared_workspace bytes).
  void* shared_workspace = nullptr;
  CompNode* comp_node = nullptr;
  NestedRuntime* runtime = nullptr;  // for nested graphs (graph/nested.h); null: none
  const void* prepared = nullptr;  // the algo's preprocess() result, if any
  // Sequences and optionals (empty for tensor-only nodes): per input, its
  // Value when it is not a tensor (in[i] is then null); per output, the Value
  // to fill when it is not a tensor (its kind is set; out[i] is unused).
  std::vector<const Value*> seq_in;
  std::vector<Value*> seq_out;

  bool has(size_t i) const { return i < in.size() && in[i] != nullptr; }
  void* thread_workspace(int tid) const {
    return workspace ? static_cast<char*>(workspace) + static_cast<size_t>(tid) * workspace_stride
                     : nullptr;
  }
  const Tensor& input(size_t i) const { return *in[i]; }
  Tensor& output(size_t i) const { return *out[i]; }
  const Value* seq(size_t i) const { return i < seq_in.size() ? seq_in[i] : nullptr; }
  Value* seq_output(size_t o) const { return o < seq_out.size() ? seq_out[o] : nullptr; }
};

class Op {
 public:
  virtual ~Op() = default;
  virtual void infer(InferCtx& ctx) const = 0;
  // Stable bytes naming the params, for the fast-run cache key.
  virtual std::string param_key() const { return {}; }
  // Output values follow from input shapes alone (Shape, Size): compile
  // evaluates them even when the inputs' values are unknown.
  virtual bool shape_only() const { return false; }
  // May compile evaluate this node when every input is a constant?
  virtual bool foldable() const { return true; }
  // Kinds of the outputs from the inputs' (absent inputs count as tensors),
  // decided once when the graph is built; `out` comes sized, all tensors.
  // The default takes tensors only.
  virtual void value_kinds(const std::vector<ValueKind>& in, std::vector<ValueKind>& out) const {
    (void)out;
    for (size_t i = 0; i < in.size(); ++i)
      LR_CHECK(in[i] == ValueKind::kTensor, UnsupportedError, "input ", i, " is a ",
               value_kind_name(in[i]), "; this operator takes tensors only");
  }
  // Memory planning (memory/plan_memory.cpp). alias_input: output 0 is a
  // view of this input (same bytes; Reshape, Flatten, Squeeze, Unsqueeze,
  // Identity, inference Dropout), so the planner gives both one buffer and
  // the kernel must leave its output alone when the pointers are equal; -1:
  // none. inplace_input: output 0 may be written over this input when the
  // input dies at this step and has the output's layout (elementwise ops,
  // where element k is read before element k is written, and no other); -1:
  // none. Either is only a permission: kernels stay correct without it.
  virtual int alias_input(const std::vector<const Layout*>& in) const { return -1; }
  virtual int inplace_input(const std::vector<const Layout*>& in) const { return -1; }
  // A view that only some layouts allow (the compile pass "shape_views",
  // runtime/compile_pass.h): for these inferred layouts and known values,
  // output 0 holds exactly input i's bytes in order (a Transpose that moves
  // only unit dims, an Expand or Cast to what the input already is); -1:
  // not at these layouts. The default is alias_input.
  virtual int view_input_at(const InferCtx& ic) const { return alias_input(ic.in); }
  const OpDef* def = nullptr;
};

}  // namespace loadrun
