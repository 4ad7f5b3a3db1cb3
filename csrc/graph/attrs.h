// Operator attributes as the importer hands them over (ONNX-shaped: ints,
// floats, strings, lists, tensors, graphs). Ops parse them once into their
// params. A graph attribute (If's branches, Loop's and Scan's body) is its own
// core Graph whose inputs are the subgraph's formal inputs followed by the
// names it reads from enclosing scopes (the importer appends those to the
// node's inputs too), so no name is ever resolved across graphs.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace loadrun {

class Graph;

struct AttrValue {
  enum Kind { kInt, kFloat, kString, kInts, kFloats, kStrings, kTensor, kGraph } kind = kInt;
  int64_t i = 0;
  double f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<std::string> strings;
  Tensor t;
  std::shared_ptr<Graph> g;
};

class Attrs {
 public:
  void set(const std::string& name, AttrValue v) { map_[name] = std::move(v); }
  bool has(const std::string& name) const { return map_.count(name) != 0; }
  const std::map<std::string, AttrValue>& all() const { return map_; }

  int64_t get_int(const std::string& name, int64_t def) const;
  double get_float(const std::string& name, double def) const;
  std::string get_string(const std::string& name, const std::string& def) const;
  std::vector<int64_t> get_ints(const std::string& name, const std::vector<int64_t>& def = {}) const;
  std::vector<double> get_floats(const std::string& name, const std::vector<double>& def = {}) const;
  std::vector<std::string> get_strings(const std::string& name,
                                       const std::vector<std::string>& def = {}) const;
  // Throws ModelError naming the attribute when absent.
  int64_t require_int(const std::string& name) const;
  const Tensor& require_tensor(const std::string& name) const;
  std::shared_ptr<Graph> require_graph(const std::string& name) const;
  std::shared_ptr<Graph> get_graph(const std::string& name) const;  // null when absent

 private:
  const AttrValue* find(const std::string& name, AttrValue::Kind kind) const;
  std::map<std::string, AttrValue> map_;
};

}  // namespace loadrun
