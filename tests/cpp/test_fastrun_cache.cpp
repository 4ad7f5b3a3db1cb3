// Fast-run: the chooser's strategies and the persistent cache, on the
// test-only operator FrCopy (fastrun/test_op.h: correct copies differing only
// in speed, workspace and attributes), so that the tests do not depend on the
// real operators' algorithms.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "core/errors.h"
#include "expect.h"
#include "fastrun/algo_cache.h"
#include "fastrun/test_op.h"
#include "graph/graph.h"
#include "graph/op_registry.h"
#include "runtime/network.h"

using namespace loadrun;

namespace {

const char* kDomain = "test.fastrun";
std::string g_dir;  // this run's temporary folder

// x {-1, 8} -> FrCopy(p=params[0]) -> FrCopy(p=params[1]) ... -> y
std::shared_ptr<Graph> chain(std::vector<int> params) {
  auto g = std::make_shared<Graph>();
  g->add_input("x", DType::Float32, {-1, 8});
  std::string prev = "x";
  for (size_t i = 0; i < params.size(); ++i) {
    Attrs a;
    AttrValue v;
    v.i = params[i];
    a.set("p", v);
    std::string out = "t" + std::to_string(i);
    g->add_opr("FrCopy", kDomain, "c" + std::to_string(i), a, {prev}, {out});
    prev = out;
  }
  g->add_output(prev);
  return g;
}

struct Run {
  std::vector<StepInfo> steps;
  ChooserStats stats;
  std::vector<std::string> log;
  bool ok = true;
};

ChooserOptions opts(uint32_t strategy, const std::string& policy) {
  ChooserOptions o;
  o.strategy = strategy;
  o.algo_policy = policy;
  o.progress = false;
  o.profile.warmup = 0;
  // Best of 5: the candidates sleep 2 / 8 / 14 ms, and on a loaded machine a
  // sleep can overshoot by several ms; five tries keep the order honest.
  o.profile.runs = 5;
  return o;
}

Run run(std::vector<int> params, ChooserOptions o, int64_t batch = 2, bool wp = false) {
  NetworkOptions no;
  no.chooser = o;
  no.weight_preprocess = wp;
  Network net(chain(params), no);
  Tensor x(Layout({batch, 8}, DType::Float32));
  for (int64_t i = 0; i < x.numel(); ++i) x.ptr<float>()[i] = static_cast<float>(i) * 0.5f;
  Run r;
  auto outs = net.run({x});
  for (int64_t i = 0; i < x.numel(); ++i) r.ok = r.ok && outs[0].ptr<float>()[i] == x.ptr<float>()[i];
  r.steps = net.steps();
  r.stats = net.chooser().stats();
  r.log = net.chooser().take_log();
  return r;
}

const uint32_t kFastRun = kProfile | kOptimized;

std::string tmpdir() {
  char tmpl[] = "/tmp/lr_fastrun_XXXXXX";
  char* d = mkdtemp(tmpl);
  return d ? d : "/tmp";
}

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void spit(const std::string& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << s;
}

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

AlgoCache read(const std::string& p) {
  AlgoCache c;
  std::string why;
  auto st = c.read_file(p, &why);
  if (st != AlgoCache::ReadStatus::kOk) std::fprintf(stderr, "read %s: %s\n", p.c_str(), why.c_str());
  return c;
}

std::vector<std::string> algo_order(const AlgoCache& c) {
  std::vector<std::string> r;
  for (const auto& cat : c.categories())
    for (const auto& kv : cat.second)
      for (const auto& cand : kv.second.candidates) r.push_back(cand.algo);
  return r;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v)
    if (x == s) return true;
  return false;
}

bool log_has(const Run& r, const std::string& needle) {
  for (const auto& l : r.log)
    if (l.find(needle) != std::string::npos) return true;
  return false;
}

// Runs f with stderr going to a string.
template <class F>
std::string capture_stderr(F&& f) {
  const std::string path = g_dir + "/stderr.txt";
  std::fflush(stderr);
  int saved = dup(2);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2(fd, 2);
  ::close(fd);
  f();
  std::fflush(stderr);
  dup2(saved, 2);
  ::close(saved);
  return slurp(path);
}

