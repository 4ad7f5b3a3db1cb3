// The thread pool behind CpuCompNode::parallel_for (runtime/thread_pool.h),
// networks run on it from several threads, and the --check-dispatch
// observer (runtime/dispatch_observer.h). Built also with
// -fsanitize=thread (.ci/tsan, CMake option LOADRUN_TSAN), where every test
// here must run clean: the job hand-off, the spin-then-sleep wake-up, two
// callers on one node, destruction while the workers sleep.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "expect.h"
#include "graph/graph.h"
#include "runtime/comp_node.h"
#include "runtime/dispatch_observer.h"
#include "runtime/network.h"
#include "runtime/test_ops.h"
#include "runtime/thread_pool.h"

using namespace loadrun;

// Every item of [0, n) exactly once, tids in range, and the ranges exactly
// the static split (range_of over num_ranges parts), whatever thread ran them.
static void test_ranges_cover_exactly_once() {
  for (int threads : {1, 2, 3, 4, 7}) {
    CpuCompNode cn(threads);
    EXPECT(cn.num_threads() == threads);
    for (int64_t n : {0, 1, 2, 3, 5, 17, 64, 1000, 4099}) {
      for (int64_t grain : {1, 3, 64}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        for (auto& h : hits) h.store(0);
        std::mutex mu;
        std::set<std::pair<int64_t, int64_t>> got;
        std::atomic<bool> bad_tid{false};
        cn.parallel_for(
            n,
            [&](int64_t b, int64_t e, int tid) {
              if (tid < 0 || tid >= threads) bad_tid.store(true);
              for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
              std::lock_guard<std::mutex> lock(mu);
              got.insert({b, e});
            },
            grain);
        EXPECT(!bad_tid.load());
        for (auto& h : hits) EXPECT(h.load() == 1);
        int64_t parts = num_ranges(n, grain, threads);
        std::set<std::pair<int64_t, int64_t>> want;
        for (int64_t r = 0; r < parts; ++r) {
          int64_t b, e;
          range_of(n, parts, r, b, e);
          want.insert({b, e});
        }
        EXPECT(got == want);
      }
    }
  }
}

// A parallel_for inside a range runs inline on that thread, with its tid,
// over the inner call's own static split.
static void test_nested_runs_inline() {
  CpuCompNode cn(3);
  std::atomic<int> wrong{0}, inner_items{0};
  cn.parallel_for(
      3,
      [&](int64_t, int64_t, int tid) {
        const auto me = std::this_thread::get_id();
        int64_t next = 0;
        cn.parallel_for(10, [&](int64_t b, int64_t e, int inner_tid) {
          if (inner_tid != tid || std::this_thread::get_id() != me || b != next) wrong.fetch_add(1);
          next = e;
          inner_items.fetch_add(static_cast<int>(e - b));
        });
        if (next != 10) wrong.fetch_add(1);
      },
      1);
  EXPECT(wrong.load() == 0);
  EXPECT(inner_items.load() == 30);
}

// Two threads calling parallel_for on one node at once: one gets the pool,
// the other runs its ranges inline; both always get every item.
static void test_two_callers_on_one_node() {
  CpuCompNode cn(2);
  std::atomic<int> errors{0};
  auto caller = [&](int seed) {
    std::vector<int64_t> data(257);
    for (int job = 0; job < 2000; ++job) {
      std::fill(data.begin(), data.end(), 0);
      cn.parallel_for(static_cast<int64_t>(data.size()), [&](int64_t b, int64_t e, int) {
        for (int64_t i = b; i < e; ++i) data[static_cast<size_t>(i)] = i * seed + job;
      });
      for (size_t i = 0; i < data.size(); ++i)
        if (data[i] != static_cast<int64_t>(i) * seed + job) errors.fetch_add(1);
    }
  };
  std::thread a(caller, 3), b(caller, 5);
  a.join();
  b.join();
  EXPECT(errors.load() == 0);
  EXPECT(cn.dispatches() > 0);
}

