// Test-only compile pass (see test_compile_pass.h).
#include "runtime/test_compile_pass.h"

#include <mutex>

#include "runtime/compile_pass.h"

namespace loadrun {

namespace {

std::mutex g_mu;
std::vector<std::string> g_log;

class LogScale2 final : public CompilePass {
 public:
  const char* name() const override { return "test_log_scale2"; }
  void run(CompileView& v) const override {
    for (const CompileStep& st : v.steps) {
      const OprNode& n = *st.node;
      if (n.def->domain != "test.runtime" || n.def->type != "Scale2") continue;
      std::string e = n.name + ":" + shape_str(v.layouts[n.inputs[0]].shape) + "->" +
                      shape_str(v.layouts[n.outputs[0]].shape);
      std::lock_guard<std::mutex> lock(g_mu);
      if (g_log.size() < 10000) g_log.push_back(std::move(e));  // bounded: tests take it
    }
  }
};

}  // namespace

void register_test_compile_pass() { register_compile_pass(std::make_shared<LogScale2>()); }

std::vector<std::string> take_test_compile_pass_log() {
  std::lock_guard<std::mutex> lock(g_mu);
  std::vector<std::string> r;
  r.swap(g_log);
  return r;
}

}  // namespace loadrun
