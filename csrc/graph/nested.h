// The runtime as control-flow operators see it (If, Loop, Scan, SequenceMap,
// FlexAttention's modifiers). A nested graph runs on a network that the
// runtime makes, owns and configures like the parent (fast-run strategy and
// cache, weight preprocessing, memory options, CompNode): the operator asks
// the NestedRuntime of the context it was given (InferCtx / KernCtx) and
// talks to a NestedNet. ops/ never includes runtime/.
//
// Each parent network keeps its own nested networks, so networks built from
// one import share no run state.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "core/value.h"

namespace loadrun {

class Graph;

struct NestedOutput {
  Shape shape;  // -1 dims: known only by running
  DType dtype;
  ValueKind kind;
};

class NestedNet {
 public:
  virtual ~NestedNet() = default;
  virtual void compile(const std::vector<Shape>& input_shapes) = 0;
  virtual std::vector<NestedOutput> nested_outputs() const = 0;
  // Copies feeds in and outputs out, as a network's run does.
  virtual std::vector<Tensor> run(const std::vector<Tensor>& feeds) = 0;
  // share: the feeds' sequences are the core's own (shared, not copied).
  virtual std::vector<Value> run_values(const std::vector<Value>& feeds, bool share) = 0;
};

class NestedRuntime {
 public:
  virtual ~NestedRuntime() = default;
  // The network for `graph` under `key` (the caller's identity and the
  // input types it retyped the graph to), made with the parent's options on
  // first use and kept with the parent.
  virtual NestedNet& nested(const std::string& key, const std::shared_ptr<const Graph>& graph) = 0;
};

}  // namespace loadrun
