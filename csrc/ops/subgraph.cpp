// SubGraph (see subgraph.h): a nested Network over a GRAPH attribute, and the
// small tensor helpers the control-flow ops share.
#include "ops/subgraph.h"

#include <cstring>

#include "core/errors.h"

namespace loadrun {

SubGraph::SubGraph(std::shared_ptr<Graph> graph, std::string what)
    : graph_(std::move(graph)), what_(std::move(what)) {
  LR_CHECK(graph_, ModelError, "graph attribute '", what_, "' is missing");
}

SubGraph::~SubGraph() = default;

NestedNet& SubGraph::network_for(NestedRuntime* rt, const std::vector<DType>& dtypes,
                                 const std::vector<size_t>& ranks) {
  LR_CHECK(dtypes.size() == num_inputs(), ModelError, what_, ": the subgraph has ", num_inputs(),
           " inputs, ", dtypes.size(), " are fed");
  LR_CHECK(rt, InternalError, what_, ": a nested graph runs only inside a network");
  // The graph's inputs take the dtypes and ranks fed; each combination has
  // its own nested network, and the graph is retyped for the one in use.
  std::string key = str_cat(static_cast<const void*>(this), ":");
  for (size_t i = 0; i < dtypes.size(); ++i) {
    graph_->retype_input(i, dtypes[i], Shape(ranks[i], -1));
    key += str_cat(dtype_name(dtypes[i]), "/", ranks[i], ";");
  }
  return rt->nested(key, graph_);
}

bool SubGraph::infer(NestedRuntime* rt, const std::vector<Layout>& in, std::vector<Layout>* out) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return with_context(what_ + ": ", [&] {
    std::vector<DType> dts;
    std::vector<size_t> ranks;
    std::vector<Shape> shapes;
    for (size_t i = 0; i < in.size(); ++i) {
      const Layout& l = in[i];
      bool tensor = i >= num_inputs() || input_kind(i) == ValueKind::kTensor;
      dts.push_back(l.dtype);
      ranks.push_back(tensor ? l.ndim() : 0);
      shapes.push_back(tensor ? l.shape : Shape{});
    }
    NestedNet& net = network_for(rt, dts, ranks);
    net.compile(shapes);
    out->clear();
    for (const NestedOutput& o : net.nested_outputs()) {
      if (o.kind != ValueKind::kTensor) {
        out->emplace_back(Shape{}, o.dtype);
        continue;
      }
      for (int64_t d : o.shape)
        if (d < 0) return false;
      out->emplace_back(o.shape, o.dtype);
    }
    return true;
  });
}

std::vector<Tensor> SubGraph::run(NestedRuntime* rt, const std::vector<const Tensor*>& feeds) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return with_context(what_ + ": ", [&] {
    std::vector<DType> dts;
    std::vector<size_t> ranks;
    std::vector<Tensor> ts;
    for (const Tensor* t : feeds) {
      LR_CHECK(t, ModelError, "a subgraph input is absent");
      dts.push_back(t->dtype());
      ranks.push_back(t->ndim());
      ts.push_back(*t);
    }
    return network_for(rt, dts, ranks).run(ts);
  });
}

std::vector<Value> SubGraph::run_values(NestedRuntime* rt, const std::vector<Value>& feeds) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return with_context(what_ + ": ", [&] {
    std::vector<DType> dts;
    std::vector<size_t> ranks;
    for (const Value& v : feeds) {
      bool tensor = v.kind == ValueKind::kTensor;
      dts.push_back(tensor ? v.tensor.dtype() : v.elem);
      ranks.push_back(tensor ? v.tensor.ndim() : 0);
    }
    return network_for(rt, dts, ranks).run_values(feeds, /*share=*/true);
  });
}

ValueKind SubGraph::input_kind(size_t i) const {
  return graph_->vars()[graph_->inputs().at(i)].kind;
}

ValueKind SubGraph::output_kind(size_t o) const {
  return graph_->vars()[graph_->outputs().at(o)].kind;
}

std::vector<Value> feeds_of(const KernCtx& ctx, size_t from) {
  std::vector<Value> r;
  for (size_t i = from; i < ctx.in.size(); ++i) {
    if (const Value* v = ctx.seq(i)) {
      r.push_back(*v);
      continue;
    }
    LR_CHECK(ctx.has(i), ModelError, "a subgraph input (node input ", i, ") is absent");
    r.push_back(Value::of_tensor(ctx.input(i)));
  }
  return r;
}

std::vector<Value> feeds_of(const InferCtx& ctx, size_t from, const char* what) {
  std::vector<Value> r;
  for (size_t i = from; i < ctx.num_inputs(); ++i) {
    if (const Value* v = ctx.seq(i)) {
      r.push_back(*v);
      continue;
    }
    r.push_back(Value::of_tensor(ctx.value(i, what)));
  }
  return r;
}

std::vector<Layout> layouts_of(const InferCtx& ctx, size_t from) {
  std::vector<Layout> r;
  for (size_t i = from; i < ctx.num_inputs(); ++i) {
    if (const Value* v = ctx.seq(i)) {
      r.emplace_back(Shape{}, v->elem);
      continue;
    }
    r.push_back(ctx.input(i));
  }
  return r;
}

void write_output(const KernCtx& ctx, size_t o, const Value& v, const std::string& what) {
  Value* dst = ctx.seq_output(o);
  Value t;
  try {  // a kind the model did not declare: the model is wrong, not the caller's data
    t = v.as_kind(dst ? dst->kind : ValueKind::kTensor, what);
  } catch (const InputError& e) {
    throw ModelError(e.what());
  }
  if (dst) {
    *dst = std::move(t);
    return;
  }
  Tensor& y = ctx.output(o);
  LR_CHECK(t.tensor.layout().same_shape_dtype(y.layout()), UnsupportedError, what, " is ",
           t.tensor.layout().str(), ", inferred ", y.layout().str());
  y.copy_from(t.tensor);
}

int64_t num_captures(const Attrs& a) {
  int64_t c = a.get_int("_loadrun_captures", 0);
  LR_CHECK(c >= 0, ModelError, "_loadrun_captures must be >= 0, got ", c);
  return c;
}

bool truth_of(const Tensor& t, const char* what) {
  LR_CHECK(t.numel() == 1, ModelError, what, " must have one element, got shape ",
           shape_str(t.shape()));
  return t.get_f64(0) != 0;
}

void copy_slice(const Tensor& whole, int64_t axis, int64_t index, const Tensor& part, bool scatter) {
  const Shape& s = whole.shape();
  size_t es = dtype_size(whole.dtype());
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= s[d];
  for (size_t d = axis + 1; d < s.size(); ++d) inner *= s[d];
  LR_CHECK(part.numel() == outer * inner && part.dtype() == whole.dtype(), InternalError,
           "slice of ", shape_str(s), " along ", axis, " does not fit ", shape_str(part.shape()));
  size_t row = static_cast<size_t>(inner) * es;
  auto* w = static_cast<uint8_t*>(whole.raw());
  auto* p = static_cast<uint8_t*>(part.raw());
  for (int64_t o = 0; o < outer; ++o) {
    uint8_t* wp = w + (static_cast<size_t>(o * s[axis] + index)) * row;
    uint8_t* pp = p + static_cast<size_t>(o) * row;
    if (row == 0) continue;
    if (scatter) {
      std::memcpy(wp, pp, row);
    } else {
      std::memcpy(pp, wp, row);
    }
  }
}

}  // namespace loadrun