// Many back-to-back small jobs (the workers barely sleep), then jobs spaced
// out so that the workers go to sleep between them and must be woken.
static void test_back_to_back_and_wakeups() {
  CpuCompNode cn(4);
  int64_t sums[4] = {0, 0, 0, 0};
  bool ok = true;
  for (int job = 0; job < 5000 && ok; ++job) {
    std::fill(sums, sums + 4, 0);
    cn.parallel_for(40, [&](int64_t b, int64_t e, int) {
      int64_t r = b / 10;  // 4 ranges of 10: index by range, never by tid
      for (int64_t i = b; i < e; ++i) sums[r] += i;
    }, 10);
    ok = sums[0] == 45 && sums[1] == 145 && sums[2] == 245 && sums[3] == 345;
  }
  EXPECT(ok);
  for (int job = 0; job < 5; ++job) {
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    std::atomic<int64_t> total{0};
    cn.parallel_for(1000, [&](int64_t b, int64_t e, int) {
      int64_t s = 0;
      for (int64_t i = b; i < e; ++i) s += i;
      total.fetch_add(s);
    });
    EXPECT(total.load() == 999 * 1000 / 2);
  }
  EXPECT(cn.dispatches() == 5005);
}

// Destruction right after construction, after a job, and while the workers
// sleep; none may hang or touch freed memory.
static void test_destruction() {
  for (int i = 0; i < 50; ++i) CpuCompNode cn(3);
  for (int i = 0; i < 20; ++i) {
    CpuCompNode cn(3);
    std::atomic<int> items{0};
    cn.parallel_for(9, [&](int64_t b, int64_t e, int) { items.fetch_add(static_cast<int>(e - b)); });
    EXPECT(items.load() == 9);
    if (i % 4 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// Pinned workers report their core; so does the calling thread once it ran a
// parallel_for (it goes to the last id). Run on a thread of its own, so the
// test's main thread is never pinned.
static void test_affinity_read_back() {
  std::vector<int> cores = allowed_cores();
  if (cores.empty()) {
    std::printf("test_affinity_read_back: no affinity on this platform, skipped\n");
    return;
  }
  const int a = cores.front(), b = cores.size() > 1 ? cores[1] : cores.front();
  std::thread t([&] {
    for (const std::vector<int>& ids : {std::vector<int>{a, a}, std::vector<int>{b, a},
                                        std::vector<int>{a, b, b}, std::vector<int>{b, b, a}}) {
      CpuCompNode cn(static_cast<int>(ids.size()), ids);
      EXPECT(cn.core_ids() == ids);
      std::atomic<int> items{0};
      cn.parallel_for(100, [&](int64_t bb, int64_t e, int) { items.fetch_add(static_cast<int>(e - bb)); });
      EXPECT(items.load() == 100);
      std::vector<std::vector<int>> aff = cn.affinity();
      EXPECT(aff.size() == ids.size());
      if (aff.size() != ids.size()) continue;
      EXPECT(aff[0] == std::vector<int>{ids.back()});  // the caller: the last id
      for (size_t w = 1; w < ids.size(); ++w) EXPECT(aff[w] == std::vector<int>{ids[w - 1]});
    }
  });
  t.join();
  bool bad_core = false;
  try {
    CpuCompNode cn(1, {100000});
  } catch (const InputError&) {
    bad_core = true;
  }
  EXPECT(bad_core);
}

// A small conv network on 2 threads: from 1 and from 4 calling threads on one
// Network, and two Networks sharing one node, all give the 1-thread outputs.
static std::shared_ptr<Graph> conv_graph() {
  auto g = std::make_shared<Graph>();
  g->add_input("x", DType::Float32, {1, 8, 20, 20});
  Tensor w(Layout({16, 8, 3, 3}, DType::Float32));
  for (int64_t i = 0; i < w.numel(); ++i) w.ptr<float>()[i] = static_cast<float>((i * 37) % 11 - 5) / 8.f;
  g->add_const("w", w);
  g->add_opr("Conv", "", "conv", Attrs(), {"x", "w"}, {"c"});
  g->add_opr("Relu", "", "relu", Attrs(), {"c"}, {"y"});
  g->add_output("y");
  return g;
}

static Tensor input(int seed) {
  Tensor x(Layout({1, 8, 20, 20}, DType::Float32));
  for (int64_t i = 0; i < x.numel(); ++i)
    x.ptr<float>()[i] = static_cast<float>((i * 13 + seed * 7) % 17 - 8) / 4.f;
  return x;
}

static bool close(const Tensor& a, const Tensor& b) {
  if (a.numel() != b.numel()) return false;
  for (int64_t i = 0; i < a.numel(); ++i) {
    float x = a.ptr<float>()[i], y = b.ptr<float>()[i];
    if (std::fabs(x - y) > 1e-4f * (1.f + std::fabs(y))) return false;
  }
  return true;
}

static void test_network_on_threads() {
  auto g = conv_graph();
  Network one(g);
  std::vector<Tensor> want;
  for (int s = 0; s < 4; ++s) want.push_back(one.run({input(s)})[0]);

  NetworkOptions opt;
  opt.comp_node = std::make_shared<CpuCompNode>(2);
  Network two(g, opt);
  EXPECT(two.comp_node().num_threads() == 2);
  for (int s = 0; s < 4; ++s) EXPECT(close(two.run({input(s)})[0], want[static_cast<size_t>(s)]));

  std::atomic<int> wrong{0};
  std::vector<std::thread> ts;
  for (int s = 0; s < 4; ++s)
    ts.emplace_back([&, s] {
      for (int r = 0; r < 20; ++r)
        if (!close(two.run({input(s)})[0], want[static_cast<size_t>(s)])) wrong.fetch_add(1);
    });
  for (auto& t : ts) t.join();
  EXPECT(wrong.load() == 0);

  Network a(g, opt), b(g, opt);  // one node, two networks, two threads
  std::thread ta([&] {
    for (int r = 0; r < 20; ++r)
      if (!close(a.run({input(1)})[0], want[1])) wrong.fetch_add(1);
  });
  std::thread tb([&] {
    for (int r = 0; r < 20; ++r)
      if (!close(b.run({input(2)})[0], want[2])) wrong.fetch_add(1);
  });
  ta.join();
  tb.join();
  EXPECT(wrong.load() == 0);
}

// --check-dispatch's observer: Scale2 runs on one thread, ParScale2 splits
// over the node's threads; on a 1-thread node nothing dispatches.
static void test_dispatch_observer() {
  register_runtime_test_ops();
  auto g = std::make_shared<Graph>();
  g->add_input("x", DType::Float32, {4, 100});
  g->add_opr("Scale2", "test.runtime", "one", Attrs(), {"x"}, {"t"});
  g->add_opr("ParScale2", "test.runtime", "par", Attrs(), {"t"}, {"y"});
  g->add_output("y");
  Tensor x(Layout({4, 100}, DType::Float32));
  for (int64_t i = 0; i < x.numel(); ++i) x.ptr<float>()[i] = static_cast<float>(i);
  for (int threads : {1, 2}) {
    for (bool serial : {false, true}) {
      NetworkOptions opt;
      if (serial) opt.comp_node = std::make_shared<SerialSplitCompNode>(threads);
      else opt.comp_node = std::make_shared<CpuCompNode>(threads);
      Network net(g, opt);
      auto obs = std::make_shared<DispatchObserver>(net.comp_node());
      net.add_observer(obs);
      Tensor y = net.run({x})[0];
      for (int64_t i = 0; i < y.numel(); ++i) EXPECT(y.ptr<float>()[i] == 4.f * static_cast<float>(i));
      EXPECT(obs->steps_seen() == 2);
      std::vector<std::string> want = {"one{Scale2}"};
      if (threads == 1) want.push_back("par{ParScale2}");
      EXPECT(obs->single_thread_steps() == want);
    }
  }
}

int main() {
  test_ranges_cover_exactly_once();
  test_nested_runs_inline();
  test_two_callers_on_one_node();
  test_back_to_back_and_wakeups();
  test_destruction();
  test_affinity_read_back();
  test_network_on_threads();
  test_dispatch_observer();
  return expect_exit("test_thread_pool: all passed");
}