CacheKey key_named(const std::string& p) {
  CacheKey k;
  k.op_type = "X";
  k.params = p;
  k.in_layouts = {"{1(1) Float32}"};
  k.out_layouts = {"{1(1) Float32}"};
  return k;
}

// -- the file format --------------------------------------------------------
void test_format() {
  AlgoCache c;
  CacheKey k = key_named(std::string("a\0b", 3));
  k.weight_preprocess = true;
  c.put("cat1", k, {{"B", 1, 0.002, 10}, {"A", 0, 0.001, 99}});
  c.put("cat1", k, {{"B", 1, 0.0005, 10}});  // a new time for B replaces the old one
  c.put("cat2", key_named("z"), {{"C", 3, 1.5, 0}});
  std::string bytes = c.serialize();
  EXPECT(bytes.compare(0, 8, "LRFASTRN") == 0);
  AlgoCache d;
  std::string why;
  EXPECT(d.parse(bytes, &why));
  EXPECT(d.size() == 2);
  const CacheEntry* e = d.find("cat1", k);
  EXPECT(e && e->candidates.size() == 2);
  EXPECT(e && e->candidates[0].algo == "B" && e->candidates[0].time_s == 0.0005);
  EXPECT(e && e->candidates[1].algo == "A" && e->candidates[1].workspace == 99);
  EXPECT(e && e->key.params == std::string("a\0b", 3) && e->key.weight_preprocess);
  EXPECT(d.serialize() == bytes);
  // A flipped payload byte, a truncation, trailing bytes, another version,
  // something else entirely: all rejected, each with its reason.
  std::string bad = bytes;
  bad[30] ^= 0x40;
  EXPECT(!d.parse(bad, &why) && why.find("checksum") != std::string::npos && d.empty());
  EXPECT(!d.parse(bytes.substr(0, bytes.size() - 3), &why) &&
         why.find("truncated") != std::string::npos);
  EXPECT(!d.parse(bytes.substr(0, 12), &why) && why.find("truncated") != std::string::npos);
  EXPECT(!d.parse(bytes + "x", &why));
  std::string v2 = bytes;
  v2[8] = 2;
  EXPECT(!d.parse(v2, &why) && why.find("version") != std::string::npos);
  EXPECT(!d.parse("{\"not\": \"a cache\"}", &why) && why.find("magic") != std::string::npos);
  EXPECT(!d.parse("", &why));
}

// -- profiling, resume, filters ---------------------------------------------
void test_heuristic_default() {
  Run r = run({1}, opts(kHeuristic, ""));
  EXPECT(r.ok);
  EXPECT(r.steps[0].algo == "FR_SLOW");
  EXPECT(r.stats.profiled == 0 && r.stats.timed_runs == 0);
  EXPECT(!r.log.empty() && r.log[0] == "Use Stragegy :HEURISTIC ");
}

