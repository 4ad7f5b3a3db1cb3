// Network: a Graph compiled for one set of input shapes into a Plan (layouts,
// folded constants, chosen algorithms, memory plan, comp seq of bound
// kernels), and the executor that runs it. Plans are cached per input-shape
// signature, so changing shapes between runs re-infers once and then reuses.
//
// Dynamic shapes. When an op's inference needs a value compile cannot know:
// - if that value is computed from small integer graph inputs only (axes,
//   pads, a target shape fed as an input), binding inputs picks a plan built
//   for those inputs' values (cached per value, under the shape plan): the
//   plan is fully static for them, and a run with other values re-plans once;
// - otherwise (NonZero, Unique, sizes computed from tensor contents) the node,
//   and every node reading what it produces, is inferred at run time: each
//   run infers it with the now-known values, sizes its outputs (keeping the
//   buffer when it still fits), picks its algorithm (cached per layouts) and
//   runs it. Output shapes then come from the last run.
// A model whose shapes are all static compiles and runs exactly as before.
//
// Sequences and optionals (core/value.h). A var of those kinds lives in a
// Value the plan owns, never in the arena; every node that reads or makes one
// is inferred at run time (as above), so whatever follows from its contents
// is too. Graphs of tensors only take none of these paths. run_values /
// bind_values / output_value feed and read inputs and outputs of any kind.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fastrun/algo_chooser.h"
#include "graph/graph.h"
#include "graph/nested.h"
#include "runtime/comp_node.h"
#include "runtime/observer.h"

namespace loadrun {

struct NetworkOptions {
  ChooserOptions chooser;
  // Algorithms transform constant weights once at compile time
  // (Algo::preprocess): GEMM operands packed, Winograd filters transformed.
  // On by default, as ONNX Runtime prepacks; --no-weight-preprocess: off.
  bool weight_preprocess = true;
  // With weight_preprocess: a constant that only preprocessed steps read is
  // freed once the first plan is bound (when this network alone holds its
  // graph). Its readers then keep their algorithm and prepared form in every
  // later plan; a plan for other input shapes that would need the original
  // (another packing, an algorithm that cannot run them) is an InputError
  // naming the node. Off: the originals stay, for any later plan.
  bool free_weights = true;
  // Graph passes (passes/passes.h: Conv+BN+activation fusion) run when the
  // network is built, like ONNX Runtime's default optimisations.
  bool optimize = true;
  // Layout conversion of the conv trunk (passes/passes.h convert_layout):
  // "" none, "nchw44" (block 4), "nchw88" (block 8); applied after the graph
  // passes (with Conv + BN + activation fusion even when optimize is off, as
  // every layout flag of the reference tool enables it).
  std::string layout;
  // Plans kept for distinct input shapes (least recently used dropped first),
  // and value-keyed plans kept per shape plan; each holds its own activation
  // arena. Weights and their preprocessed forms are shared by all plans.
  size_t max_plans = kDefaultMaxPlans;
  // Static memory reuse (greedy by size, views, in-place); off: every tensor
  // its own bytes (--disable-mem-opt).
  bool mem_reuse = true;
  // Debug: fill the arena and workspace with NaN bytes whenever inputs are
  // bound (before they are copied in), so a kernel reading memory nothing
  // wrote shows up (also LOADRUN_DEBUG_FILL_NAN=1).
  bool debug_fill_nan = false;
  // Executor switches (spec section 9).
  // First-run sanity check: guard bytes after every arena tensor and the
  // workspace, checked after each kernel of a plan's first run; a kernel that
  // wrote past its tensor is named (InternalError).
  bool sanity_check = false;
  // Input shapes fixed by the first compile; other shapes are an InputError.
  bool const_shape = false;
  // A plan's first execution allocates and prepares but runs no kernel.
  bool fake_first = false;
  // 1: a plan's first run records its bound kernels and later runs replay
  // them (no observers, no dynamic steps, no checks). 2: also frees the
  // graph metadata replay does not need. Static shapes only.
  int record_level = 0;
  // Where kernels run (runtime/comp_node.h); null: a CPU node running
  // everything on the calling thread. Nested graphs share it.
  std::shared_ptr<CompNode> comp_node;
  static constexpr size_t kDefaultMaxPlans = 8;
};

struct IOInfo {
  std::string name;
  Shape shape;  // -1 for a dim not yet known (before the first compile)
  DType dtype;  // of a sequence or optional: its elements'
  ValueKind kind = ValueKind::kTensor;
};

struct StepInfo {
  std::string opr;   // "name{Type}"
  std::string algo;
  std::vector<std::string> in_layouts, out_layouts;
  size_t workspace;
  bool preprocessed;  // the algo transformed this step's weights at compile time
};

// The current plan's memory (--model-info, --get-static-mem-info).
struct MemoryInfo {
  size_t arena_bytes = 0;        // the activation arena as planned
  size_t lower_bound_bytes = 0;  // largest total of buffers live at one step
  size_t no_reuse_bytes = 0;     // every tensor its own bytes (--disable-mem-opt)
  size_t workspace_bytes = 0;    // scratch, one buffer sized by the largest need
  size_t weight_bytes = 0;       // constants as loaded (that some node reads)
  size_t freed_weight_bytes = 0;     // of those, freed after preprocessing
  size_t prepared_weight_bytes = 0;  // preprocessed forms the current plan uses
  struct TensorMem {
    std::string name;
    size_t bytes;
    int first_use, last_use;  // of its buffer: steps (-1 before the first, INT_MAX after the last)
    size_t offset;
    int buffer;  // tensors sharing a buffer are views or in-place writes of each other
  };
  std::vector<TensorMem> tensors;
  std::vector<std::string> steps;  // node label per step
};

struct BenchResult {
  std::vector<double> warmup_ms;
  std::vector<double> iter_ms;
};

// Thread safety: every public member may be called from several threads at
// once; calls on one Network are serialised (one lock per Network, held for a
// whole run: bind, execute and copying the outputs out), so each caller gets
// its own inputs' results. Distinct Networks run concurrently.
class Network final : public NestedNet, public NestedRuntime {
 public:
  explicit Network(std::shared_ptr<const Graph> graph, NetworkOptions opt = {});
  ~Network();

