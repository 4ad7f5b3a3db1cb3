// Step observers: the executor's one hook. Every step of the execute loop is
// announced before and after its kernel runs, with the step's index, node,
// algorithm, its bound input and output tensors and (after) the kernel's
// wall time. IO dumps, the profiler, --range, --check-var-value and the
// sanity check are observers; the loop itself has no branch for any of them.
// Observers run on the thread that runs the network, inside its lock; they
// must not run the same network.
#pragma once
#include <cstddef>

#include "graph/graph.h"
#include "graph/op.h"

namespace loadrun {

struct StepEvent {
  size_t index = 0;              // position in the comp seq
  const OprNode* node = nullptr;
  const char* algo = "";         // the algorithm's name
  const KernCtx* ctx = nullptr;  // ctx->in / ctx->out: the step's tensors (absent inputs null)
  double ms = 0;                 // after_step: the kernel's time
};

class StepObserver {
 public:
  virtual ~StepObserver() = default;
  virtual void before_step(const StepEvent&) {}
  virtual void after_step(const StepEvent&) {}
};

}  // namespace loadrun