void test_fast_run_and_second_run(const std::string& dir) {
  std::string file = dir + "/a.cache";
  Run r = run({1}, opts(kFastRun, file));
  EXPECT(r.ok);
  EXPECT(r.steps[0].algo == "FR_FAST");
  EXPECT(r.stats.profiled == 1 && r.stats.cache_misses == 1 && r.stats.timed_runs > 0);
  EXPECT(r.log[0] == "Use Stragegy :PROFILE OPTIMIZED ");
  EXPECT(log_has(r, "skip algo NAIVE, which matches the profile strategy required "
                    "'not contain attribute(NAIVE).'"));
  EXPECT(log_has(r, "No algo get from cache for (opr : c0{FrCopy}"));
  EXPECT(log_has(r, "profiling FrCopy algorithm FR_FAST ({2(8),8(1) Float32}) -> "
                    "({2(8),8(1) Float32}): workspace: 0; time: "));
  EXPECT(log_has(r, "FR_THROWS failed"));
  AlgoCache c = read(file);
  EXPECT(c.size() == 1);
  std::vector<std::string> order = algo_order(c);
  std::vector<std::string> want = {"FR_FAST", "FR_BIGWS", "FR_MEDIUM", "FR_SLOW"};
  EXPECT(order == want);
  for (const auto& cat : c.categories()) {
    EXPECT(cat.first == AlgoCache::this_category());
    for (const auto& kv : cat.second) {
      EXPECT(kv.second.key.op_type == "test.fastrun::FrCopy");
      EXPECT(kv.second.key.params == "p=1");
      EXPECT(kv.second.candidates[1].workspace == (64u << 20));
      EXPECT(kv.second.candidates[1].attributes == Algo::REPRODUCIBLE);
    }
  }
  // The second run with the same cache profiles nothing.
  std::string before = slurp(file);
  Run r2 = run({1}, opts(kFastRun, file));
  EXPECT(r2.steps[0].algo == "FR_FAST");
  EXPECT(r2.stats.profiled == 0 && r2.stats.timed_runs == 0 && r2.stats.cache_hits == 1);
  EXPECT(!log_has(r2, "profiling "));
  EXPECT(slurp(file) == before);
}

void test_file_created_even_with_nothing_to_profile(const std::string& dir) {
  // Relu: whatever algorithms it has, the run writes a valid cache file.
  std::string file = dir + "/relu.cache";
  auto g = std::make_shared<Graph>();
  g->add_input("x", DType::Float32, {2, 3});
  g->add_opr("Relu", "", "relu", Attrs(), {"x"}, {"y"});
  g->add_output("y");
  NetworkOptions no;
  no.chooser = opts(kFastRun, file);
  Network net(g, no);
  net.run({Tensor(Layout({2, 3}, DType::Float32))});
  EXPECT(exists(file));
  AlgoCache c;
  std::string why;
  EXPECT(c.read_file(file, &why) == AlgoCache::ReadStatus::kOk);
}

void test_resume_across_models(const std::string& dir) {
  std::string file = dir + "/resume.cache";
  Run a = run({1}, opts(kFastRun, file));
  EXPECT(a.stats.profiled == 1);
  // Another model: p=1 is known, p=2 and p=3 are new.
  Run b = run({1, 2, 3}, opts(kFastRun, file));
  EXPECT(b.stats.cache_hits == 1 && b.stats.profiled == 2);
  EXPECT(read(file).size() == 3);
  for (const auto& s : b.steps) EXPECT(s.algo == "FR_FAST");
  Run c = run({3, 2, 1}, opts(kFastRun, file));
  EXPECT(c.stats.profiled == 0 && c.stats.cache_hits == 3);
}

void test_reproducible_filter(const std::string& dir) {
  std::string file = dir + "/repro.cache";
  run({1}, opts(kFastRun, file));  // entry: FR_FAST, FR_BIGWS, FR_MEDIUM, FR_SLOW
  // The cache has a reproducible candidate: used, nothing profiled.
  Run r = run({1}, opts(kFastRun | kReproducible, file));
  EXPECT(r.steps[0].algo == "FR_BIGWS");
  EXPECT(r.stats.profiled == 0 && r.stats.cache_hits == 1);
  // binary-equal-between-batch: REPRODUCIBLE required, ACCURACY_DEPEND_ON_BATCH forbidden.
  ChooserOptions be = opts(kFastRun, file);
  be.binary_equal_between_batch = true;
  Run b = run({1}, be);
  EXPECT(b.steps[0].algo == "FR_BIGWS" && b.stats.profiled == 0);
  // An entry with nothing reproducible in it: profiled again, never an abort.
  std::string only_fast = dir + "/only_fast.cache";
  {
    AlgoCache c = read(file);
    AlgoCache d;
    for (const auto& cat : c.categories())
      for (const auto& kv : cat.second) d.put(cat.first, kv.second.key, {kv.second.candidates[0]});
    EXPECT(algo_order(d) == std::vector<std::string>{"FR_FAST"});
    d.write_file(only_fast);
  }
  Run again = run({1}, opts(kFastRun | kReproducible, only_fast));
  EXPECT(again.ok);
  EXPECT(again.steps[0].algo == "FR_BIGWS");
  EXPECT(again.stats.profiled == 1);
  EXPECT(log_has(again, "has no algorithm meeting the filters"));
  EXPECT(log_has(again, "skip algo FR_FAST, which matches the profile strategy required "
                        "'contain attribute(REPRODUCIBLE).'"));
  // The re-profiled entry keeps FR_FAST (timed before) and adds the rest.
  std::vector<std::string> order = algo_order(read(only_fast));
  EXPECT(order.size() == 4 && order[0] == "FR_FAST" && order[1] == "FR_BIGWS");
  // Heuristic + reproducible never takes FR_FAST either.
  Run h = run({1}, opts(kHeuristic | kReproducible, ""));
  EXPECT(h.steps[0].algo == "FR_SLOW");
}

