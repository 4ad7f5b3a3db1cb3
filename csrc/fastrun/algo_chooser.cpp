#include "fastrun/algo_chooser.h"

#include <cstdio>

#include "core/errors.h"
#include "graph/op_registry.h"
#include "runtime/comp_node.h"

namespace loadrun {

namespace {

const char* kAttrNames[] = {"REPRODUCIBLE", "NAIVE", "USABLE_DEPEND_ON_SHAPE",
                            "ACCURACY_DEPEND_ON_BATCH"};
const char* kStrategyNames[] = {"HEURISTIC", "PROFILE", "REPRODUCIBLE", "OPTIMIZED"};

std::string attr_names(uint32_t bits) {
  std::string r;
  for (int i = 0; i < 4; ++i) {
    if (!(bits & (1u << i))) continue;
    if (!r.empty()) r += "|";
    r += kAttrNames[i];
  }
  return r;
}

std::string join_layouts(const InLayouts& in) {
  std::string r;
  for (size_t i = 0; i < in.size(); ++i) {
    if (i) r += ", ";
    r += in[i] ? in[i]->str() : "{}";
  }
  return r;
}

std::string join_layouts(const OutLayouts& out) {
  std::string r;
  for (size_t i = 0; i < out.size(); ++i) {
    if (i) r += ", ";
    r += out[i].str();
  }
  return r;
}

void warn(const std::string& msg) {
  std::fprintf(stderr, "loadrun: warning: %s\n", msg.c_str());
  std::fflush(stderr);
}

Layout with_batch(const Layout& l, int64_t b) {
  Shape s = l.shape;
  s[0] = b;
  return Layout(s, l.dtype);
}

}  // namespace

std::string strategy_names(uint32_t strategy) {
  std::string r;
  for (int i = 0; i < 4; ++i)
    if (strategy & (1u << i)) r += std::string(kStrategyNames[i]) + " ";
  return r;
}

uint32_t ChooserOptions::required_attrs() const {
  uint32_t r = 0;
  if ((strategy & kReproducible) || binary_equal_between_batch) r |= Algo::REPRODUCIBLE;
  return r;
}

uint32_t ChooserOptions::forbidden_attrs() const {
  uint32_t f = 0;
  if (strategy & kOptimized) f |= Algo::NAIVE;
  if (shared_batch_size > 0) f |= Algo::USABLE_DEPEND_ON_SHAPE;
  if (binary_equal_between_batch) f |= Algo::ACCURACY_DEPEND_ON_BATCH;
  return f;
}

AlgoChooser::AlgoChooser(ChooserOptions opt) : opt_(std::move(opt)) {
  log("Use Stragegy :" + strategy_names(opt_.strategy));
  if (opt_.algo_policy.empty()) return;
  // Read the file now: its warning comes before anything runs, and a
  // profiling run leaves a (possibly empty) cache file even when no opr has
  // two candidates, so a later "--fast-run-algo-policy FILE" alone finds it.
  if (!ensure_loaded() && may_profile()) persist();
}

AlgoChooser::~AlgoChooser() = default;

void AlgoChooser::log(std::string line) { log_.push_back(std::move(line)); }

std::vector<std::string> AlgoChooser::take_log() {
  std::vector<std::string> r;
  r.swap(log_);
  return r;
}

std::string AlgoChooser::attr_mismatch(const Algo& algo) const {
  uint32_t a = algo.attributes();
  uint32_t missing = opt_.required_attrs() & ~a;
  if (missing) return "contain attribute(" + attr_names(missing) + ").";
  uint32_t bad = opt_.forbidden_attrs() & a;
  if (bad) return "not contain attribute(" + attr_names(bad) + ").";
  return {};
}

bool AlgoChooser::passes_filters(const Algo& algo, const OprNode& node, const InLayouts& in,
                                 const OutLayouts& out) const {
  uint32_t a = algo.attributes();
  if ((a & opt_.required_attrs()) != opt_.required_attrs()) return false;
  if (a & opt_.forbidden_attrs()) return false;
  if (!algo.usable(*node.op, in, out)) return false;
  return algo.workspace(*node.op, in, out) +
             algo.shared_workspace(*node.op, in, out, opt_.weight_preprocess) <=
         opt_.workspace_limit;
}

const Algo* AlgoChooser::heuristic(const OprNode& node, const InLayouts& in,
                                   const OutLayouts& out) const {
  const Algo* naive = nullptr;
  const Algo* usable = nullptr;  // first usable fast algo, preferred or not
  for (const Algo* algo : node.def->algos) {
    if (algo->is_naive()) {
      // The reference is the fallback of the heuristic, whatever OPTIMIZED says:
      // an op with nothing faster must still run.
      if (!naive && algo->usable(*node.op, in, out)) naive = algo;
      continue;
    }
    if (passes_filters(*algo, node, in, out)) {
      bool slow = (algo->attributes() & Algo::WANTS_WEIGHT_PREPROCESS) && !opt_.weight_preprocess;
      if (!slow && algo->preferred(*node.op, in, out)) return algo;
      if (!usable) usable = algo;
    }
  }
  if (usable) return usable;
  LR_CHECK(naive, UnsupportedError, node.label(), ": no algorithm can run these layouts");
  return naive;
}

const Algo* AlgoChooser::from_entry(const CacheEntry& e, const OprNode& node,
                                    const InLayouts& in, const OutLayouts& out) const {
  for (const CacheCandidate& c : e.candidates) {
    for (const Algo* algo : node.def->algos) {
      if (c.algo == algo->name() && passes_filters(*algo, node, in, out)) return algo;
    }
  }
  return nullptr;
}

bool AlgoChooser::ensure_loaded() {
  if (loaded_) return true;
  loaded_ = true;
  category_ = AlgoCache::this_category(opt_.comp_node ? opt_.comp_node->num_threads() : 1);
  if (opt_.algo_policy.empty()) return true;
  std::string why, backup;
  auto st = cache_.load(opt_.algo_policy, may_profile(), &why, &backup);
  if (st == AlgoCache::ReadStatus::kInvalid) {
    std::string msg = "fast-run cache " + opt_.algo_policy + ": " + why + "; treated as empty";
    if (!backup.empty()) msg += " (the file was moved to " + backup + ")";
    warn(msg);
  } else if (st == AlgoCache::ReadStatus::kMissing) {
    log("fast-run cache " + opt_.algo_policy + " does not exist yet; starting empty");
  } else {
    log("fast-run cache " + opt_.algo_policy + ": " + std::to_string(cache_.size()) +
        " entries loaded");
  }
  return st == AlgoCache::ReadStatus::kOk;
}

void AlgoChooser::persist() {
  if (opt_.algo_policy.empty() || save_failed_) return;
  std::string why, backup;
  try {
    cache_.save(opt_.algo_policy, &why, &backup);
  } catch (const Error& e) {
    save_failed_ = true;
    warn(std::string(e.what()) + "; the cache is kept in memory only");
    return;
  }
  if (!why.empty()) {
    std::string msg = "fast-run cache " + opt_.algo_policy + ": " + why;
    msg += backup.empty() ? "; overwritten" : "; moved to " + backup + " and rewritten";
    warn(msg);
  }
}

const Algo* AlgoChooser::choose(const OprNode& node, const InLayouts& in, const OutLayouts& out,
                                const std::vector<const Tensor*>& values) {
  if (!opt_.prefer_algo.empty()) {
    for (const Algo* algo : node.def->algos)
      if (opt_.prefer_algo == algo->name() && algo->usable(*node.op, in, out)) return algo;
  }
  if (!(opt_.strategy & kProfile)) return heuristic(node, in, out);
  size_t usable = 0;
  for (const Algo* algo : node.def->algos) usable += passes_filters(*algo, node, in, out);
  if (usable < 2) return heuristic(node, in, out);  // nothing to choose between

  ensure_loaded();
  auto value = [&](size_t i) { return i < values.size() ? values[i] : nullptr; };
  CacheKey key;
  key.op_type = node.def->domain.empty() ? node.def->type : node.def->domain + "::" + node.def->type;
  key.params = node.op->param_key();
  key.weight_preprocess = opt_.weight_preprocess;
  for (const Layout* l : in) key.in_layouts.push_back(l ? l->str() : "{}");
  for (const Layout& l : out) key.out_layouts.push_back(l.str());

  // --fast-run-shared-batch-size B: time at batch B, key at batch 0, so one
  // entry serves every batch. The batch is dim 0 of input 0 (a run-time
  // input); run-time inputs and outputs with that dim 0 take B. Ops whose
  // shape inference rejects the change are keyed and timed as they are.
  InLayouts pin = in;
  OutLayouts pout = out;
  std::vector<Layout> pin_store(in.size());
  if (opt_.shared_batch_size > 0 && !in.empty() && in[0] && in[0]->ndim() >= 1 && !value(0)) {
    int64_t batch = in[0]->shape[0], b = opt_.shared_batch_size;
    CacheKey k = key;
    for (size_t i = 0; i < in.size(); ++i) {
      if (!in[i] || value(i) || in[i]->ndim() == 0 || in[i]->shape[0] != batch) continue;
      pin_store[i] = with_batch(*in[i], b);
      pin[i] = &pin_store[i];
      k.in_layouts[i] = with_batch(*in[i], 0).str();
    }
    InferCtx ic;
    ic.in = pin;
    for (size_t i = 0; i < in.size(); ++i) ic.values.push_back(value(i));
    ic.out.assign(out.size(), Layout(Shape{-1}, DType::Float32));
    bool ok = true;
    try {
      node.op->infer(ic);
    } catch (const std::exception&) {
      ok = false;
    }
    if (ok) {
      pout = ic.out;
      for (size_t o = 0; o < out.size(); ++o)
        if (out[o].ndim() >= 1 && out[o].shape[0] == batch) k.out_layouts[o] = with_batch(out[o], 0).str();
      key = k;
    } else {
      pin = in;
    }
  }

  if (const CacheEntry* e = cache_.find(category_, key)) {
    if (const Algo* algo = from_entry(*e, node, in, out)) {
      ++stats_.cache_hits;
      return algo;
    }
    log("cached entry for " + node.label() +
        " has no algorithm meeting the filters (reproducible, attributes, workspace limit); " +
        (may_profile() ? "profiling it again" : "using the heuristic"));
  } else {
    log("No algo get from cache for (opr : " + node.label() + ", layouts: (" + join_layouts(in) +
        ") -> (" + join_layouts(out) + "))" +
        (may_profile() ? "; profiling" : "; using the heuristic"));
  }
  ++stats_.cache_misses;
  if (!may_profile()) return heuristic(node, in, out);
  return profile(node, key, in, out, pin, pout, values);
}

const Algo* AlgoChooser::profile(const OprNode& node, const CacheKey& key, const InLayouts& in,
                                 const OutLayouts& out, const InLayouts& pin,
                                 const OutLayouts& pout, const std::vector<const Tensor*>& values) {
  std::vector<const Algo*> cands;
  for (const Algo* algo : node.def->algos) {
    std::string why = attr_mismatch(*algo);
    if (!why.empty()) {
      log(str_cat("skip algo ", algo->name(), ", which matches the profile strategy required '",
                  why, "'"));
      continue;
    }
    if (!algo->usable(*node.op, pin, pout) || !algo->usable(*node.op, in, out)) continue;
    size_t ws = algo->workspace(*node.op, pin, pout);
    if (ws > opt_.workspace_limit) {
      log(str_cat("skip algo ", algo->name(), ", whose workspace ", ws,
                  " exceeds the workspace limit ", opt_.workspace_limit));
      continue;
    }
    cands.push_back(algo);
  }
  ++opr_count_;
  std::vector<CacheCandidate> results;
  {
    OprProfiler prof(*node.op, pin, pout, values, opt_.comp_node);
    ProgressBar bar(opt_.progress);
    std::string what = "opr " + std::to_string(opr_count_) + " " + node.label();
    for (size_t i = 0; i < cands.size(); ++i) {
      const Algo* algo = cands[i];
      bar.show(what + " " + algo->name(), i, cands.size());
      double t;
      try {
        t = prof.time(*algo, opt_.weight_preprocess, opt_.profile, &stats_.timed_runs);
      } catch (const std::exception& e) {
        log(str_cat("profiling ", node.def->type, " algorithm ", algo->name(), " failed: ",
                    e.what()));
        continue;
      }
      size_t ws = algo->workspace(*node.op, pin, pout);
      char tbuf[32];
      std::snprintf(tbuf, sizeof tbuf, "%.6g", t);
      log(str_cat("profiling ", node.def->type, " algorithm ", algo->name(), " (",
                  join_layouts(pin), ") -> (", join_layouts(pout), "): workspace: ", ws,
                  "; time: ", tbuf, "sec"));
      results.push_back({algo->name(), algo->attributes(), t, static_cast<uint64_t>(ws)});
    }
  }
  ++stats_.profiled;
  if (results.empty()) return heuristic(node, in, out);
  cache_.put(category_, key, results);
  persist();
  const CacheEntry* e = cache_.find(category_, key);
  const Algo* algo = e ? from_entry(*e, node, in, out) : nullptr;
  return algo ? algo : heuristic(node, in, out);
}

}  // namespace loadrun
