// CompNode: where kernels run. Kernels split their work through
// parallel_for and never create threads; `cpu` runs everything inline on the
// caller's thread, a thread-pool node (a later issue) fans the ranges out.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace loadrun {

class CompNode {
 public:
  virtual ~CompNode() = default;
  virtual std::string name() const = 0;
  virtual int num_threads() const = 0;
  // Calls fn(begin, end) over disjoint ranges covering [0, n).
  virtual void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) = 0;
};

class CpuCompNode final : public CompNode {
 public:
  std::string name() const override { return "cpu0"; }
  int num_threads() const override { return 1; }
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) override {
    if (n > 0) fn(0, n);
  }
};

}  // namespace loadrun
