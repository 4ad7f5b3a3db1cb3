// Network: a Graph compiled for one set of input shapes into a Plan (layouts,
// folded constants, chosen algorithms, memory plan, comp seq of bound
// kernels), and the executor that runs it. Plans are cached per input-shape
// signature, so changing shapes between runs re-infers once and then reuses.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fastrun/algo_chooser.h"
#include "graph/graph.h"
#include "runtime/comp_node.h"

namespace loadrun {

struct NetworkOptions {
  ChooserOptions chooser;
  // Algorithms transform constant weights once at compile time (Algo::preprocess).
  bool weight_preprocess = false;
  // Graph passes (passes/passes.h: Conv+BN+activation fusion) run when the
  // network is built, like ONNX Runtime's default optimisations.
  bool optimize = true;
};

struct IOInfo {
  std::string name;
  Shape shape;  // -1 for a dim not yet known (before the first compile)
  DType dtype;
};

struct StepInfo {
  std::string opr;   // "name{Type}"
  std::string algo;
  std::vector<std::string> in_layouts, out_layouts;
  size_t workspace;
  bool preprocessed;  // the algo transformed this step's weights at compile time
};

struct BenchResult {
  std::vector<double> warmup_ms;
  std::vector<double> iter_ms;
};

class Network {
 public:
  explicit Network(std::shared_ptr<const Graph> graph, NetworkOptions opt = {});
  ~Network();

  // Compiles for these input shapes (in graph input order), or reuses the
  // cached plan for them, and makes it current.
  void compile(const std::vector<Shape>& input_shapes);
  bool compiled() const { return current_ != nullptr; }

  std::vector<IOInfo> inputs() const;
  std::vector<IOInfo> outputs() const;

  // Copies feeds in (compiling for their shapes if needed), runs, and returns
  // copies of the outputs in graph output order.
  std::vector<Tensor> run(const std::vector<Tensor>& feeds);
  // Compiles for the feeds' shapes if needed and copies them in, no run.
  void bind_inputs(const std::vector<Tensor>& feeds);
  void set_input(size_t i, const Tensor& src);
  void execute();
  const Tensor& output(size_t i) const;

  // Runs warmup + iters times on the current inputs, timing each run.
  BenchResult benchmark(int iters, int warmup);

  std::vector<StepInfo> steps() const;
  size_t arena_bytes() const;
  const Graph& graph() const { return *graph_; }

 private:
  struct Plan;
  std::unique_ptr<Plan> build_plan(const std::vector<Shape>& input_shapes);
  void require_compiled() const;

  std::shared_ptr<const Graph> graph_;
  NetworkOptions opt_;
  CpuCompNode cpu_;
  AlgoChooser chooser_;
  std::map<std::vector<Shape>, std::unique_ptr<Plan>> plans_;
  Plan* current_ = nullptr;
};

}  // namespace loadrun
