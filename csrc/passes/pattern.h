// Helpers the subgraph fusion passes share (fuse_gelu.cpp,
// fuse_layernorm.cpp, fuse_matmul_bias.cpp, fuse_attention.cpp): who reads a
// var, which ai.onnx op produces it, scalar constants, and one rebuild that
// drops the matched nodes and emits each fused node where the matched
// subgraph's last node (its sink) was. Emitting at the sink is always in
// topological order: every input of the subgraph is produced before the sink.
#pragma once
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace loadrun {

class PatternGraph {
 public:
  explicit PatternGraph(const Graph& g);
  const Graph& graph() const { return g_; }
  const Var& var(int vid) const { return g_.vars()[vid]; }
  // The ai.onnx node of this type producing var vid (with one output), else
  // null.
  const OprNode* producer(int vid, const char* type) const;
  // The ai.onnx node of this type that is the only reader of vid (vid no
  // graph output), else null.
  const OprNode* sole_consumer(int vid, const char* type) const;
  // The node (any type, one output) that is the only reader of vid (vid no
  // graph output), else null.
  const OprNode* sole_reader(int vid) const;
  // vid is read only by the nodes in `group` and is no graph output: it may
  // disappear into a fused node.
  bool internal(int vid, const std::set<int>& group) const;
  // The value of a constant float (or, with ints, integer) scalar: one
  // element, rank <= max_rank (a one-element operand of higher rank than the
  // other would broadcast the result to its rank: only a pass that knows the
  // other operand's rank may allow it).
  bool scalar(int vid, double* v, bool ints = false, size_t max_rank = 0) const;
  // The scalar constant is `want` up to its type's rounding (relative 1e-6
  // for float32, 1e-12 for float64, 1e-2 for the 16-bit floats; integers
  // exactly).
  bool scalar_is(int vid, double want, bool ints = false, size_t max_rank = 0) const;
  // For a two-input node (Add, Mul): the operand other than vid (-1 if vid
  // is not an operand or both operands are vid).
  int other_operand(const OprNode& n, int vid) const;

 private:
  const Graph& g_;
  std::vector<std::vector<int>> consumers_;
  std::set<int> is_output_;
};

// A fused node, emitted in place of its sink.
struct FusedNode {
  std::string type, domain, name;
  Attrs attrs;
  std::vector<std::string> inputs, outputs;
};

// The matched subgraphs: every node in `removed` is dropped; replacements
// are keyed by their sink's id (which is also in `removed`).
struct Rewrite {
  std::set<int> removed;
  std::map<int, FusedNode> at;
  std::vector<std::pair<std::string, Tensor>> new_consts;
  bool empty() const { return at.empty(); }
  // Is any of these nodes already taken by another match?
  bool taken(const std::set<int>& ids) const;
  void add(int sink, std::set<int> ids, FusedNode node);
};

std::shared_ptr<const Graph> apply_rewrite(const Graph& g, const Rewrite& rw);

// Attribute values.
AttrValue attr_int(int64_t v);
AttrValue attr_float(double v);
AttrValue attr_string(const std::string& s);
AttrValue attr_ints(const std::vector<int64_t>& v);
AttrValue attr_floats(const std::vector<double>& v);

}  // namespace loadrun
