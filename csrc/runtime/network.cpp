#include "runtime/network.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/errors.h"
#include "runtime/plan_memory.h"
#include "passes/passes.h"

namespace loadrun {

struct Network::Plan {
  struct Step {
    const OprNode* node;
    const Algo* algo;
    KernCtx ctx;
    size_t workspace;
    BoundKernel kernel;  // algo bound to this step's layouts (Algo::bind)
    std::shared_ptr<const void> prepared;
    bool dynamic = false;  // inferred, sized and given its algo at run time
  };
  // Executor switches: runs so far, whether the sanity check has passed, and
  // the recorded kernels replayed by later runs (--record-comp-seq).
  bool ran = false, checked = false;
  struct Replay {
    const BoundKernel* kernel;
    const KernCtx* ctx;
  };
  std::vector<Replay> replay;
  size_t freed_bytes = 0;
  std::vector<Shape> key;
  uint64_t last_use = 0;          // Network::use_clock_ when last made current
  std::vector<Layout> layouts;    // per var
  std::vector<Tensor> tensors;    // per var: constants own theirs, the rest view the arena
  std::vector<char> known;        // per var: value known at compile time
  std::vector<Step> seq;
  std::shared_ptr<uint8_t> arena, workspace;
  size_t arena_bytes = 0, workspace_bytes = 0;
  ActivationPlan mem;  // buffers and their offsets (plan_memory.h)

  // Dynamic shapes: nodes inferred at run time (Step::dynamic).
  std::vector<char> dyn;     // per var: layout known only at run time
  bool has_dynamic = false;  // some step is dynamic (re-inferred in the execute loop)
  struct DynBuf {
    std::shared_ptr<uint8_t> storage;
    size_t capacity = 0;
  };
  std::map<int, DynBuf> dyn_bufs;  // per dynamic var: its own buffer, kept while it fits
  std::map<std::pair<int, std::string>, BoundKernel> dyn_algos;  // per (node, layouts): re-bound
  std::shared_ptr<uint8_t> dyn_workspace;
  size_t dyn_workspace_bytes = 0;

  // Value-keyed plans. wants: graph inputs (indices) whose values, were they
  // known, would make more of this plan static. A plan built for shapes alone
  // is a base; plans built for values of its key_inputs hang off it.
  std::vector<int> wants;
  Plan* base = nullptr;   // keyed plans: their base
  std::string value_key;  // keyed plans: bytes of the key inputs' values
  std::vector<int> key_inputs;                             // base only
  std::map<std::string, std::unique_ptr<Plan>> by_value;  // base only

  // Sequences and optionals: per var, its Value (sized only when the graph
  // has such vars; tensor vars leave theirs unused).
  std::vector<Value> values;
};

Network::Network(std::shared_ptr<const Graph> graph, NetworkOptions opt)
    : graph_(opt.optimize ? optimize_graph(std::move(graph)) : std::move(graph)),
      opt_(opt),
      cn_owned_(opt.comp_node ? opt.comp_node : std::make_shared<CpuCompNode>()),
      cn_(cn_owned_.get()),
      chooser_([&] {
        ChooserOptions c = opt.chooser;
        c.comp_node = cn_;  // profiling runs on the network's CompNode
        return c;
      }()) {
  chooser_.set_weight_preprocess(opt.weight_preprocess);
  if (opt_.record_level && !opt_.const_shape) {
    for (int vid : graph_->inputs()) {
      const Var& v = graph_->vars()[vid];
      for (int64_t d : v.shape)
        LR_CHECK(d >= 0, UnsupportedError, "--record-comp-seq needs static shapes: input '", v.name,
                 "' has a symbolic dim ", shape_str(v.shape), "; add --const-shape to fix them");
    }
  }
  const char* fill = std::getenv("LOADRUN_DEBUG_FILL_NAN");
  if (fill && *fill && std::string(fill) != "0") opt_.debug_fill_nan = true;
}

Network::~Network() = default;

// Nested graphs (graph/nested.h): one network per caller key, with this
// network's options (less the switches that only make sense at the top: a
// nested network runs many times, with shapes its parent decides).
NestedNet& Network::nested(const std::string& key, const std::shared_ptr<const Graph>& graph) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  auto it = nested_.find(key);
  if (it != nested_.end()) return *it->second;
  NetworkOptions o = opt_;
  o.fake_first = false;
  o.const_shape = false;
  o.record_level = 0;
  o.comp_node = cn_owned_;
  return *(nested_[key] = std::make_unique<Network>(graph, o));
}

std::vector<NestedOutput> Network::nested_outputs() const {
  std::vector<NestedOutput> r;
  for (const IOInfo& o : outputs()) r.push_back({o.shape, o.dtype, o.kind});
  return r;
}

