// ThreadPool (see thread_pool.h for the protocol) and CpuCompNode.
#include "runtime/thread_pool.h"

#include <algorithm>
#include <string>

#include "core/errors.h"

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#define LOADRUN_HAS_AFFINITY 1
#else
#define LOADRUN_HAS_AFFINITY 0
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LOADRUN_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define LOADRUN_PAUSE() asm volatile("yield")
#else
#define LOADRUN_PAUSE() ((void)0)
#endif

namespace loadrun {

namespace {

// Spin iterations before a worker sleeps (a pause is ~10-40 ns; 4096 of
// them, checked in batches, is roughly 50-100 us).
constexpr int kSpin = 4096;

// The tid of the range this thread is running, or -1 outside any range: a
// parallel_for inside a range runs inline with it.
thread_local int t_range_tid = -1;

// Pool ids (ThreadPool::id_), never reused.
std::atomic<uint64_t> g_next_pool_id{1};

#if LOADRUN_HAS_AFFINITY
bool pin_to(pthread_t t, int core) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  return pthread_setaffinity_np(t, sizeof(set), &set) == 0;
}

std::vector<int> affinity_of(pthread_t t) {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> r;
  if (pthread_getaffinity_np(t, sizeof(set), &set) != 0) return r;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) r.push_back(c);
  return r;
}
#endif

}  // namespace

namespace {

std::vector<int> read_allowed_cores() {
#if LOADRUN_HAS_AFFINITY
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> r;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return r;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) r.push_back(c);
  return r;
#else
  return {};
#endif
}

// Read once, when the library loads: sched_getaffinity reports the calling
// thread's mask, and a thread that ran a pinned pool's parallel_for stays
// pinned to one core, so reading it later would refuse every other core.
const std::vector<int> kStartupCores = read_allowed_cores();

}  // namespace

std::vector<int> allowed_cores() { return kStartupCores; }

ThreadPool::ThreadPool(int threads, const std::vector<int>& core_ids)
    : threads_(std::max(1, threads)),
      core_ids_(core_ids),
      id_(g_next_pool_id.fetch_add(1)),
      workers_(threads_ - 1) {
  for (int w = 0; w + 1 < threads_; ++w) {
    workers_[w].thread = std::thread([this, w] { worker_main(w); });
#if LOADRUN_HAS_AFFINITY
    if (!core_ids_.empty()) pin_to(workers_[w].thread.native_handle(), core_ids_[w]);
#endif
  }
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  for (Worker& w : workers_) w.gen.fetch_add(1);
  {
    std::lock_guard<std::mutex> lock(sleep_mu_);
    sleep_cv_.notify_all();
  }
  for (Worker& w : workers_)
    if (w.thread.joinable()) w.thread.join();
}

void ThreadPool::run_ranges(int tid) {
  const RangeFn& fn = *job_.fn;
  int saved = t_range_tid;
  t_range_tid = tid;
  for (;;) {
    int64_t r = job_.next.fetch_add(1, std::memory_order_relaxed);
    if (r >= job_.parts) break;
    int64_t b, e;
    range_of(job_.n, job_.parts, r, b, e);
    fn(b, e, tid);
  }
  t_range_tid = saved;
}

void ThreadPool::worker_main(int w) {
  Worker& me = workers_[w];
  uint64_t seen = 0;
  for (;;) {
    uint64_t g = me.gen.load(std::memory_order_acquire);
    for (int i = 0; g == seen && i < kSpin; ++i) {
      LOADRUN_PAUSE();
      if ((i & 15) == 15) g = me.gen.load(std::memory_order_acquire);
    }
    if (g == seen) g = me.gen.load(std::memory_order_acquire);
    if (g == seen) {
      std::unique_lock<std::mutex> lock(sleep_mu_);
      sleepers_.fetch_add(1);  // seq_cst: pairs with the caller's gen store
      while ((g = me.gen.load()) == seen) sleep_cv_.wait(lock);
      sleepers_.fetch_sub(1);
    }
    seen = g;
    if (stop_.load()) return;
    if (me.ticket.exchange(0, std::memory_order_acq_rel) != 1) continue;  // taken back
    run_ranges(w + 1);
    job_.pending.fetch_sub(1, std::memory_order_acq_rel);
  }
}

// The id of the pool whose last core this thread was pinned to (once per
// thread and pool). An id, not the pool's address: a pool created where a
// destroyed one lived must pin the caller again.
static thread_local uint64_t t_pinned_for = 0;

