// Graph: static single-assignment vars and the oprs that produce them, in
// topological order. Built by an importer (ONNX in Python, .lrm in C++);
// immutable once a Network compiles it.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "graph/attrs.h"
#include "graph/op_registry.h"

namespace loadrun {

struct Var {
  int id = -1;
  std::string name;
  ValueKind kind = ValueKind::kTensor;  // sequences and optionals: see core/value.h
  DType dtype = DType::Float32;         // of a sequence or optional: its elements'

  Shape shape;              // declared shape of inputs; -1 = symbolic dim
  int producer = -1;        // opr id, -1 for inputs and constants
  bool is_input = false;
  bool is_const = false;
  Tensor value;             // constants only
};

struct OprNode {
  int id = -1;
  std::string name;
  const OpDef* def = nullptr;
  std::unique_ptr<Op> op;
  Attrs attrs;  // what op was created from (graph passes rebuild nodes from it)
  std::vector<int> inputs;  // var ids; -1 = optional input absent
  std::vector<int> outputs;
  std::string label() const;  // "name{Type}"
};

class Graph {
 public:
  int add_input(const std::string& name, DType dtype, const Shape& shape,
                ValueKind kind = ValueKind::kTensor);
  int add_const(const std::string& name, const Tensor& value);
  // Inputs named "" are absent optional inputs. Throws UnsupportedError for
  // an unknown type and ModelError (naming the node) for bad attributes.
  // The outputs' kinds come from the op (Op::value_kinds).
  int add_opr(const std::string& type, const std::string& domain, const std::string& name,
              const Attrs& attrs, const std::vector<std::string>& inputs,
              const std::vector<std::string>& outputs);
  void add_output(const std::string& name);
  // Subgraphs only: the op that owns this graph gives input i the dtype and
  // rank of what it feeds there (an ONNX subgraph may leave them undeclared,
  // and its captures from enclosing scopes never declare them). Call before
  // a Network is built on the graph.
  void retype_input(size_t i, DType dtype, const Shape& shape);
  // Frees constant `vid`'s bytes, keeping its layout (its value is then an
  // empty tensor). Only for the one Network that holds this graph alone, once
  // every reader has a preprocessed form of it (runtime/bind.cpp).
  void release_value(int vid);
  // Gives a released constant its bytes back (same layout).
  void restore_value(int vid, const Tensor& value);
  // A graph of the same nodes (rebuilt from their attributes) whose
  // constants share this one's bytes: what a Network that frees weights
  // works on when others hold the graph it was given.
  std::shared_ptr<Graph> clone() const;

  int find_var(const std::string& name) const;  // -1 if none
  // Some var is a sequence or an optional (else every var is a tensor).
  bool has_non_tensor() const { return non_tensor_; }
  const std::vector<Var>& vars() const { return vars_; }
  const std::vector<std::unique_ptr<OprNode>>& oprs() const { return oprs_; }
  const std::vector<int>& inputs() const { return inputs_; }
  const std::vector<int>& outputs() const { return outputs_; }

 private:
  int new_var(const std::string& name);
  std::vector<Var> vars_;
  std::vector<std::unique_ptr<OprNode>> oprs_;
  std::vector<int> inputs_, outputs_;
  std::map<std::string, int> by_name_;
  bool non_tensor_ = false;
};

}  // namespace loadrun