namespace {

void check_input_shape(const Var& v, const Shape& given) {
  if (v.shape.size() != given.size()) {
    LR_THROW(InputError, "input '", v.name, "': model expects ", v.shape.size(),
             " dims ", shape_str(v.shape), ", got ", given.size(), " dims ", shape_str(given));
  }
  for (size_t d = 0; d < given.size(); ++d) {
    LR_CHECK(given[d] >= 0, InputError, "input '", v.name, "': dim ", d, " is negative");
    if (v.shape[d] >= 0 && v.shape[d] != given[d]) {
      LR_THROW(InputError, "input '", v.name, "': dim ", d, " must be ", v.shape[d], ", got ",
               given[d], " (model shape ", shape_str(v.shape), ", given ", shape_str(given), ")");
    }
  }
}

constexpr size_t kGuardBytes = 64;      // after every planned buffer, with the sanity check
constexpr unsigned char kGuardByte = 0xA5;

// The arena and workspace: not zero-filled (kernels write what they read
// later); filled with NaN bytes (0xFF) at every run under the debug option.
std::shared_ptr<uint8_t> alloc_arena(size_t bytes) {
  size_t n = std::max<size_t>((bytes + 63) / 64 * 64, 64);
  void* q = std::aligned_alloc(64, n);
  if (!q) LR_THROW(ResourceError, "out of memory: the activation arena needs ", bytes, " bytes");
  return std::shared_ptr<uint8_t>(static_cast<uint8_t*>(q), [](uint8_t* x) { std::free(x); });
}

// Bytes for the size of `l`; InputError when they cannot be had.
size_t checked_nbytes(const Layout& l, const std::string& what) {
  uint64_t n = dtype_size(l.dtype);
  for (int64_t d : l.shape) {
    if (d != 0 && n > (uint64_t{1} << 48) / static_cast<uint64_t>(d))
      LR_THROW(InputError, what, " of shape ", shape_str(l.shape), " is too large to allocate");
    n *= static_cast<uint64_t>(d);
  }
  return static_cast<size_t>(n);
}

}  // namespace