  // Compiles for these input shapes (in graph input order), or reuses the
  // cached plan for them, and makes it current.
  void compile(const std::vector<Shape>& input_shapes) override;
  bool compiled() const { return current_ != nullptr; }

  std::vector<IOInfo> inputs() const;
  std::vector<IOInfo> outputs() const;

  // Copies feeds in (compiling for their shapes if needed), runs, and returns
  // copies of the outputs in graph output order.
  std::vector<Tensor> run(const std::vector<Tensor>& feeds) override;
  // Compiles for the feeds' shapes if needed and copies them in, no run.
  void bind_inputs(const std::vector<Tensor>& feeds);
  void set_input(size_t i, const Tensor& src);
  void execute();
  const Tensor& output(size_t i) const;

  // Inputs and outputs of any kind (sequences, optionals), in graph order.
  // Tensors are copied in and out as run() does; a sequence's elements are
  // copied in and shared out (they are never written after they are made).
  // share: the feeds' sequences and optionals are the core's own (a nested
  // network's, fed by its op): their elements are shared, not copied.
  std::vector<Value> run_values(const std::vector<Value>& feeds, bool share = false) override;
  void bind_values(const std::vector<Value>& feeds, bool share = false);
  Value output_value(size_t i) const;

  // Nested graphs (graph/nested.h): this network's own nested networks.
  NestedNet& nested(const std::string& key, const std::shared_ptr<const Graph>& graph) override;
  std::vector<NestedOutput> nested_outputs() const override;
  CompNode& comp_node() const { return *cn_; }

  // Runs warmup + iters times on the current inputs, timing each run.
  BenchResult benchmark(int iters, int warmup);
  // Binds `feeds` and benchmarks on them under one lock (another thread's
  // run cannot slip in between).
  BenchResult benchmark_values(const std::vector<Value>& feeds, int iters, int warmup);

  // Plans kept now (shape plans and their value-keyed plans), and the
  // preprocessed weights alive (each shared by every plan that uses it).
  size_t num_plans() const;
  size_t num_prepared() const;

  // Observers of every step of every run (runtime/observer.h), in order.
  void add_observer(std::shared_ptr<StepObserver> o);
  void remove_observer(const StepObserver* o);

  std::vector<StepInfo> steps() const;
  size_t arena_bytes() const;
  MemoryInfo memory_info() const;
  // --record-comp-seq: whether the current plan replays, and (level 2) the
  // bytes of metadata freed when it was recorded.
  bool replaying() const;
  size_t freed_bytes() const;
  const Graph& graph() const { return *graph_; }
  AlgoChooser& chooser() { return chooser_; }  // fast-run log and statistics

