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

Network& SubGraph::network_for(const std::vector<DType>& dtypes, const std::vector<size_t>& ranks) {
  LR_CHECK(dtypes.size() == num_inputs(), ModelError, what_, ": the subgraph has ", num_inputs(),
           " inputs, ", dtypes.size(), " are fed");
  if (net_ && dtypes == dtypes_ && ranks == ranks_) return *net_;
  // The graph's inputs take the dtypes and ranks fed (ONNX may leave them
  // undeclared); a change of either (a loop-carried value changing rank)
  // retypes the graph and starts a fresh network.
  net_.reset();
  for (size_t i = 0; i < dtypes.size(); ++i)
    graph_->retype_input(i, dtypes[i], Shape(ranks[i], -1));
  dtypes_ = dtypes;
  ranks_ = ranks;
  net_ = std::make_unique<Network>(graph_);
  return *net_;
}

bool SubGraph::infer(const std::vector<Layout>& in, std::vector<Layout>* out) {
  return with_context(what_ + ": ", [&] {
    std::vector<DType> dts;
    std::vector<size_t> ranks;
    std::vector<Shape> shapes;
    for (const Layout& l : in) {
      dts.push_back(l.dtype);
      ranks.push_back(l.ndim());
      shapes.push_back(l.shape);
    }
    Network& net = network_for(dts, ranks);
    net.compile(shapes);
    out->clear();
    for (const IOInfo& o : net.outputs()) {
      for (int64_t d : o.shape)
        if (d < 0) return false;
      out->emplace_back(o.shape, o.dtype);
    }
    return true;
  });
}

std::vector<Tensor> SubGraph::run(const std::vector<const Tensor*>& feeds) {
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
    return network_for(dts, ranks).run(ts);
  });
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