void test_workspace_limit(const std::string& dir) {
  std::string file = dir + "/ws.cache";
  ChooserOptions o = opts(kFastRun | kReproducible, file);
  o.workspace_limit = 1 << 20;
  Run r = run({1}, o);
  EXPECT(r.steps[0].algo == "FR_MEDIUM");
  EXPECT(r.steps[0].workspace == 0);
  EXPECT(log_has(r, "skip algo FR_BIGWS, whose workspace 67108864 exceeds the workspace limit 1048576"));
  EXPECT(!contains(algo_order(read(file)), "FR_BIGWS"));
  // Without the limit the cached entry still serves (FR_MEDIUM is in it).
  Run r2 = run({1}, opts(kFastRun | kReproducible, file));
  EXPECT(r2.stats.profiled == 0 && r2.steps[0].algo == "FR_MEDIUM");
  // A cache with FR_BIGWS first, a run with the limit: the next candidate.
  std::string full = dir + "/ws_full.cache";
  run({1}, opts(kFastRun | kReproducible, full));
  o.algo_policy = full;
  Run r3 = run({1}, o);
  EXPECT(r3.stats.profiled == 0 && r3.steps[0].algo == "FR_MEDIUM");
  // Heuristic honours the limit as well.
  ChooserOptions h = opts(kHeuristic | kReproducible, "");
  h.workspace_limit = 1 << 20;
  EXPECT(run({1}, h).steps[0].algo == "FR_SLOW");
}

void test_full_run_includes_naive(const std::string& dir) {
  std::string file = dir + "/full.cache";
  Run r = run({1}, opts(kProfile, file));
  EXPECT(r.steps[0].algo == "FR_FAST");
  EXPECT(log_has(r, "profiling FrCopy algorithm NAIVE"));
  EXPECT(contains(algo_order(read(file)), "NAIVE"));
}

void test_shared_batch_size(const std::string& dir) {
  std::string file = dir + "/shared.cache";
  ChooserOptions o = opts(kFastRun, file);
  o.shared_batch_size = 4;
  Run r = run({1}, o, 2);
  EXPECT(r.ok);
  EXPECT(r.steps[0].algo == "FR_BIGWS");  // FR_FAST is USABLE_DEPEND_ON_SHAPE
  EXPECT(log_has(r, "profiling FrCopy algorithm FR_BIGWS ({4(8),8(1) Float32}) -> ({4(8),8(1) Float32})"));
  AlgoCache c = read(file);
  EXPECT(c.size() == 1);
  for (const auto& cat : c.categories())
    for (const auto& kv : cat.second) {
      EXPECT(kv.second.key.in_layouts == std::vector<std::string>{"{0(8),8(1) Float32}"});
      EXPECT(kv.second.key.out_layouts == std::vector<std::string>{"{0(8),8(1) Float32}"});
    }
  // One entry serves every batch.
  Run r3 = run({1}, o, 3);
  EXPECT(r3.ok && r3.stats.profiled == 0 && r3.stats.cache_hits == 1);
  EXPECT(r3.steps[0].algo == "FR_BIGWS");
  EXPECT(read(file).size() == 1);
}

