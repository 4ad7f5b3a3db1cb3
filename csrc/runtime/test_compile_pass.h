// A test-only compile pass (runtime/compile_pass.h), registered at run time
// only when a test asks, the way an operator library will register its own:
// it logs every test.runtime.Scale2 step it sees with its input and output
// shapes, proving that compile passes run once per compiled plan, after
// inference (the shapes are concrete) and before the comp seq is bound.
#pragma once
#include <string>
#include <vector>

namespace loadrun {

void register_test_compile_pass();
// The log so far ("name:[in]->[out]" per step seen), emptied by the call.
std::vector<std::string> take_test_compile_pass_log();

}  // namespace loadrun