 private:
  struct Plan;  // runtime/plan.h
  // The comp seq as compile leaves it: per step, its node, chosen algorithm
  // (null: a dynamic step, inferred and given its algo per run) and the
  // input its output 0 may view (-1: none; compile passes set it).
  struct Choices {
    std::vector<const OprNode*> nodes;
    std::vector<const Algo*> algos;
    std::vector<int> view_of;
  };
  // input_values: per graph input, its value when the plan is keyed on it
  // (null, or shorter than the inputs: unknown until run time).
  // build_plan = compile_steps (compile.cpp) → plan_memory → bind_steps
  // (bind.cpp); the plan then runs in execute (executor.cpp).
  std::unique_ptr<Plan> build_plan(const std::vector<Shape>& input_shapes,
                                   const std::vector<const Tensor*>& input_values = {});
  Choices compile_steps(Plan& p, const std::vector<Shape>& input_shapes,
                        const std::vector<const Tensor*>& input_values);
  void plan_memory(Plan& p, const Choices& choices);
  void bind_steps(Plan& p, const Choices& choices);
  void require_compiled() const;

  // Dynamic shapes (see the top of this file).
  bool infer_at_compile(Plan& p, const OprNode& node, InferCtx& ic, const std::string& where);
  bool value_sources(const Plan& p, int vid, std::vector<int>& inputs,
                     std::map<int, bool>& memo) const;
  void select_value_plan(const std::vector<Tensor>& feeds);
  void fill_nan(Plan& p) const;
  void fill_guards(Plan& p, int step) const;
  void check_guards(const Plan& p, size_t step) const;
  void record(Plan& p);
  void prepare_dynamic_step(Plan& p, size_t s);

  // Sequences and optionals (see the top of this file).
  void init_values(Plan& p) const;
  bool makes_values(const OprNode& node) const;
  void bind_step_values(Plan& p, const OprNode& node, KernCtx& ctx) const;

  // Weight preprocessing results shared by every plan: per (node, algo,
  // Algo::preprocess_key) while some plan uses them.
  Prepared prepared_for(const OprNode& node, const Algo& algo, const InLayouts& in,
                        const std::vector<const Tensor*>& values);

  // The algorithm a freed constant's reader keeps (free_prepared_weights), or
  // null. When it cannot run these layouts, the freed original is rebuilt
  // (Algo::unprepare) into the graph and the plan, and null returned;
  // InputError when it cannot be.
  const Algo* pinned_algo(Plan& p, const OprNode& node, const InLayouts& in, const OutLayouts& out);
  void evict_plans();

  std::shared_ptr<const Graph> graph_;
  NetworkOptions opt_;
  std::shared_ptr<CompNode> cn_owned_;
  CompNode* cn_;
  AlgoChooser chooser_;
  std::map<std::string, std::unique_ptr<Network>> nested_;
  std::map<std::vector<Shape>, std::unique_ptr<Plan>> plans_;
  Plan* current_ = nullptr;
  uint64_t use_clock_ = 0;  // LRU: plans remember the clock of their last use
  struct WeakPrepared {
    std::weak_ptr<const void> data;
    size_t bytes;
    int replaces;
  };
  std::map<std::string, WeakPrepared> prepared_;
  // Freed constants (vars) and what their readers keep (per node id).
  struct Pinned {
    const Algo* algo;
    std::string key;  // Algo::preprocess_key the prepared data was made for
    Prepared prepared;
    std::vector<Layout> in_layouts;  // the node's input layouts then
    std::vector<char> in_present;    // per input: not an absent optional one
  };
  std::map<int, Pinned> pinned_;
  std::vector<int> released_;
  size_t released_bytes_ = 0;

  // Frees weights as bind prepares their readers (free_weights.cpp).
  class WeightFreer {
   public:
    WeightFreer(Network& net, Plan& p);
    void prepared(const OprNode& node, const Algo& algo, const Prepared& prep);

   private:
    bool may_stand_in(const OprNode& node, const Algo& algo, size_t r, const Tensor& w) const;
    Network& net_;
    Plan& p_;
    bool on_ = false, shapes_fixed_ = false;
    std::vector<int> left_;  // per var: readers not yet prepared; -1: not to be freed
    std::vector<std::vector<std::pair<int, Pinned>>> pending_;  // per var: its readers' pins
  };
  std::vector<std::shared_ptr<StepObserver>> observers_;
  mutable std::recursive_mutex mu_;
};

}  // namespace loadrun
