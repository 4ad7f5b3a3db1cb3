#include "runtime/network.h"

#include <chrono>
#include <climits>
#include <cstring>

#include "core/errors.h"
#include "memory/linear_planner.h"
#include "passes/passes.h"

namespace loadrun {

struct Network::Plan {
  struct Step {
    const OprNode* node;
    const Algo* algo;
    KernCtx ctx;
    size_t workspace;
    std::shared_ptr<const void> prepared;
  };
  std::vector<Shape> key;
  std::vector<Layout> layouts;    // per var
  std::vector<Tensor> tensors;    // per var: constants own theirs, the rest view the arena
  std::vector<char> known;        // per var: value known at compile time
  std::vector<Step> seq;
  std::shared_ptr<uint8_t> arena, workspace;
  size_t arena_bytes = 0, workspace_bytes = 0;
};

namespace {
ChooserOptions with_preprocess(ChooserOptions c, bool weight_preprocess) {
  c.weight_preprocess = weight_preprocess;
  return c;
}
}  // namespace

Network::Network(std::shared_ptr<const Graph> graph, NetworkOptions opt)
    : graph_(opt.optimize ? optimize_graph(std::move(graph)) : std::move(graph)),
      opt_(opt),
      chooser_(with_preprocess(opt.chooser, opt.weight_preprocess)) {}

Network::~Network() = default;

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

}  // namespace

std::unique_ptr<Network::Plan> Network::build_plan(const std::vector<Shape>& input_shapes) {
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
    check_input_shape(v, input_shapes[i]);
    p.layouts[v.id] = Layout(input_shapes[i], v.dtype);
    ready[v.id] = 1;
  }

  // Shape inference, folding of what is known, algorithm choice.
  std::vector<const OprNode*> runtime_nodes;
  std::vector<const Algo*> runtime_algos;
  for (const auto& node_ptr : g.oprs()) {
    const OprNode& node = *node_ptr;
    std::string where = node.name + " (" + node.def->type + "): ";
    InferCtx ic;
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
    with_context(where, [&] { node.op->infer(ic); });
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      const Layout& l = ic.out[o];
      for (int64_t d : l.shape)
        LR_CHECK(d >= 0, InternalError, where, "shape inference left output ", o, " unset");
      p.layouts[node.outputs[o]] = l;
      ready[node.outputs[o]] = 1;
    }
    bool fold = node.op->shape_only() || (all_known && node.op->foldable());
    if (fold) {
      KernCtx kc;
      kc.comp_node = &cpu_;
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
        wsbuf = alloc_aligned(ws);
        kc.workspace = wsbuf.get();
        kc.workspace_size = ws;
      }
      with_context(where, [&] { naive->exec(*node.op, kc); });
      for (int vid : node.outputs) p.known[vid] = 1;
      continue;
    }
    runtime_nodes.push_back(&node);
    runtime_algos.push_back(
        with_context(where, [&] { return chooser_.choose(node, InLayouts(ic.in), ic.out); }));
  }

  // Memory: every var computed at run time, and every input, gets arena space.
  std::vector<int> planned;
  std::vector<MemRequest> reqs;
  std::vector<int> req_of(nv, -1);
  auto request = [&](int vid, int step) {
    req_of[vid] = static_cast<int>(reqs.size());
    planned.push_back(vid);
    reqs.push_back({p.layouts[vid].nbytes(), step, step});
  };
  for (int vid : g.inputs()) request(vid, -1);
  for (size_t s = 0; s < runtime_nodes.size(); ++s) {
    for (int vid : runtime_nodes[s]->inputs)
      if (vid >= 0 && req_of[vid] >= 0) reqs[req_of[vid]].last_use = static_cast<int>(s);
    for (int vid : runtime_nodes[s]->outputs) request(vid, static_cast<int>(s));
  }
  for (int vid : g.outputs())
    if (req_of[vid] >= 0) reqs[req_of[vid]].last_use = INT_MAX;
  MemPlan mp = plan_linear(reqs);
  LR_CHECK(verify_plan(reqs, mp), InternalError, "memory plan has overlapping live tensors");
  p.arena_bytes = mp.arena_bytes;
  p.arena = alloc_aligned(p.arena_bytes);
  for (size_t r = 0; r < planned.size(); ++r) {
    int vid = planned[r];
    p.tensors[vid] = Tensor::view(p.layouts[vid], p.arena, mp.offsets[r]);
  }

  // Comp seq: bind every kernel to its tensors once.
  for (size_t s = 0; s < runtime_nodes.size(); ++s) {
    const OprNode& node = *runtime_nodes[s];
    Plan::Step step{&node, runtime_algos[s], {}, 0, nullptr};
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
      step.prepared = with_context(
          where, [&] { return step.algo->preprocess(*node.op, in_l, values); });
      step.ctx.prepared = step.prepared.get();
    }
    for (int vid : node.outputs) {
      step.ctx.out.push_back(&p.tensors[vid]);
      out_l.push_back(p.layouts[vid]);
    }
    step.ctx.comp_node = &cpu_;
    step.workspace = step.algo->workspace(*node.op, in_l, out_l);
    p.workspace_bytes = std::max(p.workspace_bytes, step.workspace);
    p.seq.push_back(std::move(step));
  }
  if (p.workspace_bytes) p.workspace = alloc_aligned(p.workspace_bytes);
  for (auto& step : p.seq) {
    step.ctx.workspace = step.workspace ? p.workspace.get() : nullptr;
    step.ctx.workspace_size = step.workspace;
  }
  return plan;
}