std::unique_ptr<Network::Plan> Network::build_plan(const std::vector<Shape>& input_shapes,
                                                   const std::vector<const Tensor*>& input_values) {
  const Graph& g = *graph_;
  LR_CHECK(input_shapes.size() == g.inputs().size(), InputError, "the model has ",
           g.inputs().size(), " inputs, ", input_shapes.size(), " shapes given");
  auto plan = std::make_unique<Plan>();
  Plan& p = *plan;
  p.key = input_shapes;
  size_t nv = g.vars().size();
  p.layouts.resize(nv);
  p.tensors.resize(nv);
  p.known.assign(nv, 0);
  p.dyn.assign(nv, 0);
  if (g.has_non_tensor()) init_values(p);
  std::vector<char> ready(nv, 0);
  for (const Var& v : g.vars()) {
    if (v.is_const) {
      p.layouts[v.id] = v.value.layout();
      p.tensors[v.id] = v.value;
      p.known[v.id] = 1;
      ready[v.id] = 1;
    }
  }
  for (size_t i = 0; i < g.inputs().size(); ++i) {
    const Var& v = g.vars()[g.inputs()[i]];
    if (v.kind != ValueKind::kTensor) {  // a Value: no shape (init_values made it dynamic)
      ready[v.id] = 1;
      continue;
    }
    check_input_shape(v, input_shapes[i]);
    p.layouts[v.id] = Layout(input_shapes[i], v.dtype);
    checked_nbytes(p.layouts[v.id], str_cat("input '", v.name, "'"));  // InputError when absurd
    ready[v.id] = 1;
    if (i < input_values.size() && input_values[i]) {  // a value the plan is keyed on
      p.tensors[v.id] = input_values[i]->clone();
      p.known[v.id] = 1;
    }
  }

  // Shape inference, folding of what is known, algorithm choice.
  std::vector<const OprNode*> runtime_nodes;
  std::vector<const Algo*> runtime_algos;
  for (const auto& node_ptr : g.oprs()) {
    const OprNode& node = *node_ptr;
    std::string where = node.name + " (" + node.def->type + "): ";
    InferCtx ic;
    ic.runtime = this;
    bool all_known = true;
    for (int vid : node.inputs) {
      if (vid < 0) {
        ic.in.push_back(nullptr);
        ic.values.push_back(nullptr);
        continue;
      }
      LR_CHECK(ready[vid], InternalError, where, "input '", g.vars()[vid].name, "' not ready");
      ic.in.push_back(&p.layouts[vid]);
      ic.values.push_back(p.known[vid] ? &p.tensors[vid] : nullptr);
      all_known = all_known && p.known[vid];
    }
    ic.out.assign(node.outputs.size(), Layout(Shape{-1}, DType::Float32));
    if (!infer_at_compile(p, node, ic, where)) {  // shapes known only at run time
      for (int vid : node.outputs) {
        p.layouts[vid] = Layout(Shape{-1}, DType::Float32);
        p.dyn[vid] = 1;
        ready[vid] = 1;
      }
      p.has_dynamic = true;
      runtime_nodes.push_back(&node);
      runtime_algos.push_back(nullptr);
      continue;
    }
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      const Layout& l = ic.out[o];
      for (int64_t d : l.shape)
        LR_CHECK(d >= 0, ModelError, where, "the operator gives no output ", o,
                 " (the node has more outputs than the operator makes, or its inputs leave it unset)");
      checked_nbytes(l, str_cat(where, "output ", o));
      p.layouts[node.outputs[o]] = l;
      ready[node.outputs[o]] = 1;
    }
    bool fold = node.op->shape_only() || (all_known && node.op->foldable());
    if (fold) {
      KernCtx kc;
      kc.comp_node = cn_;
      kc.runtime = this;
      std::vector<Tensor> shells(node.inputs.size());
      for (size_t i = 0; i < node.inputs.size(); ++i) {
        int vid = node.inputs[i];
        if (vid < 0) {
          kc.in.push_back(nullptr);
        } else if (p.known[vid]) {
          kc.in.push_back(&p.tensors[vid]);
        } else {  // shape-only op: the layout is all it reads
          shells[i] = Tensor::borrow(p.layouts[vid], nullptr);
          kc.in.push_back(&shells[i]);
        }
      }
      for (int vid : node.outputs) {
        p.tensors[vid] = Tensor(p.layouts[vid]);
        kc.out.push_back(&p.tensors[vid]);
      }
      const Algo* naive = node.def->algos.front();
      InLayouts in_l(ic.in);
      size_t ws = naive->workspace(*node.op, in_l, ic.out);
      std::shared_ptr<uint8_t> wsbuf;
      if (ws) {
        wsbuf = alloc_aligned(ws);  // one slot: kc.comp_node is null, kernels run inline
        kc.workspace = wsbuf.get();
        kc.workspace_size = ws;
        kc.workspace_stride = workspace_stride(ws);
      }
      with_context(where, [&] { naive->exec(*node.op, kc); });
      for (int vid : node.outputs) p.known[vid] = 1;
      continue;
    }
    runtime_nodes.push_back(&node);
    runtime_algos.push_back(
        with_context(where, [&] { return chooser_.choose(node, InLayouts(ic.in), ic.out, ic.values); }));
  }

  // Plan memory (runtime/plan_memory.h): every var computed at run time, and
  // every input, gets arena bytes; views share their input's, in-place
  // outputs take a dying input's.
  std::vector<char> planned(nv, 0);
  std::vector<size_t> var_bytes(nv, 0);
  auto want = [&](int vid) {
    if (vid < 0 || p.dyn[vid] || p.known[vid]) return;  // own buffers / a keyed input's value
    planned[vid] = 1;
    var_bytes[vid] = p.layouts[vid].nbytes();
  };
  for (int vid : g.inputs()) want(vid);
  std::vector<MemStepDesc> mem_steps(runtime_nodes.size());
  for (size_t s = 0; s < runtime_nodes.size(); ++s) {
    const OprNode& node = *runtime_nodes[s];
    MemStepDesc& d = mem_steps[s];
    d.inputs = node.inputs;
    d.outputs = node.outputs;
    for (int vid : node.outputs) want(vid);
    if (!runtime_algos[s] || node.outputs.empty()) continue;  // dynamic steps: no views
    InLayouts in_l;
    for (int vid : node.inputs) in_l.push_back(vid < 0 || p.dyn[vid] ? nullptr : &p.layouts[vid]);
    d.alias_input = node.op->alias_input(in_l);
    int ip = node.op->inplace_input(in_l);
    if (ip >= 0 && ip < static_cast<int>(node.inputs.size()) && node.inputs[ip] >= 0 &&
        p.layouts[node.inputs[ip]].same_shape_dtype(p.layouts[node.outputs[0]]))
      d.inplace_input = ip;
  }
  p.mem = plan_activations(mem_steps, var_bytes, planned, g.inputs(), g.outputs(), opt_.mem_reuse,
                           opt_.sanity_check ? kGuardBytes : 0);
  p.arena_bytes = p.mem.plan.arena_bytes;
  p.arena = alloc_arena(p.arena_bytes);
  for (size_t vid = 0; vid < nv; ++vid)
    if (planned[vid])
      p.tensors[vid] = Tensor::view(p.layouts[vid], p.arena, p.mem.offset_of(static_cast<int>(vid)));

  // Comp seq: bind every kernel to its tensors once.
  for (size_t s = 0; s < runtime_nodes.size(); ++s) {
    const OprNode& node = *runtime_nodes[s];
    Plan::Step step{&node, runtime_algos[s], {}, 0, {}, nullptr};
    if (!step.algo) {  // dynamic: bound to its tensors now, sized and given an algo per run
      step.dynamic = true;
      for (int vid : node.inputs) step.ctx.in.push_back(vid < 0 ? nullptr : &p.tensors[vid]);
      for (int vid : node.outputs) step.ctx.out.push_back(&p.tensors[vid]);
      if (g.has_non_tensor()) bind_step_values(p, node, step.ctx);
      step.ctx.comp_node = cn_;
      step.ctx.runtime = this;
      p.seq.push_back(std::move(step));
      continue;
    }
    InLayouts in_l;
    OutLayouts out_l;
    std::vector<const Tensor*> values;
    for (int vid : node.inputs) {
      step.ctx.in.push_back(vid < 0 ? nullptr : &p.tensors[vid]);
      in_l.push_back(vid < 0 ? nullptr : &p.layouts[vid]);
      values.push_back(vid >= 0 && p.known[vid] ? &p.tensors[vid] : nullptr);
    }
    if (opt_.weight_preprocess) {
      std::string where = node.label() + ": ";
      step.prepared = with_context(where, [&] { return prepared_for(node, *step.algo, in_l, values); });
      step.ctx.prepared = step.prepared.get();
    }
    for (int vid : node.outputs) {
      step.ctx.out.push_back(&p.tensors[vid]);
      out_l.push_back(p.layouts[vid]);
    }
    step.ctx.comp_node = cn_;
    step.ctx.runtime = this;
    step.kernel = with_context(node.label() + ": ",
                               [&] { return step.algo->bind(*node.op, in_l, out_l, *cn_); });
    step.workspace = step.kernel.workspace;
    p.workspace_bytes = std::max(p.workspace_bytes, step.workspace);
    p.seq.push_back(std::move(step));
  }
  // One scratch slot per thread of the node, each sized by the largest need.
  size_t stride = workspace_stride(p.workspace_bytes);
  p.workspace_bytes = workspace_total(p.workspace_bytes, cn_->num_threads());
  if (p.workspace_bytes) p.workspace = alloc_arena(p.workspace_bytes + p.mem.guard);
  if (p.mem.guard) fill_guards(p, -2);
  for (auto& step : p.seq) {
    if (step.dynamic) continue;
    step.ctx.workspace = step.workspace ? p.workspace.get() : nullptr;
    step.ctx.workspace_size = step.workspace;
    step.ctx.workspace_stride = stride;
  }
  return plan;
}