void test_policy_alone(const std::string& dir) {
  std::string file = dir + "/policy.cache";
  run({1}, opts(kFastRun, file));
  std::string before = slurp(file);
  file = dir + "/policy_ro.cache";  // a copy never touched by a writer
  spit(file, before);
  // --fast-run-algo-policy FILE alone: PROFILE|HEURISTIC, cache else heuristic.
  Run r = run({1, 2}, opts(kProfile | kHeuristic, file));
  EXPECT(r.steps[0].algo == "FR_FAST");
  EXPECT(r.steps[1].algo == "FR_SLOW");
  EXPECT(r.stats.profiled == 0 && r.stats.timed_runs == 0);
  EXPECT(r.stats.cache_hits == 1 && r.stats.cache_misses == 1);
  EXPECT(log_has(r, "No algo get from cache for (opr : c1{FrCopy}"));
  EXPECT(slurp(file) == before);  // never written
  EXPECT(!exists(dir + "/policy_ro.cache.lock"));
  // With reproducible kept (the reference drops it): FR_BIGWS from the cache.
  Run rr = run({1}, opts(kProfile | kHeuristic | kReproducible, file));
  EXPECT(rr.steps[0].algo == "FR_BIGWS");
}

void test_weight_preprocess_key(const std::string& dir) {
  std::string file = dir + "/wp.cache";
  int before = fastrun_test_preprocess_calls();
  Run a = run({1}, opts(kFastRun | kReproducible, file), 2, true);
  EXPECT(a.ok && a.stats.profiled == 1);
  EXPECT(fastrun_test_preprocess_calls() > before);  // profiling ran FR_BIGWS's preprocess
  EXPECT(a.steps[0].algo == "FR_BIGWS" && a.steps[0].preprocessed);
  Run b = run({1}, opts(kFastRun | kReproducible, file), 2, false);
  EXPECT(b.stats.profiled == 1);  // another key: weight preprocess off
  AlgoCache c = read(file);
  EXPECT(c.size() == 2);
  int on = 0;
  for (const auto& cat : c.categories())
    for (const auto& kv : cat.second) on += kv.second.key.weight_preprocess;
  EXPECT(on == 1);
}

// -- bad files ----------------------------------------------------------------
void check_bad_file(const std::string& dir, const std::string& name, const std::string& content,
                    const std::string& reason) {
  std::string file = dir + "/" + name;
  spit(file, content);
  Run r;
  std::string err = capture_stderr([&] { r = run({1}, opts(kFastRun, file)); });
  EXPECT(r.ok && r.steps[0].algo == "FR_FAST");
  EXPECT(r.stats.profiled == 1);
  int lines = 0;
  for (char ch : err) lines += ch == '\n';
  EXPECT(lines == 1);
  EXPECT(err.find("loadrun: warning: fast-run cache " + file) != std::string::npos);
  EXPECT(err.find(reason) != std::string::npos);
  EXPECT(err.find("treated as empty") != std::string::npos);
  if (lines != 1 || err.find(reason) == std::string::npos) std::fprintf(stderr, "stderr was: %s", err.c_str());
  // Backed up before being overwritten; the new file is a valid cache.
  EXPECT(exists(file + ".bad") && slurp(file + ".bad") == content);
  EXPECT(read(file).size() == 1);
}

