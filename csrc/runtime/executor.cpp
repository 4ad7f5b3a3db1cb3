// Execute stage of a Network (see runtime/plan.h): the one loop over the
// bound steps, its observers and switches (sanity check, fake first run,
// record and replay, debug NaN fill), and benchmarking.
#include "runtime/network.h"
#include "runtime/plan.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "core/errors.h"

namespace loadrun {

// The execute loop: one pass over the bound steps. A dynamic step re-infers
// and re-binds itself first; observers see every step before and after; the
// first run of a plan checks the guard bytes after every step (sanity check).
// A recorded plan replays its kernels instead (--record-comp-seq).
void Network::execute() {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  require_compiled();
  Plan& p = *current_;
  if (!p.replay.empty()) {
    for (const Plan::Replay& r : p.replay) r.kernel->fn(*r.kernel, *r.ctx);
    return;
  }
  if (opt_.fake_first && !p.ran) {  // allocation and preparation are done: no kernel runs
    p.ran = true;
    return;
  }
  const bool guards = p.mem.guard && !p.checked;
  const bool observed = !observers_.empty();
  using clock = std::chrono::steady_clock;
  for (size_t s = 0; s < p.seq.size(); ++s) {
    Plan::Step& step = p.seq[s];
    try {
      if (step.dynamic) prepare_dynamic_step(p, s);
      if (guards) fill_guards(p, static_cast<int>(s));
      if (!observed) {
        if (!step.elided) step.kernel(step.ctx);
      } else {
        StepEvent ev{s, step.node, step.elided ? "(view)" : step.algo->name(), &step.ctx, 0.0};
        for (auto& o : observers_) o->before_step(ev);
        auto t0 = clock::now();
        if (!step.elided) step.kernel(step.ctx);
        ev.ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
        for (auto& o : observers_) o->after_step(ev);
      }
      if (guards) check_guards(p, s);
    } catch (const Error&) {
      with_context(step.node->label() + ": ", [] { throw; });
    }
  }
  p.ran = true;
  p.checked = p.checked || guards;
  if (opt_.record_level) record(p);
}

// --record-comp-seq: the plan's kernels as an array of (algo, op, bound
// context), replayed by every later run. Level 2 frees what replay does not
// read: the per-var tables of the plan, the memory plan, every other plan.
void Network::record(Plan& p) {
  LR_CHECK(!p.has_dynamic && !p.base && p.key_inputs.empty(), UnsupportedError,
           "--record-comp-seq needs static shapes, and this model has shapes decided at run time "
           "(by input values or tensor contents)");
  p.replay.reserve(p.seq.size());
  for (const Plan::Step& st : p.seq)
    if (!st.elided) p.replay.push_back({&st.kernel, &st.ctx});
  if (opt_.record_level < 2) return;
  size_t freed = p.layouts.capacity() * sizeof(Layout) + p.known.capacity() + p.dyn.capacity() +
                 p.mem.buffer_of.capacity() * sizeof(int) +
                 p.mem.buffers.capacity() * sizeof(MemRequest) +
                 p.mem.payload.capacity() * sizeof(size_t) +
                 p.mem.plan.offsets.capacity() * sizeof(size_t);
  for (const Layout& l : p.layouts) freed += l.shape.capacity() * sizeof(int64_t);
  std::vector<Layout>().swap(p.layouts);
  std::vector<char>().swap(p.known);
  std::vector<char>().swap(p.dyn);
  p.mem = ActivationPlan{};
  for (auto it = plans_.begin(); it != plans_.end();)
    it = it->second.get() == &p ? std::next(it) : plans_.erase(it);
  p.freed_bytes = freed;
}

bool Network::replaying() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return current_ && !current_->replay.empty();
}

size_t Network::freed_bytes() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return current_ ? current_->freed_bytes : 0;
}

// Guard bytes after the buffers that come to life at `step` (all of them
// when -2: at plan time), and after the workspace. A buffer's guard lies in
// bytes that other buffers may use while it is dead, so it is laid when the
// buffer is born and checked only while it lives (the sanity check).
void Network::fill_guards(Plan& p, int step) const {
  for (size_t b = 0; b < p.mem.buffers.size(); ++b)
    if (step == -2 || p.mem.buffers[b].first_use == step)
      std::memset(p.arena.get() + p.mem.plan.offsets[b] + p.mem.payload[b], kGuardByte, p.mem.guard);
  if (p.workspace && step == -2)
    std::memset(p.workspace.get() + p.workspace_bytes, kGuardByte, p.mem.guard);
}

// After step `s` of the first run: a changed guard names what was overrun.
void Network::check_guards(const Plan& p, size_t s) const {
  auto intact = [&](const uint8_t* g) {
    for (size_t i = 0; i < p.mem.guard; ++i)
      if (g[i] != kGuardByte) return false;
    return true;
  };
  const int step = static_cast<int>(s);
  for (size_t b = 0; b < p.mem.buffers.size(); ++b) {
    const MemRequest& r = p.mem.buffers[b];
    if (step < r.first_use || step > r.last_use) continue;  // dead: its guard bytes are others'
    if (intact(p.arena.get() + p.mem.plan.offsets[b] + p.mem.payload[b])) continue;
    std::string names;
    for (size_t v = 0; v < p.mem.buffer_of.size(); ++v)
      if (p.mem.buffer_of[v] == static_cast<int>(b))
        names += (names.empty() ? "'" : ", '") + graph_->vars()[v].name + "'";
    LR_THROW(InternalError, "sanity check: the kernel (", p.seq[s].algo->name(),
             ") wrote past the end of tensor ", names, " (", p.mem.payload[b], " bytes)");
  }
  if (p.workspace && !intact(p.workspace.get() + p.workspace_bytes))
    LR_THROW(InternalError, "sanity check: the kernel (", p.seq[s].algo->name(),
             ") wrote past the end of its workspace (", p.seq[s].workspace, " bytes)");
}

void Network::add_observer(std::shared_ptr<StepObserver> o) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  observers_.push_back(std::move(o));
}

void Network::remove_observer(const StepObserver* o) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  observers_.erase(std::remove_if(observers_.begin(), observers_.end(),
                                  [&](const auto& x) { return x.get() == o; }),
                   observers_.end());
}

// NaN bytes over the whole arena (inputs are copied in after it), the
// workspace and the run-time workspace: done when inputs are bound.
void Network::fill_nan(Plan& p) const {
  if (p.arena && p.arena_bytes) std::memset(p.arena.get(), 0xFF, p.arena_bytes);
  if (p.workspace) std::memset(p.workspace.get(), 0xFF, p.workspace_bytes);
  if (p.dyn_workspace) std::memset(p.dyn_workspace.get(), 0xFF, p.dyn_workspace_bytes);
  if (p.mem.guard) fill_guards(p, -2);
}

BenchResult Network::benchmark(int iters, int warmup) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  require_compiled();
  using clock = std::chrono::steady_clock;
  BenchResult r;
  auto timed = [&] {
    auto t0 = clock::now();
    execute();
    return std::chrono::duration<double, std::milli>(clock::now() - t0).count();
  };
  for (int i = 0; i < warmup; ++i) r.warmup_ms.push_back(timed());
  for (int i = 0; i < iters; ++i) r.iter_ms.push_back(timed());
  return r;
}

BenchResult Network::benchmark_values(const std::vector<Value>& feeds, int iters, int warmup) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  bind_values(feeds);
  return benchmark(iters, warmup);
}

}  // namespace loadrun
