// lr_run: the core used alone, from C++, with no Python.
//
// Built-in mode (no --model): builds a small image classifier through the
// graph API (Conv 3x3 + Relu, depthwise Conv 3x3 stride 2 + Relu6, Conv 1x1,
// GlobalAveragePool, Flatten, Gemm, Softmax; seeded random weights),
// compiles it, runs it with the default (fast) algorithms and again with
// every operator on its NAIVE algorithm, and checks that the two agree and
// that each softmax row sums to 1. Prints the ISA level, the steps with
// their algorithms, and the run times.
//
// Model mode (--model FILE.lrm, written by `loadrun convert`): reads the
// model in C++ (graph/lrm.h), feeds each --input NAME=FILE (raw float32
// .bin, its shape from the model with a symbolic leading dim taken from the
// file size, or .npy of any numeric dtype), runs it, and compares each
// --check-output NAME=FILE with the output as numpy.allclose does:
// |out - ref| <= atol + rtol * |ref| everywhere (NaN only against NaN).
// Inputs not given are zeros. The aarch64 CI step runs the zoo models this
// way under qemu against the x86 outputs.
//
// Exit status 0 when every check passes, 1 otherwise (a failed check, a
// bad model or input file), 2 for bad arguments. Built with the core when
// LOADRUN_PYTHON is OFF (the aarch64 cross build runs it under qemu).
//
//   lr_run [--batch N] [--size HW] [--channels C] [--iters N] [--warmup N]
//   lr_run --model FILE.lrm [--input NAME=FILE]... [--check-output NAME=FILE]...
//          [--rtol R] [--atol A] [--iters N (0: no timing)] [--warmup N]
//          [--layout nchw44|nchw88 (the conv trunk channel-blocked)]
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "graph/graph.h"
#include "graph/lrm.h"
#include "tools/lr_run_files.h"
#include "kernels/isa.h"
#include "runtime/network.h"

using namespace loadrun;

namespace {

struct Args {
  int64_t batch = 2, size = 32, channels = 16;
  int iters = 3, warmup = 1;
  std::string model;
  std::vector<std::pair<std::string, std::string>> inputs, checks;  // NAME=FILE
  double rtol = 1e-4, atol = 1e-4;
  std::string layout;  // --layout nchw44|nchw88 (NetworkOptions::layout)
};

// "NAME=FILE" split at the last '='.
bool name_file(const char* arg, std::vector<std::pair<std::string, std::string>>* out) {
  std::string a = arg;
  size_t eq = a.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == a.size()) return false;
  out->emplace_back(a.substr(0, eq), a.substr(eq + 1));
  return true;
}

uint32_t g_seed = 12345;
float rnd() {
  g_seed = g_seed * 1664525u + 1013904223u;
  return static_cast<float>(g_seed >> 8) / 16777216.f * 2.f - 1.f;
}

Tensor random_tensor(const Shape& shape, float scale) {
  Tensor t(Layout(shape, DType::Float32));
  for (int64_t i = 0; i < t.numel(); ++i) t.ptr<float>()[i] = scale * rnd();
  return t;
}

AttrValue ints(std::vector<int64_t> v) {
  AttrValue a;
  a.kind = AttrValue::kInts;
  a.ints = std::move(v);
  return a;
}
AttrValue integer(int64_t v) {
  AttrValue a;
  a.kind = AttrValue::kInt;
  a.i = v;
  return a;
}
AttrValue real(double v) {
  AttrValue a;
  a.kind = AttrValue::kFloat;
  a.f = v;
  return a;
}

// x [N, 3, H, W] -> probabilities [N, 10].
std::shared_ptr<Graph> build_classifier(int64_t c) {
  auto g = std::make_shared<Graph>();
  g->add_input("x", DType::Float32, {-1, 3, -1, -1});
  const float s3 = 1.f / std::sqrt(27.f), sc = 1.f / std::sqrt(float(c));
  g->add_const("w1", random_tensor({c, 3, 3, 3}, s3));
  g->add_const("b1", random_tensor({c}, 0.1f));
  g->add_const("w2", random_tensor({c, 1, 3, 3}, 1.f / 3.f));
  g->add_const("b2", random_tensor({c}, 0.1f));
  g->add_const("w3", random_tensor({2 * c, c, 1, 1}, sc));
  g->add_const("b3", random_tensor({2 * c}, 0.1f));
  g->add_const("wf", random_tensor({10, 2 * c}, sc));
  g->add_const("bf", random_tensor({10}, 0.1f));
  Attrs same3;
  same3.set("pads", ints({1, 1, 1, 1}));
  g->add_opr("Conv", "", "conv1", same3, {"x", "w1", "b1"}, {"c1"});
  g->add_opr("Relu", "", "relu1", Attrs(), {"c1"}, {"r1"});
  Attrs dw = same3;
  dw.set("strides", ints({2, 2}));
  dw.set("group", integer(c));
  g->add_opr("Conv", "", "dw2", dw, {"r1", "w2", "b2"}, {"c2"});
  Attrs clip;
  Tensor lo(Layout({}, DType::Float32)), hi(Layout({}, DType::Float32));
  lo.ptr<float>()[0] = 0.f;
  hi.ptr<float>()[0] = 6.f;
  g->add_const("lo", lo);
  g->add_const("hi", hi);
  g->add_opr("Clip", "", "relu6", clip, {"c2", "lo", "hi"}, {"r2"});
  g->add_opr("Conv", "", "pw3", Attrs(), {"r2", "w3", "b3"}, {"c3"});
  g->add_opr("GlobalAveragePool", "", "gap", Attrs(), {"c3"}, {"p"});
  g->add_opr("Flatten", "", "flat", Attrs(), {"p"}, {"f"});
  Attrs gemm;
  gemm.set("transB", integer(1));
  gemm.set("alpha", real(1.0));
  g->add_opr("Gemm", "", "fc", gemm, {"f", "wf", "bf"}, {"logits"});
  Attrs sm;
  sm.set("axis", integer(1));
  g->add_opr("Softmax", "", "softmax", sm, {"logits"}, {"prob"});
  g->add_output("prob");
  return g;
}

