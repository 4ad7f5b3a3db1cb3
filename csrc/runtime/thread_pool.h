// ThreadPool: N-1 worker threads plus the calling thread, behind
// CpuCompNode::parallel_for (runtime/comp_node.h).
//
// A job is a RangeFn over `parts` ranges of [0, n). The caller publishes it
// by bumping the generation counter of each worker it needs (one cache line
// per worker), then claims ranges itself; the signalled workers claim ranges
// from the same atomic counter, so a worker that wakes late finds them done.
// Each signalled worker holds a ticket: the worker takes it when it wakes
// (and then checks out when its ranges are done), or the caller takes it back
// once it has run out of ranges (a worker still asleep then never touches
// the job). The caller returns once every ticket is taken back or checked
// out, so a job on the caller's stack is never touched after parallel_for
// returns (no reference counting, no ABA), and a sleeping worker costs the
// caller nothing but the wake-up call. Workers spin on their counter for a while
// (~50-100 us, a few kernels' gap) and then sleep on a condition variable;
// the caller only takes the mutex to wake them when some are asleep (the
// seq_cst pair "store generation / load sleepers" against "store sleepers /
// load generation" rules out a lost wake-up). Anchors: XNNPACK's
// pthreadpool (per-job check-in of every worker), ONNX Runtime's
// EigenNonBlockingThreadPool (spin, then block).
//
// One job at a time: a second thread calling while a job runs (two
// Networks sharing one node) runs its ranges inline, one after another,
// with tid 0 (each Network has its own scratch, so slot 0 is free for it).
// A parallel_for from inside a range runs inline with the range's tid.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/comp_node.h"

namespace loadrun {

class ThreadPool {
 public:
  // threads: the calling thread counts as one. core_ids: empty, or one per
  // thread (worker i gets core_ids[i]; the caller the last, see pin_caller).
  ThreadPool(int threads, const std::vector<int>& core_ids);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return threads_; }
  void parallel_for(int64_t n, const RangeFn& fn, int64_t grain);
  uint64_t dispatches() const { return dispatches_.load(std::memory_order_relaxed); }
  // Each thread's CPU affinity as the OS reports it (tid order: the caller
  // first, as pinned, then worker 1..N-1); empty lists where unknown.
  // The caller's entry is the calling thread's, when pin_caller pinned it
  // (or nothing is pinned).
  std::vector<std::vector<int>> affinity() const;

 private:
  struct alignas(64) Worker {
    std::atomic<uint64_t> gen{0};
    // 1 while the current job counts on this worker; whoever exchanges it
    // to 0 first owns the check-out: the worker (it then runs ranges and
    // checks out) or the caller (revoking it once every range is claimed,
    // so a sleeping worker never holds a job up).
    std::atomic<int> ticket{0};
    std::thread thread;
  };
  struct Job {
    const RangeFn* fn = nullptr;
    int64_t n = 0, parts = 0;
    std::atomic<int64_t> next{0};
    std::atomic<int> pending{0};  // signalled workers not yet checked out
  };
  void worker_main(int w);
  void run_ranges(int tid);
  void pin_caller();

  int threads_;
  std::vector<int> core_ids_;
  uint64_t id_;                  // unique per pool (pin_caller)
  std::vector<Worker> workers_;  // tid w+1
  Job job_;
  std::mutex busy_;  // one job at a time
  std::mutex sleep_mu_;
  std::condition_variable sleep_cv_;
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> dispatches_{0};
};

// Cores this process may run on (sched_getaffinity when the library
// loaded, before any pool pinned a thread), ascending; empty where the
// platform has no affinity.
std::vector<int> allowed_cores();

}  // namespace loadrun
