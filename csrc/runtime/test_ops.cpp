// Test-only operators (see test_ops.h).
#include "runtime/test_ops.h"

#include <atomic>
#include <cstring>
#include <mutex>

#include "core/errors.h"
#include "fastrun/algo.h"
#include "graph/op_registry.h"
#include "runtime/comp_node.h"

namespace loadrun {

namespace {

struct SameShapeOp final : Op {
  explicit SameShapeOp(const Attrs&) {}
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(x.dtype == DType::Float32, UnsupportedError, "test op: float32 only");
    ctx.set_output(0, x.shape, x.dtype);
  }
};

void scale2(const SameShapeOp&, const KernCtx& ctx) {
  const float* x = ctx.input(0).ptr<float>();
  float* y = ctx.output(0).ptr<float>();
  for (int64_t i = 0, n = ctx.input(0).numel(); i < n; ++i) y[i] = 2.f * x[i];
}

void overrun(const SameShapeOp&, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  if (x.raw() != y.raw()) std::memcpy(y.raw(), x.raw(), x.nbytes());
  y.ptr<float>()[y.numel()] = 1.f;  // one element past the end, on purpose
}

void par_scale2(const SameShapeOp&, const KernCtx& ctx) {
  const float* x = ctx.input(0).ptr<float>();
  float* y = ctx.output(0).ptr<float>();
  parallel_for(ctx.comp_node, ctx.input(0).numel(), [=](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) y[i] = 2.f * x[i];
  });
}

// Every execution, in any Network of the process, takes the next count.
std::atomic<int64_t> g_nondet_count{0};

void nondet(const SameShapeOp&, const KernCtx& ctx) {
  const float* x = ctx.input(0).ptr<float>();
  float* y = ctx.output(0).ptr<float>();
  const float k = static_cast<float>(g_nondet_count.fetch_add(1, std::memory_order_relaxed) + 1);
  for (int64_t i = 0, n = ctx.input(0).numel(); i < n; ++i) y[i] = x[i] + k;
}

void add(const char* type, const Algo* naive) {
  OpDef d;
  d.type = type;
  d.domain = "test.runtime";
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<SameShapeOp>(a); };
  d.algos = {naive};
  d.min_inputs = d.max_inputs = 1;
  OpRegistry::get().add(std::move(d));
}

}  // namespace

void register_runtime_test_ops() {
  static std::once_flag once;
  std::call_once(once, [] {
    static const auto kScale2 = naive_algo<SameShapeOp>(scale2);
    static const auto kOverrun = naive_algo<SameShapeOp>(overrun);
    add("Scale2", &kScale2);
    static const auto kNonDet = naive_algo<SameShapeOp>(nondet);
    add("Overrun", &kOverrun);
    static const auto kParScale2 = naive_algo<SameShapeOp>(par_scale2);
    add("NonDet", &kNonDet);
    add("ParScale2", &kParScale2);
  });
}

}  // namespace loadrun
