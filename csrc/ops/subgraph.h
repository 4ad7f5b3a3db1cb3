// SubGraph: an ONNX GRAPH attribute (If's branches, Loop's and Scan's body)
// run as a nested network that the runtime owns (graph/nested.h): each
// parent network keeps its own, made with the parent's options, so the op
// (shared by every network built from one import) holds no run state. Its
// inputs are the formal inputs followed by the captures (names read from
// enclosing scopes, which the importer appends to the node's inputs: the
// attribute `_loadrun_captures` counts them). A run copies the feeds in and
// the outputs out.
//
// Sequences and optionals pass through: run_values feeds and returns Values
// of any kind (a capture, a Loop-carried value, an If result may be one).
//
// Thread safety: the graph's inputs take the dtypes and ranks fed (ONNX may
// leave them undeclared), so infer and run retype it under the SubGraph's
// lock; networks running at once take turns in it.
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "graph/attrs.h"
#include "graph/graph.h"
#include "graph/nested.h"

namespace loadrun {

class SubGraph {
 public:
  SubGraph(std::shared_ptr<Graph> graph, std::string what);
  ~SubGraph();
  const Graph& graph() const { return *graph_; }
  const std::string& what() const { return what_; }
  size_t num_inputs() const { return graph_->inputs().size(); }
  size_t num_outputs() const { return graph_->outputs().size(); }

  // Compiles for inputs of these layouts (or reuses the plan) and gives the
  // output layouts; false when some output shape is only known by running.
  // A sequence or optional input stands as a scalar layout of its element
  // dtype (layouts_of), and a sequence or optional output gives one back
  // (its contents are only known by running; no layout describes them).
  bool infer(NestedRuntime* rt, const std::vector<Layout>& in, std::vector<Layout>* out);
  // Runs on the feeds (compiling for their shapes if needed); copies of the outputs.
  std::vector<Tensor> run(NestedRuntime* rt, const std::vector<const Tensor*>& feeds);
  // The same for inputs and outputs of any kind.
  std::vector<Value> run_values(NestedRuntime* rt, const std::vector<Value>& feeds);
  ValueKind input_kind(size_t i) const;
  ValueKind output_kind(size_t o) const;

 private:
  NestedNet& network_for(NestedRuntime* rt, const std::vector<DType>& dtypes,
                         const std::vector<size_t>& ranks);
  std::shared_ptr<Graph> graph_;
  std::string what_;
  std::recursive_mutex mu_;
};

// A node's inputs [from, end) as subgraph feeds, tensors and Values alike
// (tensors are borrowed). Absent inputs: ModelError.
std::vector<Value> feeds_of(const KernCtx& ctx, size_t from);
// The same at inference, from the inputs' values (ctx.value: UnsupportedError
// when one is not known).
std::vector<Value> feeds_of(const InferCtx& ctx, size_t from, const char* what);
// Layouts of a node's inputs [from, end) for SubGraph::infer (a sequence or
// optional gives a scalar layout of its element dtype).
std::vector<Layout> layouts_of(const InferCtx& ctx, size_t from);
// Output `o` of the node from a subgraph's result `v`: a tensor is copied
// into the planned output (its layout must be the inferred one), a Value
// assigned.
void write_output(const KernCtx& ctx, size_t o, const Value& v, const std::string& what);

// The number of captures the importer appended to a node's inputs.
int64_t num_captures(const Attrs& a);

// The truth of a one-element tensor (a condition); ModelError otherwise.
bool truth_of(const Tensor& t, const char* what);

// Copies slice `index` along `axis` of `src` into `dst` (whose shape is src's
// without that axis), or, with `scatter`, `src` into slice `index` of `dst`.
// Any dtype (bytes are moved).
void copy_slice(const Tensor& whole, int64_t axis, int64_t index, const Tensor& part, bool scatter);

}  // namespace loadrun