bool parse(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    auto value = [&](int64_t lo) -> int64_t {
      if (i + 1 >= argc) return -1;
      char* end = nullptr;
      long long v = std::strtoll(argv[++i], &end, 10);
      return (*end || v < lo) ? -1 : v;
    };
    auto text = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    auto real_value = [&](double* out) {
      const char* t = text();
      if (!t) return false;
      char* end = nullptr;
      double v = std::strtod(t, &end);
      if (*end || !(v >= 0)) return false;
      *out = v;
      return true;
    };
    int64_t v;
    const char* t;
    if (!std::strcmp(argv[i], "--model") && (t = text())) a->model = t;
    else if (!std::strcmp(argv[i], "--layout") && (t = text())) a->layout = t;
    else if (!std::strcmp(argv[i], "--input") && (t = text()) && name_file(t, &a->inputs)) continue;
    else if (!std::strcmp(argv[i], "--check-output") && (t = text()) && name_file(t, &a->checks)) continue;
    else if (!std::strcmp(argv[i], "--rtol") && real_value(&a->rtol)) continue;
    else if (!std::strcmp(argv[i], "--atol") && real_value(&a->atol)) continue;
    else if (!std::strcmp(argv[i], "--batch") && (v = value(1)) > 0) a->batch = v;
    else if (!std::strcmp(argv[i], "--size") && (v = value(4)) > 0) a->size = v;
    else if (!std::strcmp(argv[i], "--channels") && (v = value(1)) > 0) a->channels = v;
    else if (!std::strcmp(argv[i], "--iters") && (v = value(0)) >= 0) a->iters = int(v);
    else if (!std::strcmp(argv[i], "--warmup") && (v = value(0)) >= 0) a->warmup = int(v);
    else {
      std::fprintf(stderr, "lr_run: bad argument '%s'\nusage: lr_run [--batch N] [--size HW] "
                           "[--channels C] [--iters N] [--warmup N]\n       lr_run --model FILE.lrm "
                           "[--input NAME=FILE]... [--check-output NAME=FILE]... [--rtol R] "
                           "[--atol A] [--iters N] [--warmup N] [--layout nchw44|nchw88]\n", argv[i]);
      return false;
    }
  }
  if (a->model.empty() && a->iters == 0) {
    std::fprintf(stderr, "lr_run: --iters 0 is for --model (the built-in check times >= 1 run)\n");
    return false;
  }
  if (a->model.empty() && (!a->inputs.empty() || !a->checks.empty())) {
    std::fprintf(stderr, "lr_run: --input and --check-output need --model\n");
    return false;
  }
  return true;
}