void Network::compile(const std::vector<Shape>& input_shapes) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  if (opt_.const_shape && current_ && current_->key != input_shapes) {
    std::string want, got;
    for (const Shape& s : current_->key) want += shape_str(s);
    for (const Shape& s : input_shapes) got += shape_str(s);
    LR_THROW(InputError, "input shapes are fixed (--const-shape): ", want, ", got ", got);
  }
  auto it = plans_.find(input_shapes);
  if (it == plans_.end()) {
    auto plan = build_plan(input_shapes);
    plan->key_inputs = plan->wants;  // bind_inputs looks for a plan keyed on their values
    it = plans_.emplace(input_shapes, std::move(plan)).first;
  }
  current_ = it->second.get();
  current_->last_use = ++use_clock_;
  evict_plans();
}

// Drops the least recently used shape plans beyond opt_.max_plans (never the
// current one); their arenas go with them, and preprocessed weights no plan
// uses any more.
void Network::evict_plans() {
  size_t keep = std::max<size_t>(opt_.max_plans, 1);
  while (plans_.size() > keep) {
    auto victim = plans_.end();
    for (auto it = plans_.begin(); it != plans_.end(); ++it) {
      Plan* p = it->second.get();
      if (p == current_ || (current_ && current_->base == p)) continue;
      if (victim == plans_.end() || p->last_use < victim->second->last_use) victim = it;
    }
    if (victim == plans_.end()) return;
    plans_.erase(victim);
  }
  for (auto it = prepared_.begin(); it != prepared_.end();)
    it = it->second.expired() ? prepared_.erase(it) : std::next(it);
}

std::shared_ptr<const void> Network::prepared_for(const OprNode& node, const Algo& algo,
                                                  const InLayouts& in,
                                                  const std::vector<const Tensor*>& values) {
  std::string key = str_cat(node.id, "/", algo.name(), "/", algo.preprocess_key(*node.op, in));
  auto it = prepared_.find(key);
  if (it != prepared_.end())
    if (auto p = it->second.lock()) return p;
  std::shared_ptr<const void> p = algo.preprocess(*node.op, in, values);
  if (p) prepared_[key] = p;
  return p;
}

size_t Network::num_plans() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  size_t n = 0;
  for (const auto& kv : plans_) n += 1 + kv.second->by_value.size();
  return n;
}

size_t Network::num_prepared() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  size_t n = 0;
  for (const auto& kv : prepared_) n += kv.second.expired() ? 0 : 1;
  return n;
}

void Network::require_compiled() const {
  LR_CHECK(current_, InputError, "the network has not been compiled for any input shapes yet");
}

std::vector<IOInfo> Network::inputs() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::vector<IOInfo> r;
  for (size_t i = 0; i < graph_->inputs().size(); ++i) {
    const Var& v = graph_->vars()[graph_->inputs()[i]];
    Shape shape = !current_ ? v.shape
                  : !current_->layouts.empty() ? current_->layouts[v.id].shape
                                               : current_->tensors[v.id].shape();  // after --record-comp-seq2
    r.push_back({v.name, shape, v.dtype, v.kind});
  }
  return r;
}

std::vector<IOInfo> Network::outputs() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::vector<IOInfo> r;
  for (int vid : graph_->outputs()) {
    const Var& v = graph_->vars()[vid];
    if (current_ && !current_->layouts.empty()) {
      r.push_back({v.name, current_->layouts[vid].shape,
                   v.kind == ValueKind::kTensor ? current_->layouts[vid].dtype : v.dtype, v.kind});
    } else if (current_) {  // --record-comp-seq2 freed the layouts: the bound tensors have them
      r.push_back({v.name, current_->tensors[vid].shape(), current_->tensors[vid].dtype(), v.kind});
    } else {
      r.push_back({v.name, v.shape, v.dtype, v.kind});
    }
  }
  return r;
}

void Network::set_input(size_t i, const Tensor& src) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  require_compiled();
  LR_CHECK(i < graph_->inputs().size(), InputError, "input index ", i, " out of range");
  int vid = graph_->inputs()[i];
  const Var& v = graph_->vars()[vid];
  LR_CHECK(v.kind == ValueKind::kTensor, InputError, "input '", v.name, "' is a ",
           value_kind_name(v.kind), ": feed it with run_values / bind_values");
  Tensor& dst = current_->tensors[vid];
  LR_CHECK(src.dtype() == v.dtype, InputError, "input '", v.name, "': expected dtype ",
           dtype_name(v.dtype), ", got ", dtype_name(src.dtype()));
  LR_CHECK(src.shape() == dst.shape(), InputError, "input '", v.name, "': expected shape ",
           shape_str(dst.shape()), ", got ", shape_str(src.shape()));
  if (!current_->known.empty() && current_->known[vid]) {  // the plan is keyed on this input's value
    LR_CHECK(std::memcmp(src.raw(), dst.raw(), src.nbytes()) == 0, InputError, "input '", v.name,
             "' decides shapes and the plan was built for another value of it: bind all inputs "
             "together (run / bind_inputs)");
    return;
  }
  dst.copy_from(src);
}

// The execute loop: one pass over the bound steps. A dynamic step re-infers
// and re-binds itself first; observers see every step before and after; the
// first run of a plan checks the guard bytes after every step (sanity check).
// A recorded plan replays its kernels instead (--record-comp-seq).
void Network::execute() {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  require_compiled();
  Plan& p = *current_;
  if (!p.replay.empty()) {
    for (const Plan::Replay& r : p.replay) r.kernel->fn(*r.kernel, *r.ctx);
    return;
  }
  if (opt_.fake_first && !p.ran) {  // allocation and preparation are done: no kernel runs
    p.ran = true;
    return;
  }
  const bool guards = p.mem.guard && !p.checked;
  const bool observed = !observers_.empty();
  using clock = std::chrono::steady_clock;
  for (size_t s = 0; s < p.seq.size(); ++s) {
    Plan::Step& step = p.seq[s];
    try {
      if (step.dynamic) prepare_dynamic_step(p, s);
      if (guards) fill_guards(p, static_cast<int>(s));
      if (!observed) {
        step.kernel(step.ctx);
      } else {
        StepEvent ev{s, step.node, step.algo->name(), &step.ctx, 0.0};
        for (auto& o : observers_) o->before_step(ev);
        auto t0 = clock::now();
        step.kernel(step.ctx);
        ev.ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
        for (auto& o : observers_) o->after_step(ev);
      }
      if (guards) check_guards(p, s);
    } catch (const Error&) {
      with_context(step.node->label() + ": ", [] { throw; });
    }
  }
  p.ran = true;
  p.checked = p.checked || guards;
  if (opt_.record_level) record(p);
}