void test_bad_files(const std::string& dir) {
  std::string good;
  {
    std::string f = dir + "/good.cache";
    run({7}, opts(kFastRun, f));
    good = slurp(f);
  }
  check_bad_file(dir, "foreign.cache", "P6\n2 2\n255\nxxxxxxxxxxxx", "magic");
  check_bad_file(dir, "truncated.cache", good.substr(0, good.size() / 2), "truncated");
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x01;
  check_bad_file(dir, "corrupt.cache", flipped, "checksum");
  check_bad_file(dir, "empty.cache", "", "magic");
  // A second backup does not overwrite the first.
  std::string file = dir + "/foreign.cache";
  spit(file, "again");
  capture_stderr([&] { run({1}, opts(kFastRun, file)); });
  EXPECT(slurp(file + ".bad.1") == "again");
  // The policy file alone (read-only use): warned, used as empty, left alone.
  std::string ro = dir + "/ro.cache";
  spit(ro, "garbage");
  Run r;
  std::string err = capture_stderr([&] { r = run({1}, opts(kProfile | kHeuristic, ro)); });
  EXPECT(err.find("treated as empty") != std::string::npos);
  EXPECT(r.steps[0].algo == "FR_SLOW");
  EXPECT(slurp(ro) == "garbage" && !exists(ro + ".bad"));
}

// -- two processes sharing one file ----------------------------------------------
void test_concurrent_writers(const std::string& dir) {
  std::string file = dir + "/shared_writers.cache";
  const int kPer = 15;
  pid_t kids[2];
  for (int k = 0; k < 2; ++k) {
    kids[k] = fork();
    if (kids[k] == 0) {
      // Each process adds its own keys one by one, saving after each.
      AlgoCache c;
      for (int i = 0; i < kPer; ++i) {
        c.put("cat", key_named("w" + std::to_string(k) + "-" + std::to_string(i)),
              {{"A", 0, 0.001 * (i + 1), 0}});
        c.save(file);
      }
      // And a real profiling run through a Network.
      Run r = run({100 + k}, opts(kFastRun, file));
      _exit(r.ok && r.stats.profiled == 1 ? 0 : 3);
    }
  }
  for (pid_t kid : kids) {
    int status = 0;
    waitpid(kid, &status, 0);
    EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  AlgoCache c = read(file);
  EXPECT(c.size() == 2 * kPer + 2);
  for (int k = 0; k < 2; ++k)
    for (int i = 0; i < kPer; ++i)
      EXPECT(c.find("cat", key_named("w" + std::to_string(k) + "-" + std::to_string(i))));
  // No temp files left behind.
  EXPECT(!exists(file + ".tmp." + std::to_string(kids[0])));
  EXPECT(!exists(file + ".tmp." + std::to_string(kids[1])));
  // Both profiled entries are there: a third run profiles nothing.
  Run r = run({100, 101}, opts(kFastRun, file));
  EXPECT(r.stats.profiled == 0 && r.stats.cache_hits == 2);
}

void test_merge_files(const std::string& dir) {
  std::string a = dir + "/m_a.cache", b = dir + "/m_b.cache", out = dir + "/m_out.cache";
  run({1}, opts(kFastRun, a));
  run({2}, opts(kFastRun, b));
  AlgoCache m = merge_cache_files({a, b}, out);
  EXPECT(m.size() == 2 && read(out).size() == 2);
  spit(dir + "/m_bad.cache", "nope");
  bool threw = false;
  try {
    merge_cache_files({a, dir + "/m_bad.cache"}, out);
  } catch (const InputError& e) {
    threw = std::string(e.what()).find("magic") != std::string::npos;
  }
  EXPECT(threw);
  EXPECT(read(out).size() == 2);  // untouched by the failed merge
}

}  // namespace

int main() {
  register_fastrun_test_op();
  std::string dir = g_dir = tmpdir();
  test_format();
  test_heuristic_default();
  test_fast_run_and_second_run(dir);
  test_file_created_even_with_nothing_to_profile(dir);
  test_resume_across_models(dir);
  test_reproducible_filter(dir);
  test_workspace_limit(dir);
  test_full_run_includes_naive(dir);
  test_shared_batch_size(dir);
  test_policy_alone(dir);
  test_weight_preprocess_key(dir);
  test_bad_files(dir);
  test_concurrent_writers(dir);
  test_merge_files(dir);
  std::string cleanup = "rm -rf '" + dir + "'";
  if (g_failures == 0 && std::system(cleanup.c_str()) != 0) std::fprintf(stderr, "cleanup failed\n");
  return expect_exit("all fast-run tests passed");
}