int run(const Args& a) {
  std::shared_ptr<Graph> g = build_classifier(a.channels);
  Tensor x = random_tensor({a.batch, 3, a.size, a.size}, 1.f);
  std::printf("lr_run: isa level %s; input [%lld, 3, %lld, %lld]\n", isa_level_name(),
              (long long)a.batch, (long long)a.size, (long long)a.size);

  Network net(g);
  auto t0 = std::chrono::steady_clock::now();
  net.compile({x.shape()});
  double compile_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  for (const StepInfo& s : net.steps()) std::printf("  step %-28s %s\n", s.opr.c_str(), s.algo.c_str());
  std::vector<Tensor> out = net.run({x});

  NetworkOptions naive_opt;
  naive_opt.chooser.prefer_algo = "NAIVE";
  Network naive(g, naive_opt);
  std::vector<Tensor> ref = naive.run({x});

  int failures = 0;
  const Tensor& p = out.at(0);
  if (p.shape() != Shape{a.batch, 10}) {
    std::fprintf(stderr, "FAIL: output shape %s, want [%lld, 10]\n", p.layout().str().c_str(),
                 (long long)a.batch);
    return 1;
  }
  double max_err = 0;
  for (int64_t n = 0; n < a.batch; ++n) {
    double sum = 0;
    int best = 0;
    for (int j = 0; j < 10; ++j) {
      const float v = p.ptr<float>()[n * 10 + j], r = ref[0].ptr<float>()[n * 10 + j];
      sum += v;
      if (v > p.ptr<float>()[n * 10 + best]) best = j;
      double e = std::fabs(double(v) - double(r));
      if (!(e <= max_err)) max_err = e;  // NaN propagates
    }
    std::printf("  sample %lld: class %d (p = %.4f), row sum %.6f\n", (long long)n, best,
                p.ptr<float>()[n * 10 + best], sum);
    if (!(std::fabs(sum - 1.0) < 1e-5)) {
      std::fprintf(stderr, "FAIL: softmax row %lld sums to %.7f\n", (long long)n, sum);
      ++failures;
    }
  }
  std::printf("  max |fast - NAIVE| = %.3g\n", max_err);
  if (!(max_err < 1e-5)) {
    std::fprintf(stderr, "FAIL: fast and NAIVE algorithms differ by %.3g\n", max_err);
    ++failures;
  }

  BenchResult b = net.benchmark(a.iters, a.warmup);
  double best = 1e300, total = 0;
  for (double ms : b.iter_ms) {
    best = std::fmin(best, ms);
    total += ms;
  }
  std::printf("  compile %.3f ms; run: %d iters, mean %.3f ms, min %.3f ms\n", compile_ms,
              a.iters, total / a.iters, best);
  std::printf(failures ? "lr_run: FAILED\n" : "lr_run: ok\n");
  return failures ? 1 : 0;
}

int run_model(const Args& a) {
  auto t0 = std::chrono::steady_clock::now();
  LrmModel m = read_lrm_file(a.model);
  double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const Graph& g = *m.graph;
  std::printf("lr_run: isa level %s; model %s: %zu nodes, read in %.1f ms\n", isa_level_name(),
              a.model.c_str(), g.oprs().size(), load_ms);
  std::vector<Tensor> feeds;
  for (int id : g.inputs()) {
    const Var& v = g.vars()[id];
    Tensor t;
    for (const auto& in : a.inputs)
      if (in.first == v.name) t = read_tensor_file(in.second, v.name, v.dtype, v.shape);
    if (t.empty()) {
      Shape s = v.shape;
      for (auto& d : s) d = d < 0 ? 1 : d;
      t = Tensor(Layout(s, v.dtype));
      std::printf("  input %s: zeros %s\n", v.name.c_str(), t.layout().str().c_str());
    } else {
      std::printf("  input %s: %s\n", v.name.c_str(), t.layout().str().c_str());
    }
    feeds.push_back(std::move(t));
  }
  for (const auto& in : a.inputs)
    if (g.find_var(in.first) < 0 || !g.vars()[g.find_var(in.first)].is_input)
      LR_THROW(InputError, "--input ", in.first, ": the model has no input of that name");
  NetworkOptions opt;
  opt.layout = a.layout;
  Network net(m.graph, opt);
  if (!a.layout.empty()) std::printf("  layout %s\n", a.layout.c_str());
  t0 = std::chrono::steady_clock::now();
  std::vector<Tensor> out = net.run(feeds);
  double first_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  int failures = 0;
  for (const auto& c : a.checks) {
    size_t k = 0;
    while (k < g.outputs().size() && g.vars()[g.outputs()[k]].name != c.first) ++k;
    if (k == g.outputs().size())
      LR_THROW(InputError, "--check-output ", c.first, ": the model has no output of that name");
    const Tensor& o = out.at(k);
    Tensor ref = read_tensor_file(c.second, c.first, o.dtype(), o.shape());
    Comparison r = compare_close(o, ref, a.rtol, a.atol);
    std::printf("  output %s %s: max |diff| %.3g, max |diff|/|ref| %.3g, %lld of %lld outside "
                "rtol %g atol %g\n", c.first.c_str(), o.layout().str().c_str(), r.max_abs,
                r.max_rel, (long long)r.bad, (long long)o.numel(), a.rtol, a.atol);
    if (r.bad) {
      std::fprintf(stderr, "FAIL: output %s differs from %s: %s\n", c.first.c_str(),
                   c.second.c_str(), r.first_bad.c_str());
      ++failures;
    }
  }
  std::printf("  first run %.3f ms\n", first_ms);
  if (a.iters > 0) {  // --iters 0: the checked run only (CI under qemu)
    BenchResult b = net.benchmark(a.iters, a.warmup);
    double best = 1e300, total = 0;
    for (double ms : b.iter_ms) {
      best = std::fmin(best, ms);
      total += ms;
    }
    std::printf("  run: %d iters, mean %.3f ms, min %.3f ms\n", a.iters, total / a.iters, best);
  }
  std::printf(failures ? "lr_run: FAILED\n" : "lr_run: ok\n");
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse(argc, argv, &a)) return 2;
  try {
    return a.model.empty() ? run(a) : run_model(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lr_run: %s\n", e.what());
    return 1;
  }
}