void ThreadPool::pin_caller() {
#if LOADRUN_HAS_AFFINITY
  if (core_ids_.empty() || t_pinned_for == id_) return;
  pin_to(pthread_self(), core_ids_.back());
  t_pinned_for = id_;
#endif
}

void ThreadPool::parallel_for(int64_t n, const RangeFn& fn, int64_t grain) {
  int64_t parts = num_ranges(n, grain, threads_);
  if (parts <= 0) return;
  if (t_range_tid < 0) pin_caller();
  if (t_range_tid >= 0 || parts == 1) {
    // Inside a range, or nothing to split: inline, same ranges.
    int tid = t_range_tid >= 0 ? t_range_tid : 0;
    for (int64_t r = 0; r < parts; ++r) {
      int64_t b, e;
      range_of(n, parts, r, b, e);
      fn(b, e, tid);
    }
    return;
  }
  std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
  if (!busy.owns_lock()) {
    for (int64_t r = 0; r < parts; ++r) {
      int64_t b, e;
      range_of(n, parts, r, b, e);
      fn(b, e, 0);
    }
    return;
  }
  dispatches_.fetch_add(1, std::memory_order_relaxed);
  int helpers = static_cast<int>(parts) - 1;
  job_.fn = &fn;
  job_.n = n;
  job_.parts = parts;
  job_.next.store(0, std::memory_order_relaxed);
  job_.pending.store(helpers, std::memory_order_relaxed);
  for (int w = 0; w < helpers; ++w) {
    workers_[w].ticket.store(1, std::memory_order_release);  // publishes job_
    workers_[w].gen.fetch_add(1);                            // seq_cst: wakes it
  }
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lock(sleep_mu_);
    sleep_cv_.notify_all();
  }
  run_ranges(0);
  // Every range is claimed: take back the tickets no worker took yet.
  for (int w = 0; w < helpers; ++w)
    if (workers_[w].ticket.exchange(0, std::memory_order_acq_rel) == 1)
      job_.pending.fetch_sub(1, std::memory_order_relaxed);
  for (int i = 0; job_.pending.load(std::memory_order_acquire) > 0; ++i) {
    if (i < kSpin) {
      LOADRUN_PAUSE();
    } else {
      std::this_thread::yield();
    }
  }
}

std::vector<std::vector<int>> ThreadPool::affinity() const {
  std::vector<std::vector<int>> r(threads_);
#if LOADRUN_HAS_AFFINITY
  if (t_pinned_for == id_ || core_ids_.empty())
    r[0] = affinity_of(pthread_self());
  for (size_t w = 0; w < workers_.size(); ++w)
    r[w + 1] = affinity_of(const_cast<std::thread&>(workers_[w].thread).native_handle());
#endif
  return r;
}

// ---- CpuCompNode ----

CpuCompNode::CpuCompNode(int threads, std::vector<int> core_ids)
    : threads_(threads), core_ids_(std::move(core_ids)) {
  LR_CHECK(threads_ >= 1, InputError, "the thread count must be at least 1, got ", threads_);
  if (!core_ids_.empty()) {
    LR_CHECK(static_cast<int>(core_ids_.size()) == threads_, InputError, "core ids: ",
             core_ids_.size(), " given for ", threads_, " threads (one per thread)");
#if LOADRUN_HAS_AFFINITY
    std::vector<int> ok = allowed_cores();
    for (int c : core_ids_)
      LR_CHECK(std::find(ok.begin(), ok.end(), c) != ok.end(), InputError, "core id ", c,
               " does not exist or is not available to this process (available: ",
               [&] {
                 std::string s;
                 for (int a : ok) s += (s.empty() ? "" : ",") + std::to_string(a);
                 return s;
               }(),
               ")");
#else
    LR_THROW(UnsupportedError, "core ids: thread affinity is not supported on this platform");
#endif
  }
  if (threads_ > 1 || !core_ids_.empty()) pool_ = std::make_unique<ThreadPool>(threads_, core_ids_);
}

CpuCompNode::~CpuCompNode() = default;

void CpuCompNode::parallel_for(int64_t n, const RangeFn& fn, int64_t grain) {
  if (pool_) {
    pool_->parallel_for(n, fn, grain);
    return;
  }
  if (n > 0) fn(0, n, 0);
}

uint64_t CpuCompNode::dispatches() const { return pool_ ? pool_->dispatches() : 0; }

std::vector<std::vector<int>> CpuCompNode::affinity() const {
  return pool_ ? pool_->affinity() : std::vector<std::vector<int>>{};
}

}  // namespace loadrun
