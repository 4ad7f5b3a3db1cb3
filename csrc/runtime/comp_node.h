// CompNode: where kernels run. Kernels split their work through
// parallel_for and never create threads. `CpuCompNode(1)` runs everything
// inline on the caller's thread; with N > 1 it owns a thread pool
// (runtime/thread_pool.h) of N-1 workers plus the calling thread.
//
// parallel_for(n, fn, grain) calls fn(begin, end, tid) over disjoint ranges
// covering [0, n): at most ceil(n / grain) ranges and at most num_threads()
// (so a range holds about `grain` items or more), tid in [0, num_threads()).
// tid names the thread, for its scratch slot only: one thread may run
// several ranges, so per-range results are indexed by range, never by tid. The split is static: ranges depend on n,
// grain and num_threads() only, so a kernel that splits over outputs gives
// the same bits on every run. A range is never split further, and
// parallel_for returns when every range is done. Calls may nest: a
// parallel_for inside fn runs inline on that thread (tid 0 of the inner
// call is the calling thread's own tid).
//
// Scratch per thread: a step's workspace (KernCtx::workspace) holds
// num_threads() slots of KernCtx::workspace_size bytes, 64-byte aligned;
// a kernel running range fn(…, tid) uses KernCtx::thread_workspace(tid).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace loadrun {

using RangeFn = std::function<void(int64_t begin, int64_t end, int tid)>;

class CompNode {
 public:
  virtual ~CompNode() = default;
  virtual std::string name() const = 0;
  virtual int num_threads() const = 0;
  virtual void parallel_for(int64_t n, const RangeFn& fn, int64_t grain = 1) = 0;
  // parallel_for calls that fanned out to more than one thread so far (for
  // --check-dispatch: an observer reads it before and after a step).
  virtual uint64_t dispatches() const { return 0; }
  // The cores the threads are pinned to (tid order; empty: not pinned).
  virtual std::vector<int> core_ids() const { return {}; }
  // Each thread's CPU affinity as the OS reports it, tid order (tests).
  virtual std::vector<std::vector<int>> affinity() const { return {}; }
};

// How many ranges parallel_for makes of n items at this grain on `threads`.
inline int64_t num_ranges(int64_t n, int64_t grain, int threads) {
  if (n <= 0) return 0;
  if (grain < 1) grain = 1;
  int64_t by_grain = (n + grain - 1) / grain;
  return by_grain < threads ? by_grain : threads;
}

// Range r of `parts` over [0, n): the first n % parts ranges get one more.
inline void range_of(int64_t n, int64_t parts, int64_t r, int64_t& begin, int64_t& end) {
  int64_t q = n / parts, rem = n % parts;
  begin = r * q + (r < rem ? r : rem);
  end = begin + q + (r < rem ? 1 : 0);
}

// Scratch slot stride for a per-thread need of `ws` bytes, and the bytes of
// one slot per thread (KernCtx::thread_workspace).
inline size_t workspace_stride(size_t ws) { return (ws + 63) / 64 * 64; }
inline size_t workspace_total(size_t ws, int threads) {
  return workspace_stride(ws) * static_cast<size_t>(threads < 1 ? 1 : threads);
}

// parallel_for on `cn`, or inline on the caller (one range, tid 0) when cn
// is null (constant folding runs kernels without a node).
inline void parallel_for(CompNode* cn, int64_t n, const RangeFn& fn, int64_t grain = 1) {
  if (cn) {
    cn->parallel_for(n, fn, grain);
  } else if (n > 0) {
    fn(0, n, 0);
  }
}

class ThreadPool;

// The CPU node. threads == 1: inline. core_ids (optional, one per thread):
// worker i is pinned to core_ids[i], the calling thread to the last id while
// it runs a parallel_for (an InputError when a core does not exist or
// affinity is not supported).
class CpuCompNode final : public CompNode {
 public:
  explicit CpuCompNode(int threads = 1, std::vector<int> core_ids = {});
  ~CpuCompNode() override;
  std::string name() const override { return "cpu0"; }
  int num_threads() const override { return threads_; }
  void parallel_for(int64_t n, const RangeFn& fn, int64_t grain = 1) override;
  uint64_t dispatches() const override;
  std::vector<int> core_ids() const override { return core_ids_; }
  std::vector<std::vector<int>> affinity() const override;

 private:
  int threads_;
  std::vector<int> core_ids_;
  std::unique_ptr<ThreadPool> pool_;
};

// For tests: num_threads() ranges, run one after another on the calling
// thread with their tids, so splitting and per-thread scratch are exercised
// deterministically without threads.
class SerialSplitCompNode final : public CompNode {
 public:
  explicit SerialSplitCompNode(int threads) : threads_(threads < 1 ? 1 : threads) {}
  std::string name() const override { return "cpu0-serial-split"; }
  int num_threads() const override { return threads_; }
  void parallel_for(int64_t n, const RangeFn& fn, int64_t grain = 1) override {
    int64_t parts = num_ranges(n, grain, threads_);
    if (parts > 1) ++dispatches_;
    // Reverse order: a kernel that wrongly depends on range order shows.
    for (int64_t r = parts - 1; r >= 0; --r) {
      int64_t b, e;
      range_of(n, parts, r, b, e);
      fn(b, e, static_cast<int>(r));
    }
  }
  uint64_t dispatches() const override { return dispatches_; }

 private:
  int threads_;
  uint64_t dispatches_ = 0;
};

}  // namespace loadrun
