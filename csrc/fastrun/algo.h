// Algo: one implementation of one operator. The chooser picks among an op's
// algos by attributes, usability, workspace and (with fast-run) measured time;
// the cache stores name(), so names are stable forever.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "graph/op.h"

namespace loadrun {

using InLayouts = std::vector<const Layout*>;
using OutLayouts = std::vector<Layout>;

class Algo;
class CompNode;

// What Algo::preprocess made of a step's constant weights: the data exec
// reads through KernCtx::prepared, its size (--model-info reports weight
// bytes before and after), and the input it stands in for: exec, given the
// data, never reads input `replaces` (-1: it still reads every input), so
// the network may free that constant once every step that reads it has
// prepared it (runtime/bind.cpp).
struct Prepared {
  std::shared_ptr<const void> data;
  size_t bytes = 0;
  int replaces = -1;
  explicit operator bool() const { return data != nullptr; }
};

// A kernel bound to one op and its layouts (Algo::bind): the function the
// execute loop calls and what the algorithm worked out once for those
// layouts (geometry, strides, epilogue, prepared weights), so a run does not
// redo it. `workspace` is the scratch bytes one call needs on each thread;
// `shared_workspace` the bytes one call needs once, whatever its threads.
struct BoundKernel {
  using Fn = void (*)(const BoundKernel&, const KernCtx&);
  Fn fn = nullptr;
  const Algo* algo = nullptr;
  const Op* op = nullptr;
  std::shared_ptr<const void> params;  // the algorithm's own, from bind
  size_t workspace = 0;
  size_t shared_workspace = 0;
  void operator()(const KernCtx& ctx) const { fn(*this, ctx); }
};

class Algo {
 public:
  enum Attribute : uint32_t {
    REPRODUCIBLE = 1,
    NAIVE = 2,
    USABLE_DEPEND_ON_SHAPE = 4,
    ACCURACY_DEPEND_ON_BATCH = 8,
    // Fast only with its weights preprocessed (Winograd: the filter transform
    // costs as much as the conv); the heuristic passes it over otherwise.
    WANTS_WEIGHT_PREPROCESS = 16,
  };
  virtual ~Algo() = default;
  virtual const char* name() const = 0;
  virtual uint32_t attributes() const = 0;
  bool is_naive() const { return attributes() & NAIVE; }
  virtual bool usable(const Op& op, const InLayouts& in, const OutLayouts& out) const { return true; }
  // Scratch bytes one call needs on each thread of its CompNode (one slot
  // per thread: KernCtx::thread_workspace), and bytes it needs once, shared
  // by its threads (KernCtx::shared_workspace), given whether its weights
  // were preprocessed (Winograd's transformed filters when they were not).
  virtual size_t workspace(const Op& op, const InLayouts& in, const OutLayouts& out) const {
    return 0;
  }
  virtual size_t shared_workspace(const Op& op, const InLayouts& in, const OutLayouts& out,
                                  bool prepared) const {
    return 0;
  }
  // The heuristic's hint (MegEngine's is_preferred): an algo that can run a
  // shape but is seldom the fastest there (Winograd on a few tiles) says no,
  // and the heuristic takes the first usable algo that is also preferred,
  // falling back to the first usable one. prefer_algo and profiling ignore it.
  virtual bool preferred(const Op& op, const InLayouts& in, const OutLayouts& out) const {
    return true;
  }
  // Weight preprocessing (on by default; --no-weight-preprocess turns it
  // off): an algo may transform the inputs whose values are known at compile
  // time (weights) once, e.g. pack a GEMM operand or Winograd-transform conv
  // filters. values[i] is null where input i is only known at run time. The
  // result lives with the plan's step and reaches exec as KernCtx::prepared;
  // an empty one means nothing was prepared, and exec must then work from the
  // inputs (its workspace() and shared_workspace() must cover that).
  virtual Prepared preprocess(const Op& op, const InLayouts& in,
                              const std::vector<const Tensor*>& values) const {
    return {};
  }
  // The original of input `prepared.replaces`, rebuilt exactly from the form
  // preprocess() made for layouts `in` (a GEMM packing is a permutation), or
  // an empty tensor when the form cannot give it back (Winograd's). The
  // network uses it when a later plan needs the original of a freed weight.
  virtual bool can_unprepare() const { return false; }
  virtual Tensor unprepare(const Op& op, const InLayouts& in, const Prepared& prepared) const {
    return {};
  }
  // What preprocess() depends on besides the weights' values: plans for
  // other input shapes with the same key share one result. The default, every
  // input's layout, is always safe; an algorithm whose result depends on the
  // weights' layouts alone says so (then a new batch size reuses it).
  virtual std::string preprocess_key(const Op& op, const InLayouts& in) const {
    std::string k;
    for (const Layout* l : in) k += l ? l->str() : "{}";
    return k;
  }
  virtual void exec(const Op& op, const KernCtx& ctx) const = 0;
  // Binds the algorithm to `op` at these layouts on `cn`, once per plan
  // step. The default binds exec (which works its geometry out per call);
  // an algorithm with per-call set-up worth saving overrides it and keeps
  // that set-up in BoundKernel::params.
  virtual BoundKernel bind(const Op& op, const InLayouts& in, const OutLayouts& out,
                           CompNode& cn) const {
    (void)cn;
    BoundKernel k;
    k.fn = [](const BoundKernel& b, const KernCtx& ctx) { b.algo->exec(*b.op, ctx); };
    k.algo = this;
    k.op = &op;
    k.workspace = workspace(op, in, out);
    return k;
  }
};

// preprocess_key of an algorithm whose preprocess reads input `i`'s layout only.
inline std::string layout_key(const InLayouts& in, size_t i) {
  return i < in.size() && in[i] ? in[i]->str() : "{}";
}

// An algo that is a plain function of the concrete op type.
template <class OpT>
class FnAlgo final : public Algo {
 public:
  using Fn = void (*)(const OpT&, const KernCtx&);
  FnAlgo(const char* name, uint32_t attrs, Fn fn) : name_(name), attrs_(attrs), fn_(fn) {}
  const char* name() const override { return name_; }
  uint32_t attributes() const override { return attrs_; }
  void exec(const Op& op, const KernCtx& ctx) const override {
    fn_(static_cast<const OpT&>(op), ctx);
  }

 private:
  const char* name_;
  uint32_t attrs_;
  Fn fn_;
};

// The reference algorithm every operator has.
template <class OpT>
FnAlgo<OpT> naive_algo(typename FnAlgo<OpT>::Fn fn) {
  return FnAlgo<OpT>("NAIVE", Algo::NAIVE | Algo::REPRODUCIBLE, fn);
}

}  // namespace loadrun