// --record-comp-seq: the plan's kernels as an array of (algo, op, bound
// context), replayed by every later run. Level 2 frees what replay does not
// read: the per-var tables of the plan, the memory plan, every other plan.
void Network::record(Plan& p) {
  LR_CHECK(!p.has_dynamic && !p.base && p.key_inputs.empty(), UnsupportedError,
           "--record-comp-seq needs static shapes, and this model has shapes decided at run time "
           "(by input values or tensor contents)");
  p.replay.reserve(p.seq.size());
  for (const Plan::Step& st : p.seq) p.replay.push_back({&st.kernel, &st.ctx});
  if (opt_.record_level < 2) return;
  size_t freed = p.layouts.capacity() * sizeof(Layout) + p.known.capacity() + p.dyn.capacity() +
                 p.mem.buffer_of.capacity() * sizeof(int) +
                 p.mem.buffers.capacity() * sizeof(MemRequest) +
                 p.mem.payload.capacity() * sizeof(size_t) +
                 p.mem.plan.offsets.capacity() * sizeof(size_t);
  for (const Layout& l : p.layouts) freed += l.shape.capacity() * sizeof(int64_t);
  std::vector<Layout>().swap(p.layouts);
  std::vector<char>().swap(p.known);
  std::vector<char>().swap(p.dyn);
  p.mem = ActivationPlan{};
  for (auto it = plans_.begin(); it != plans_.end();)
    it = it->second.get() == &p ? std::next(it) : plans_.erase(it);
  p.freed_bytes = freed;
}

bool Network::replaying() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return current_ && !current_->replay.empty();
}

size_t Network::freed_bytes() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return current_ ? current_->freed_bytes : 0;
}

// Guard bytes after the buffers that come to life at `step` (all of them
// when -2: at plan time), and after the workspace. A buffer's guard lies in
// bytes that other buffers may use while it is dead, so it is laid when the
// buffer is born and checked only while it lives (the sanity check).
void Network::fill_guards(Plan& p, int step) const {
  for (size_t b = 0; b < p.mem.buffers.size(); ++b)
    if (step == -2 || p.mem.buffers[b].first_use == step)
      std::memset(p.arena.get() + p.mem.plan.offsets[b] + p.mem.payload[b], kGuardByte, p.mem.guard);
  if (p.workspace && step == -2)
    std::memset(p.workspace.get() + p.workspace_bytes, kGuardByte, p.mem.guard);
}

// After step `s` of the first run: a changed guard names what was overrun.
void Network::check_guards(const Plan& p, size_t s) const {
  auto intact = [&](const uint8_t* g) {
    for (size_t i = 0; i < p.mem.guard; ++i)
      if (g[i] != kGuardByte) return false;
    return true;
  };
  const int step = static_cast<int>(s);
  for (size_t b = 0; b < p.mem.buffers.size(); ++b) {
    const MemRequest& r = p.mem.buffers[b];
    if (step < r.first_use || step > r.last_use) continue;  // dead: its guard bytes are others'
    if (intact(p.arena.get() + p.mem.plan.offsets[b] + p.mem.payload[b])) continue;
    std::string names;
    for (size_t v = 0; v < p.mem.buffer_of.size(); ++v)
      if (p.mem.buffer_of[v] == static_cast<int>(b))
        names += (names.empty() ? "'" : ", '") + graph_->vars()[v].name + "'";
    LR_THROW(InternalError, "sanity check: the kernel (", p.seq[s].algo->name(),
             ") wrote past the end of tensor ", names, " (", p.mem.payload[b], " bytes)");
  }
  if (p.workspace && !intact(p.workspace.get() + p.workspace_bytes))
    LR_THROW(InternalError, "sanity check: the kernel (", p.seq[s].algo->name(),
             ") wrote past the end of its workspace (", p.seq[s].workspace, " bytes)");
}

void Network::add_observer(std::shared_ptr<StepObserver> o) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  observers_.push_back(std::move(o));
}

void Network::remove_observer(const StepObserver* o) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  observers_.erase(std::remove_if(observers_.begin(), observers_.end(),
                                  [&](const auto& x) { return x.get() == o; }),
                   observers_.end());
}

// NaN bytes over the whole arena (inputs are copied in after it), the
// workspace and the run-time workspace: done when inputs are bound.
void Network::fill_nan(Plan& p) const {
  if (p.arena && p.arena_bytes) std::memset(p.arena.get(), 0xFF, p.arena_bytes);
  if (p.workspace) std::memset(p.workspace.get(), 0xFF, p.workspace_bytes);
  if (p.dyn_workspace) std::memset(p.dyn_workspace.get(), 0xFF, p.dyn_workspace_bytes);
  if (p.mem.guard) fill_guards(p, -2);
}

const Tensor& Network::output(size_t i) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  require_compiled();
  const Var& v = graph_->vars()[graph_->outputs().at(i)];
  LR_CHECK(v.kind == ValueKind::kTensor, InputError, "output '", v.name, "' is a ",
           value_kind_name(v.kind), ": read it with output_value / run_values");
  return current_->tensors[v.id];
}

