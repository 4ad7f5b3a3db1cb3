// The OpDef registry: operator type -> schema (factory from attributes) and
// its list of algorithms, NAIVE first. Built-in operators come from the one
// list in ops/ops.inc; the registry stays open at run time (C opr libraries).
#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fastrun/algo.h"
#include "graph/attrs.h"
#include "graph/op.h"

namespace loadrun {

struct OpDef {
  std::string type;    // "Conv"
  std::string domain;  // "" is ai.onnx
  std::function<std::unique_ptr<Op>(const Attrs&)> create;
  std::vector<const Algo*> algos;  // NAIVE first
  int min_inputs = 0;
  int max_inputs = 1 << 20;
};

class OpRegistry {
 public:
  static OpRegistry& get();
  // Throws InternalError on a duplicate (domain, type).
  void add(OpDef def);
  // Appends an algorithm to an already registered op.
  void add_algo(const std::string& domain, const std::string& type, const Algo* algo);
  const OpDef* find(const std::string& domain, const std::string& type) const;
  std::vector<const OpDef*> all() const;

 private:
  OpRegistry();
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<OpDef>> defs_;
};

// Helper for op files: registers `type` in ai.onnx with the given algos.
template <class OpT>
void register_simple(OpRegistry& r, const char* type, std::vector<const Algo*> algos,
                     int min_inputs = 0, int max_inputs = 1 << 20) {
  OpDef d;
  d.type = type;
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<OpT>(a); };
  d.algos = std::move(algos);
  d.min_inputs = min_inputs;
  d.max_inputs = max_inputs;
  r.add(std::move(d));
}

}  // namespace loadrun