void Network::compile(const std::vector<Shape>& input_shapes) {
  auto it = plans_.find(input_shapes);
  if (it == plans_.end()) it = plans_.emplace(input_shapes, build_plan(input_shapes)).first;
  current_ = it->second.get();
}

void Network::require_compiled() const {
  LR_CHECK(current_, InputError, "the network has not been compiled for any input shapes yet");
}

std::vector<IOInfo> Network::inputs() const {
  std::vector<IOInfo> r;
  for (size_t i = 0; i < graph_->inputs().size(); ++i) {
    const Var& v = graph_->vars()[graph_->inputs()[i]];
    r.push_back({v.name, current_ ? current_->layouts[v.id].shape : v.shape, v.dtype});
  }
  return r;
}

std::vector<IOInfo> Network::outputs() const {
  std::vector<IOInfo> r;
  for (int vid : graph_->outputs()) {
    const Var& v = graph_->vars()[vid];
    if (current_) {
      r.push_back({v.name, current_->layouts[vid].shape, current_->layouts[vid].dtype});
    } else {
      r.push_back({v.name, v.shape, v.dtype});
    }
  }
  return r;
}

void Network::set_input(size_t i, const Tensor& src) {
  require_compiled();
  LR_CHECK(i < graph_->inputs().size(), InputError, "input index ", i, " out of range");
  int vid = graph_->inputs()[i];
  const Var& v = graph_->vars()[vid];
  Tensor& dst = current_->tensors[vid];
  LR_CHECK(src.dtype() == v.dtype, InputError, "input '", v.name, "': expected dtype ",
           dtype_name(v.dtype), ", got ", dtype_name(src.dtype()));
  LR_CHECK(src.shape() == dst.shape(), InputError, "input '", v.name, "': expected shape ",
           shape_str(dst.shape()), ", got ", shape_str(src.shape()));
  dst.copy_from(src);
}

void Network::execute() {
  require_compiled();
  for (auto& step : current_->seq) {
    try {
      step.algo->exec(*step.node->op, step.ctx);
    } catch (const Error&) {
      with_context(step.node->label() + ": ", [] { throw; });
    }
  }
}

const Tensor& Network::output(size_t i) const {
  require_compiled();
  return current_->tensors[graph_->outputs().at(i)];
}

void Network::bind_inputs(const std::vector<Tensor>& feeds) {
  std::vector<Shape> shapes;
  for (const auto& t : feeds) shapes.push_back(t.shape());
  if (!current_ || current_->key != shapes) compile(shapes);
  for (size_t i = 0; i < feeds.size(); ++i) set_input(i, feeds[i]);
}

std::vector<Tensor> Network::run(const std::vector<Tensor>& feeds) {
  bind_inputs(feeds);
  execute();
  std::vector<Tensor> outs;
  for (size_t i = 0; i < graph_->outputs().size(); ++i) outs.push_back(output(i).clone());
  return outs;
}

BenchResult Network::benchmark(int iters, int warmup) {
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

std::vector<StepInfo> Network::steps() const {
  require_compiled();
  std::vector<StepInfo> r;
  for (const auto& s : current_->seq) {
    StepInfo info{s.node->label(), s.algo->name(), {}, {}, s.workspace, s.prepared != nullptr};
    for (const Tensor* t : s.ctx.in) info.in_layouts.push_back(t ? t->layout().str() : "{}");
    for (const Tensor* t : s.ctx.out) info.out_layouts.push_back(t->layout().str());
    r.push_back(std::move(info));
  }
  return r;
}

size_t Network::arena_bytes() const {
  require_compiled();
  return current_->arena_bytes;
}

}  // namespace loadrun