void Network::bind_inputs(const std::vector<Tensor>& feeds) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::vector<Shape> shapes;
  for (const auto& t : feeds) shapes.push_back(t.shape());
  if (!current_ || current_->key != shapes) compile(shapes);
  if (current_->base || !current_->key_inputs.empty()) select_value_plan(feeds);
  if (opt_.debug_fill_nan) fill_nan(*current_);
  for (size_t i = 0; i < feeds.size(); ++i) set_input(i, feeds[i]);
}

std::vector<Tensor> Network::run(const std::vector<Tensor>& feeds) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  bind_inputs(feeds);
  execute();
  std::vector<Tensor> outs;
  for (size_t i = 0; i < graph_->outputs().size(); ++i) outs.push_back(output(i).clone());
  return outs;
}

BenchResult Network::benchmark(int iters, int warmup) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  require_compiled();
  using clock = std::chrono::steady_clock;
  BenchResult r;
  auto timed = [&] {
    auto t0 = clock::now();
    execute();
    return std::chrono::duration<double, std::milli>(clock::now() - t0).count();
  };
  for (int i = 0; i < warmup; ++i) r.warmup_ms.push_back(timed());
  for (int i = 0; i < iters; ++i) r.iter_ms.push_back(timed());
  return r;
}

BenchResult Network::benchmark_values(const std::vector<Value>& feeds, int iters, int warmup) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  bind_values(feeds);
  return benchmark(iters, warmup);
}

std::vector<StepInfo> Network::steps() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  require_compiled();
  std::vector<StepInfo> r;
  for (const auto& s : current_->seq) {
    StepInfo info{s.node->label(), s.algo ? s.algo->name() : "(run time)", {}, {}, s.workspace,
                  s.prepared != nullptr};
    for (const Tensor* t : s.ctx.in)
      info.in_layouts.push_back(!t ? "{}" : t->empty() ? "{?}" : t->layout().str());
    for (const Tensor* t : s.ctx.out) info.out_layouts.push_back(t->empty() ? "{?}" : t->layout().str());
    r.push_back(std::move(info));
  }
  return r;
}

MemoryInfo Network::memory_info() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  require_compiled();
  const Plan& p = *current_;
  const Graph& g = *graph_;
  MemoryInfo m;
  m.arena_bytes = p.arena_bytes;
  m.lower_bound_bytes = p.mem.lower_bound;
  m.no_reuse_bytes = p.mem.no_reuse;
  m.workspace_bytes = p.workspace_bytes;
  // the constants some node reads (folding and fusion leave the ones they
  // replaced unread in the graph)
  std::vector<char> read(g.vars().size(), 0);
  for (const auto& n : g.oprs())
    for (int vid : n->inputs)
      if (vid >= 0) read[vid] = 1;
  for (const Var& v : g.vars())
    if (v.is_const && read[v.id]) m.weight_bytes += v.value.nbytes();
  for (size_t vid = 0; vid < p.mem.buffer_of.size(); ++vid) {
    int b = p.mem.buffer_of[vid];
    if (b < 0) continue;
    const Var& v = g.vars()[vid];
    int first = p.mem.buffers[b].first_use, last = p.mem.buffers[b].last_use;
    m.tensors.push_back({v.name, p.layouts[vid].nbytes(), first, last, p.mem.plan.offsets[b], b});
  }
  for (const auto& st : p.seq) m.steps.push_back(st.node->label());
  return m;
}

size_t Network::arena_bytes() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  require_compiled();
  return current_->arena_bytes;
}

// ---------------------------------------------------------------------------
// Dynamic shapes: value-keyed plans and run-time inference.

namespace {

constexpr int64_t kMaxKeyElems = 64;  // a graph input keys plans when it is this small

bool keyable(const Layout& l) {
  switch (l.dtype) {
    case DType::Int8: case DType::Uint8: case DType::Int16: case DType::Uint16:
    case DType::Int32: case DType::Uint32: case DType::Int64: case DType::Uint64:
      return l.numel() <= kMaxKeyElems;
    default:
      return false;
  }
}

}  // namespace

// Infers `node` at compile time; false when it must be inferred at run time
// (an input's layout is only known then, or its inference wants a value that
// is). A wanted value that follows from small integer graph inputs alone
// adds those inputs to p.wants.
bool Network::infer_at_compile(Plan& p, const OprNode& node, InferCtx& ic,
                               const std::string& where) {
  for (int vid : node.inputs)
    if (vid >= 0 && p.dyn[vid]) return false;
  if (graph_->has_non_tensor() && makes_values(node)) return false;
  try {
    with_context(where, [&] { node.op->infer(ic); });
  } catch (const UnsupportedError&) {
    if (ic.missing_value < 0 || static_cast<size_t>(ic.missing_value) >= node.inputs.size())
      throw;
    std::vector<int> inputs;
    std::map<int, bool> memo;
    if (value_sources(p, node.inputs[ic.missing_value], inputs, memo)) {
      for (int i : inputs)
        if (std::find(p.wants.begin(), p.wants.end(), i) == p.wants.end()) p.wants.push_back(i);
      std::sort(p.wants.begin(), p.wants.end());
    }
    return false;
  }
  return true;
}

