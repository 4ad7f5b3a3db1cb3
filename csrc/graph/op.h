// Op: one node's parsed operator (its params), with shape inference.
// InferCtx carries input layouts and, where known, input values (at compile
// time: weights, folded shape arithmetic, graph inputs the plan is keyed on;
// at run time, for nodes whose shapes depend on data: every input);
// KernCtx carries bound tensors.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/tensor.h"

namespace loadrun {

class CompNode;
struct OpDef;

struct InferCtx {
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
};

struct KernCtx {
  std::vector<const Tensor*> in;  // nullptr: optional input absent
  std::vector<Tensor*> out;
  void* workspace = nullptr;
  size_t workspace_size = 0;
  CompNode* comp_node = nullptr;
  const void* prepared = nullptr;  // the algo's preprocess() result, if any

  bool has(size_t i) const { return i < in.size() && in[i] != nullptr; }
  const Tensor& input(size_t i) const { return *in[i]; }
  Tensor& output(size_t i) const { return *out[i]; }
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
  const OpDef* def = nullptr;
};

}  // namespace loadrun
