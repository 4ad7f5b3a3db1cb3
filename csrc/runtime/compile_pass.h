// Compile passes: rewrites of one plan's comp seq that depend on shapes.
// They run inside compile (runtime/compile.cpp) after shape/dtype inference
// and constant folding, before algorithm choice, so they see every var's
// layout and the values compile knows, for the input shapes this plan is
// for; graph passes (passes/passes.h) run once per network, before any shape
// is known. A compile pass may
//  - declare a step a view (view_of: output 0 is input view_of's bytes for
//    these layouts): the memory plan gives both one buffer, and when it did,
//    the step runs no kernel (its observers still see it).
// The pass list is passes/compile_passes.cpp's plus any registered at run
// time (register_compile_pass: tests, operator libraries); they run in
// that order when the network optimises (NetworkOptions::optimize).
#pragma once
#include <memory>
#include <vector>

#include "core/tensor.h"
#include "graph/graph.h"

namespace loadrun {

struct CompileStep {
  const OprNode* node;
  bool dynamic = false;  // inferred at run time: layouts unknown here, leave it alone
  int view_of = -1;      // index into node->inputs, or -1
};

struct CompileView {
  const Graph& graph;
  const std::vector<Layout>& layouts;  // per var (dynamic vars: shape {-1})
  const std::vector<char>& known;      // per var: value known at compile time
  const std::vector<Tensor>& values;   // per var, where known
  std::vector<CompileStep>& steps;     // the comp seq, in order
};

class CompilePass {
 public:
  virtual ~CompilePass() = default;
  virtual const char* name() const = 0;
  virtual void run(CompileView& v) const = 0;
};

// The passes compile runs, in order: the built-in ones, then the registered.
std::vector<std::shared_ptr<const CompilePass>> compile_passes();
void register_compile_pass(std::shared_ptr<const CompilePass> pass);

}  // namespace loadrun