// True when var `vid`'s value follows, through foldable nodes, from constants
// and keyable graph inputs; their input indices are added to `inputs`.
bool Network::value_sources(const Plan& p, int vid, std::vector<int>& inputs,
                            std::map<int, bool>& memo) const {
  if (p.known[vid]) return true;
  if (p.dyn[vid]) return false;
  auto m = memo.find(vid);
  if (m != memo.end()) return m->second;
  const Graph& g = *graph_;
  const Var& v = g.vars()[vid];
  bool ok = false;
  if (v.is_input) {
    ok = keyable(p.layouts[vid]);
    if (ok) {
      auto it = std::find(g.inputs().begin(), g.inputs().end(), vid);
      inputs.push_back(static_cast<int>(it - g.inputs().begin()));
    }
  } else if (v.producer >= 0) {
    const OprNode& n = *g.oprs()[v.producer];
    ok = n.op->foldable() && !n.op->shape_only();
    for (int in : n.inputs)
      if (ok && in >= 0) ok = value_sources(p, in, inputs, memo);
  }
  memo[vid] = ok;
  return ok;
}

// Makes current the plan keyed on the feeds' values of the shape plan's key
// inputs, building (and caching) it when new. Building can reveal more inputs
// to key on (nodes that could not even be inferred without the first ones'
// values): the key then grows and the values' plans are rebuilt.
void Network::select_value_plan(const std::vector<Tensor>& feeds) {
  Plan* base = current_->base ? current_->base : current_;
  const Graph& g = *graph_;
  auto key_of = [&](const std::vector<int>& inputs) {
    std::string key;
    for (int i : inputs) {
      const Tensor& f = feeds.at(i);
      const Var& v = g.vars()[g.inputs()[i]];
      LR_CHECK(f.dtype() == v.dtype, InputError, "input '", v.name, "': expected dtype ",
               dtype_name(v.dtype), ", got ", dtype_name(f.dtype()));
      key.append(static_cast<const char*>(f.raw()), f.nbytes());
    }
    return key;
  };
  std::vector<int> inputs = base->key_inputs;
  for (;;) {
    std::string key = key_of(inputs);
    if (inputs == base->key_inputs) {
      if (current_->base == base && current_->value_key == key) return;  // same values as last run
      auto it = base->by_value.find(key);
      if (it != base->by_value.end()) {
        current_ = it->second.get();
        return;
      }
    }
    std::vector<const Tensor*> values(g.inputs().size(), nullptr);
    for (int i : inputs) values[i] = &feeds[i];
    std::unique_ptr<Plan> plan = build_plan(base->key, values);
    std::vector<int> more = inputs;
    for (int i : plan->wants)
      if (std::find(more.begin(), more.end(), i) == more.end()) more.push_back(i);
    std::sort(more.begin(), more.end());
    if (more != inputs) {  // the values revealed more inputs that decide shapes
      inputs = more;
      continue;
    }
    if (inputs != base->key_inputs || base->by_value.size() >= std::max<size_t>(opt_.max_plans, 1)) {
      base->by_value.clear();  // plans for another key (or too many): current_ is replaced below
      base->key_inputs = inputs;
    }
    plan->base = base;
    plan->value_key = key;
    current_ = (base->by_value[key] = std::move(plan)).get();
    return;
  }
}

// Infers dynamic step `s` from its inputs as they are now, sizes its outputs
// and picks its algorithm (cached per layouts) and workspace.
void Network::prepare_dynamic_step(Plan& p, size_t s) {
  Plan::Step& step = p.seq[s];
  const OprNode& node = *step.node;
  InferCtx ic;
  ic.runtime = this;
  for (const Tensor* t : step.ctx.in) {
    ic.in.push_back(t ? &t->layout() : nullptr);
    ic.values.push_back(t);
  }
  ic.out.assign(node.outputs.size(), Layout(Shape{-1}, DType::Float32));
  if (!step.ctx.seq_in.empty() || !step.ctx.seq_out.empty()) {  // sequences and optionals
    ic.seq_in = step.ctx.seq_in;
    for (const Value* v : step.ctx.seq_out)
      ic.out_kinds.push_back(v ? v->kind : ValueKind::kTensor);
  }
  node.op->infer(ic);
  std::string key;
  for (const Layout* l : ic.in) key += l ? l->str() : "{}";
  key += "->";
  for (size_t o = 0; o < node.outputs.size(); ++o) {
    if (!ic.out_is_tensor(o)) {  // a Value: the kernel fills it
      ic.out[o] = Layout(Shape{}, DType::Float32);
      key += value_kind_name(ic.out_kinds[o]);
      continue;
    }
    const Layout& l = ic.out[o];
    for (int64_t d : l.shape)
      LR_CHECK(d >= 0, ModelError, "the operator gives no output ", o,
               " (the node has more outputs than the operator makes, or its inputs leave it unset)");
    key += l.str();
    int vid = node.outputs[o];
    p.layouts[vid] = l;
    Tensor& t = p.tensors[vid];
    if (!t.empty() && t.layout().same_shape_dtype(l)) continue;  // same size as last run
    Plan::DynBuf& buf = p.dyn_bufs[vid];
    size_t need = checked_nbytes(l, str_cat("output ", o));  // InputError when absurd
    if (need > buf.capacity || !buf.storage) {
      auto fail = [&] {
        LR_THROW(InputError, "output ", o, " of shape ", shape_str(l.shape), " (", need,
                 " bytes) cannot be allocated");
      };
      try {
        buf.storage = alloc_aligned(need);
      } catch (const std::bad_alloc&) {
        fail();
      } catch (const InternalError&) {  // alloc_aligned: out of memory
        fail();
      }
      buf.capacity = need;
    }
    t = Tensor::view(l, buf.storage, 0);
  }
  auto it = p.dyn_algos.find({node.id, key});
  if (it == p.dyn_algos.end()) {
    const Algo* algo = chooser_.choose(node, ic.in, ic.out);
    it = p.dyn_algos.emplace(std::make_pair(node.id, key), algo->bind(*node.op, ic.in, ic.out, *cn_))
             .first;
  }
  step.kernel = it->second;
  step.algo = step.kernel.algo;
  step.workspace = step.kernel.workspace;
  size_t total = workspace_total(step.workspace, cn_->num_threads());
  if (total > p.dyn_workspace_bytes) {
    p.dyn_workspace = alloc_aligned(total);
    p.dyn_workspace_bytes = total;
  }
  step.ctx.workspace = step.workspace ? p.dyn_workspace.get() : nullptr;
  step.ctx.workspace_size = step.workspace;
  step.ctx.workspace_stride = workspace_stride(step.workspace);
}

