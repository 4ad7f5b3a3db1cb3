// The plan a Network compiles for one set of input shapes (network.h), as
// the runtime's stage files share it: compile.cpp fills layouts, folded
// values and algorithm choices; bind.cpp plans the arena and binds the
// kernels; executor.cpp runs the comp seq; dynamic.cpp and values.cpp hold
// what happens at run time for dynamic steps, sequences and optionals.
// Internal to csrc/runtime/.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/errors.h"
#include "runtime/network.h"
#include "runtime/plan_memory.h"

namespace loadrun {

struct Network::Plan {
  struct Step {
    const OprNode* node;
    const Algo* algo;
    KernCtx ctx;
    size_t workspace;         // per thread
    size_t shared_workspace;  // once, before the threads' slots
    BoundKernel kernel;  // algo bound to this step's layouts (Algo::bind)
    Prepared prepared;
    bool dynamic = false;  // inferred, sized and given its algo at run time
    bool elided = false;   // a view sharing its input's buffer: no kernel runs
  };
  // Executor switches: runs so far, whether the sanity check has passed, and
  // the recorded kernels replayed by later runs (--record-comp-seq).
  bool ran = false, checked = false;
  struct Replay {
    const BoundKernel* kernel;
    const KernCtx* ctx;
  };
  std::vector<Replay> replay;
  size_t freed_bytes = 0;
  std::vector<Shape> key;
  uint64_t last_use = 0;          // Network::use_clock_ when last made current
  std::vector<Layout> layouts;    // per var
  std::vector<Tensor> tensors;    // per var: constants own theirs, the rest view the arena
  std::vector<char> known;        // per var: value known at compile time
  std::vector<Step> seq;
  // workspace: the shared part (shared_bytes, 64-aligned) and then one slot
  // per thread; workspace_bytes is its whole size.
  std::shared_ptr<uint8_t> arena, workspace;
  size_t arena_bytes = 0, workspace_bytes = 0, shared_bytes = 0;
  ActivationPlan mem;  // buffers and their offsets (plan_memory.h)

  // Dynamic shapes: nodes inferred at run time (Step::dynamic).
  std::vector<char> dyn;     // per var: layout known only at run time
  bool has_dynamic = false;  // some step is dynamic (re-inferred in the execute loop)
  struct DynBuf {
    std::shared_ptr<uint8_t> storage;
    size_t capacity = 0;
  };
  std::map<int, DynBuf> dyn_bufs;  // per dynamic var: its own buffer, kept while it fits
  std::map<std::pair<int, std::string>, BoundKernel> dyn_algos;  // per (node, layouts): re-bound
  std::shared_ptr<uint8_t> dyn_workspace;  // as workspace: shared part, then slots
  size_t dyn_workspace_bytes = 0;

  // Value-keyed plans. wants: graph inputs (indices) whose values, were they
  // known, would make more of this plan static. A plan built for shapes alone
  // is a base; plans built for values of its key_inputs hang off it.
  std::vector<int> wants;
  Plan* base = nullptr;   // keyed plans: their base
  std::string value_key;  // keyed plans: bytes of the key inputs' values
  std::vector<int> key_inputs;                             // base only
  std::map<std::string, std::unique_ptr<Plan>> by_value;  // base only

  // Sequences and optionals: per var, its Value (sized only when the graph
  // has such vars; tensor vars leave theirs unused).
  std::vector<Value> values;
};

// Sanity check (--check-... / NetworkOptions::sanity_check): guard bytes
// after every planned buffer and after the workspace.
inline constexpr size_t kGuardBytes = 64;      // after every planned buffer, with the sanity check
inline constexpr unsigned char kGuardByte = 0xA5;

// The arena and workspace: not zero-filled (kernels write what they read
// later); filled with NaN bytes (0xFF) at every run under the debug option.
inline std::shared_ptr<uint8_t> alloc_arena(size_t bytes) {
  size_t n = std::max<size_t>((bytes + 63) / 64 * 64, 64);
  void* q = std::aligned_alloc(64, n);
  if (!q) LR_THROW(ResourceError, "out of memory: the activation arena needs ", bytes, " bytes");
  return std::shared_ptr<uint8_t>(static_cast<uint8_t*>(q), [](uint8_t* x) { std::free(x); });
}

// Bytes for the size of `l`; InputError when they cannot be had.
inline size_t checked_nbytes(const Layout& l, const std::string& what) {
  uint64_t n = dtype_size(l.dtype);
  for (int64_t d : l.shape) {
    if (d != 0 && n > (uint64_t{1} << 48) / static_cast<uint64_t>(d))
      LR_THROW(InputError, what, " of shape ", shape_str(l.shape), " is too large to allocate");
    n *= static_cast<uint64_t>(d);
  }
  return static_cast<size_t>(n);
}

}  // namespace loadrun
