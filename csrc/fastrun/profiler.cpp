#include "fastrun/profiler.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>

namespace loadrun {

namespace {

void fill_random(Tensor& t, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  int64_t n = t.numel();
  switch (t.dtype()) {
    case DType::Float32: {
      float* p = t.ptr<float>();
      for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(u(rng));
      break;
    }
    case DType::Float64: {
      double* p = t.ptr<double>();
      for (int64_t i = 0; i < n; ++i) p[i] = u(rng);
      break;
    }
    default:  // integers, bools, float16 storage: zeros (Tensor() zero-fills)
      break;
  }
}

}  // namespace

OprProfiler::OprProfiler(const Op& op, const InLayouts& in, const OutLayouts& out,
                         const std::vector<const Tensor*>& values, CompNode* comp_node)
    : op_(op), in_layouts_(in), out_layouts_(out), values_(values),
      cn_(comp_node ? comp_node : &cpu_) {
  values_.resize(in.size(), nullptr);
  std::mt19937 rng(20240917u);
  owned_in_.resize(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (!in[i]) {
      in_ptrs_.push_back(nullptr);
    } else if (values_[i] && values_[i]->layout().same_shape_dtype(*in[i])) {
      in_ptrs_.push_back(values_[i]);
    } else {
      values_[i] = nullptr;
      owned_in_[i] = Tensor(*in[i]);
      fill_random(owned_in_[i], rng);
      in_ptrs_.push_back(&owned_in_[i]);
    }
  }
  for (const Layout& l : out) outs_.emplace_back(l);
}

double OprProfiler::time(const Algo& algo, bool weight_preprocess, const ProfileConfig& cfg,
                         size_t* timed_runs) {
  using clock = std::chrono::steady_clock;
  Prepared prepared;
  if (weight_preprocess) prepared = algo.preprocess(op_, in_layouts_, values_);
  KernCtx ctx;
  ctx.in = in_ptrs_;
  for (Tensor& t : outs_) ctx.out.push_back(&t);
  ctx.comp_node = cn_;
  ctx.prepared = prepared.data.get();
  size_t ws = algo.workspace(op_, in_layouts_, out_layouts_);
  size_t shared = algo.shared_workspace(op_, in_layouts_, out_layouts_, bool(prepared));
  std::shared_ptr<uint8_t> wsbuf, sharedbuf;
  if (ws) {
    wsbuf = alloc_aligned(workspace_total(ws, cn_->num_threads()));
    ctx.workspace = wsbuf.get();
    ctx.workspace_size = ws;
    ctx.workspace_stride = workspace_stride(ws);
  }
  if (shared) {
    sharedbuf = alloc_aligned(shared);
    ctx.shared_workspace = sharedbuf.get();
  }
  for (int i = 0; i < cfg.warmup; ++i) algo.exec(op_, ctx);
  double best = 1e300, spent = 0;
  int n = 0;
  for (; n < std::max(cfg.runs, 1); ++n) {
    if (n > 0 && spent >= cfg.budget_s) break;
    auto t0 = clock::now();
    algo.exec(op_, ctx);
    double s = std::chrono::duration<double>(clock::now() - t0).count();
    best = std::min(best, s);
    spent += s;
  }
  if (timed_runs) *timed_runs += static_cast<size_t>(n);
  return best;
}

ProgressBar::ProgressBar(bool enabled) : on_(enabled && ::isatty(STDERR_FILENO)) {}

ProgressBar::~ProgressBar() { clear(); }

void ProgressBar::show(const std::string& what, size_t done, size_t total) {
  if (!on_) return;
  const int width = 24;
  int fill = total ? static_cast<int>(width * done / total) : width;
  std::string bar(static_cast<size_t>(fill), '#');
  bar.resize(width, '.');
  std::string label = what.size() > 40 ? what.substr(0, 37) + "..." : what;
  std::fprintf(stderr, "\r\033[Kfast-run: profiling [%s] %zu/%zu %s", bar.c_str(), done, total,
               label.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::clear() {
  if (!on_ || !drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace loadrun