// ---------------------------------------------------------------------------
// Sequences and optionals.

// Gives every non-tensor var its (empty) Value and makes it dynamic: no arena
// space, and whatever reads it is inferred at run time.
void Network::init_values(Plan& p) const {
  const Graph& g = *graph_;
  p.values.resize(g.vars().size());
  for (const Var& v : g.vars()) {
    if (v.kind == ValueKind::kTensor) continue;
    p.values[v.id].kind = v.kind;
    p.values[v.id].elem = v.dtype;
    p.values[v.id].present = !is_optional(v.kind);
    p.layouts[v.id] = Layout(Shape{-1}, v.dtype);
    p.dyn[v.id] = 1;
  }
}

// Does `node` make a sequence or optional? (Reading one makes it dynamic anyway.)
bool Network::makes_values(const OprNode& node) const {
  for (int vid : node.outputs)
    if (graph_->vars()[vid].kind != ValueKind::kTensor) return true;
  return false;
}

// Binds a dynamic step's sequence and optional inputs and outputs (none for
// a node of tensors only).
void Network::bind_step_values(Plan& p, const OprNode& node, KernCtx& ctx) const {
  const Graph& g = *graph_;
  bool any = makes_values(node);
  for (int vid : node.inputs) any = any || (vid >= 0 && g.vars()[vid].kind != ValueKind::kTensor);
  if (!any) return;
  ctx.seq_in.assign(node.inputs.size(), nullptr);
  ctx.seq_out.assign(node.outputs.size(), nullptr);
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    int vid = node.inputs[i];
    if (vid < 0 || g.vars()[vid].kind == ValueKind::kTensor) continue;
    ctx.in[i] = nullptr;
    ctx.seq_in[i] = &p.values[vid];
  }
  for (size_t o = 0; o < node.outputs.size(); ++o) {
    int vid = node.outputs[o];
    if (g.vars()[vid].kind != ValueKind::kTensor) ctx.seq_out[o] = &p.values[vid];
  }
}

void Network::bind_values(const std::vector<Value>& feeds, bool share) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const Graph& g = *graph_;
  LR_CHECK(feeds.size() == g.inputs().size(), InputError, "the model has ", g.inputs().size(),
           " inputs, ", feeds.size(), " given");
  std::vector<Tensor> tensors(feeds.size());
  std::vector<Value> values(feeds.size());
  std::vector<Shape> shapes(feeds.size());
  for (size_t i = 0; i < feeds.size(); ++i) {
    const Var& v = g.vars()[g.inputs()[i]];
    std::string what = str_cat("input '", v.name, "'");
    Value x = feeds[i].as_kind(v.kind, what);
    if (v.kind == ValueKind::kTensor) {
      LR_CHECK(!x.tensor.empty() || x.tensor.nbytes() == 0, InputError, what, " has no data");
      tensors[i] = x.tensor;
      shapes[i] = x.tensor.shape();
      continue;
    }
    const std::vector<Tensor>* items = &x.items;
    std::vector<Tensor> one;
    if (content_kind(v.kind) == ValueKind::kTensor) {
      if (x.present) one.push_back(x.tensor);
      items = &one;
    }
    for (const Tensor& t : *items)
      LR_CHECK(t.dtype() == v.dtype, InputError, what, ": expected ", dtype_name(v.dtype),
               " elements, got ", dtype_name(t.dtype()));
    // The plan's Values own their elements: the caller's are copied, unless
    // they are the core's own Values (share), never written once made. A
    // tensor fed where an optional is expected is copied either way.
    Value& dst = values[i];
    dst.kind = v.kind;
    dst.elem = v.dtype;
    dst.present = x.present;
    bool copy = !share || feeds[i].kind == ValueKind::kTensor;
    if (content_kind(v.kind) == ValueKind::kTensor) {
      if (x.present) dst.tensor = copy ? x.tensor.clone() : x.tensor;
    } else if (copy) {
      for (const Tensor& t : x.items) dst.items.push_back(t.clone());
    } else {
      dst.items = x.items;
    }
  }
  if (!current_ || current_->key != shapes) compile(shapes);
  if (current_->base || !current_->key_inputs.empty()) select_value_plan(tensors);
  if (opt_.debug_fill_nan) fill_nan(*current_);
  for (size_t i = 0; i < feeds.size(); ++i) {
    int vid = g.inputs()[i];
    if (g.vars()[vid].kind == ValueKind::kTensor) {
      set_input(i, tensors[i]);
    } else {
      current_->values[vid] = std::move(values[i]);
    }
  }
}

Value Network::output_value(size_t i) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  require_compiled();
  int vid = graph_->outputs().at(i);
  if (graph_->vars()[vid].kind == ValueKind::kTensor)
    return Value::of_tensor(current_->tensors[vid].clone());
  return current_->values[vid];
}

std::vector<Value> Network::run_values(const std::vector<Value>& feeds, bool share) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  bind_values(feeds, share);
  execute();
  std::vector<Value> outs;
  for (size_t i = 0; i < graph_->outputs().size(); ++i) outs.push_back(output_value(i));
  return outs;
}

}  // namespace loadrun
