// Operator attributes as the importer hands them over (ONNX-shaped: ints,
// floats, strings, lists, tensors). Ops parse them once into their params.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace loadrun {

struct AttrValue {
  enum Kind { kInt, kFloat, kString, kInts, kFloats, kStrings, kTensor } kind = kInt;
  int64_t i = 0;
  double f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<std::string> strings;
  Tensor t;
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

 private:
  const AttrValue* find(const std::string& name, AttrValue::Kind kind) const;
  std::map<std::string, AttrValue> map_;
};

}  // namespace loadrun
