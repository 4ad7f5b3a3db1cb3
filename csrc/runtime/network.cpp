// Network (network.h): the plan cache, inputs and outputs, and what the
// API reports; the stages live in compile.cpp, bind.cpp, executor.cpp,
// dynamic.cpp and values.cpp (runtime/plan.h).
#include "runtime/network.h"
#include "runtime/plan.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "core/errors.h"
#include "passes/passes.h"

namespace loadrun {

namespace {

// The graph passes the options ask for, then the layout conversion.
std::shared_ptr<const Graph> prepare_graph(std::shared_ptr<const Graph> g,
                                           const NetworkOptions& opt) {
  if (opt.optimize) g = optimize_graph(std::move(g));
  if (opt.layout.empty()) return g;
  if (!opt.optimize) g = fuse_conv_bn_act(std::move(g));
  return convert_layout(std::move(g), opt.layout);
}

}  // namespace

Network::Network(std::shared_ptr<const Graph> graph, NetworkOptions opt)
    : graph_(prepare_graph(std::move(graph), opt)),
      opt_(opt),
      cn_owned_(opt.comp_node ? opt.comp_node : std::make_shared<CpuCompNode>()),
      cn_(cn_owned_.get()),
      chooser_([&] {
        ChooserOptions c = opt.chooser;
        c.comp_node = cn_;  // profiling runs on the network's CompNode
        return c;
      }()) {
  chooser_.set_weight_preprocess(opt.weight_preprocess);
  // Freeing weights (free_prepared_weights) needs a graph no one else holds.
  if (opt_.weight_preprocess && opt_.free_weights && graph_.use_count() > 1) graph_ = graph_->clone();
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
  o.free_weights = false;  // its graph belongs to the op that owns it
  o.layout.clear();         // bodies keep their layout: the boundary is the op
  o.comp_node = cn_owned_;
  return *(nested_[key] = std::make_unique<Network>(graph, o));
}

std::vector<NestedOutput> Network::nested_outputs() const {
  std::vector<NestedOutput> r;
  for (const IOInfo& o : outputs()) r.push_back({o.shape, o.dtype, o.kind});
  return r;
}

// Compile → bind (plan memory, bind kernels): the plan for these shapes.
std::unique_ptr<Network::Plan> Network::build_plan(const std::vector<Shape>& input_shapes,
                                                   const std::vector<const Tensor*>& input_values) {
  auto plan = std::make_unique<Plan>();
  Choices choices = compile_steps(*plan, input_shapes, input_values);
  plan_memory(*plan, choices);
  bind_steps(*plan, choices);
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
    it = it->second.data.expired() ? prepared_.erase(it) : std::next(it);
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
  for (const auto& kv : prepared_) n += kv.second.data.expired() ? 0 : 1;
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

std::vector<StepInfo> Network::steps() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  require_compiled();
  std::vector<StepInfo> r;
  for (const auto& s : current_->seq) {
    StepInfo info{s.node->label(), s.elided ? "(view)" : s.algo ? s.algo->name() : "(run time)", {}, {}, s.workspace,
                  bool(s.prepared)};
    for (size_t i = 0; i < s.ctx.in.size(); ++i) {
      const Tensor* t = s.ctx.in[i];
      bool freed = i < s.node->inputs.size() &&
                   std::count(released_.begin(), released_.end(), s.node->inputs[i]);
      info.in_layouts.push_back(!t ? "{}" : (t->empty() && !freed) ? "{?}" : t->layout().str());
    }
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
  m.freed_weight_bytes = released_bytes_;
  std::vector<const void*> seen;  // one prepared form may serve several steps
  for (const auto& st : p.seq)
    if (st.prepared && std::find(seen.begin(), seen.end(), st.prepared.data.get()) == seen.end()) {
      seen.push_back(st.prepared.data.get());
      m.prepared_weight_bytes += st.prepared.bytes;
    }
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

}  // namespace loadrun
