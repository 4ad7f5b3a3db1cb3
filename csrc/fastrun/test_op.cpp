#include "fastrun/test_op.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "core/errors.h"
#include "graph/op_registry.h"

namespace loadrun {

namespace {

const char* kDomain = "test.fastrun";
std::atomic<int> g_preprocess_calls{0};

class FrCopy : public Op {
 public:
  explicit FrCopy(const Attrs& a) : p(a.get_int("p", 0)) {}
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    ctx.set_output(0, x.shape, x.dtype);
  }
  std::string param_key() const override { return "p=" + std::to_string(p); }
  int64_t p;
};

class CopyAlgo final : public Algo {
 public:
  CopyAlgo(const char* name, uint32_t attrs, int ms, size_t ws = 0, bool throws = false)
      : name_(name), attrs_(attrs), ms_(ms), ws_(ws), throws_(throws) {}
  const char* name() const override { return name_; }
  uint32_t attributes() const override { return attrs_; }
  size_t workspace(const Op&, const InLayouts&, const OutLayouts&) const override { return ws_; }
  Prepared preprocess(const Op&, const InLayouts&,
                       const std::vector<const Tensor*>&) const override {
    if (!ws_) return {};
    ++g_preprocess_calls;
    return {std::make_shared<int>(1), sizeof(int), -1};
  }
  void exec(const Op&, const KernCtx& ctx) const override {
    LR_CHECK(!throws_, UnsupportedError, name_, " always fails");
    LR_CHECK(!ws_ || ctx.prepared || (ctx.workspace && ctx.workspace_size >= ws_), InternalError,
             name_, ": no workspace given");
    if (ms_) std::this_thread::sleep_for(std::chrono::milliseconds(ms_));
    std::memcpy(ctx.output(0).raw(), ctx.input(0).raw(), ctx.input(0).nbytes());
  }

 private:
  const char* name_;
  uint32_t attrs_;
  int ms_;
  size_t ws_;
  bool throws_;
};

}  // namespace

void register_fastrun_test_op() {
  static std::once_flag once;
  std::call_once(once, [] {
    static CopyAlgo naive("NAIVE", Algo::NAIVE | Algo::REPRODUCIBLE, 10);
    static CopyAlgo slow("FR_SLOW", Algo::REPRODUCIBLE, 14);
    static CopyAlgo throws("FR_THROWS", Algo::REPRODUCIBLE, 0, 0, true);
    static CopyAlgo fast("FR_FAST",
                         Algo::USABLE_DEPEND_ON_SHAPE | Algo::ACCURACY_DEPEND_ON_BATCH, 0);
    static CopyAlgo bigws("FR_BIGWS", Algo::REPRODUCIBLE, 2, size_t(64) << 20);
    static CopyAlgo medium("FR_MEDIUM", Algo::REPRODUCIBLE, 8);
    OpDef d;
    d.type = "FrCopy";
    d.domain = kDomain;
    d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<FrCopy>(a); };
    d.algos = {&naive};
    d.min_inputs = d.max_inputs = 1;
    OpRegistry::get().add(std::move(d));
    for (const Algo* a : {static_cast<const Algo*>(&slow), static_cast<const Algo*>(&throws),
                          static_cast<const Algo*>(&fast), static_cast<const Algo*>(&bigws),
                          static_cast<const Algo*>(&medium)})
      OpRegistry::get().add_algo(kDomain, "FrCopy", a);
  });
}

int fastrun_test_preprocess_calls() { return g_preprocess_calls; }

}  // namespace loadrun
