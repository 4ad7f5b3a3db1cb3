// Model-level check of the kernels of the ISA level in use (under qemu on
// the aarch64 build: the NEON ones) against the NAIVE algorithms: a small
// MobileNet/ResNet-like classifier built through the C++ graph API (the zoo
// models themselves need Python and ONNX, which the emulated build lacks),
// batch 1, 3x64x64 input: a 3x3 stride-2 stem (3 -> 24 channels: the
// DIRECT_SMALL_IC kernel) + Relu, 3x3 conv 24 -> 32 + Relu (WINOGRAD_F63 /
// F43 or IM2COL_GEMM), depthwise 3x3 + Relu6 (Clip), 1x1 32 -> 64, MaxPool
// 3x3 stride 2, 3x3 conv 64 -> 64 with a residual Add + Relu, AveragePool
// 2x2, GlobalAveragePool, Flatten, Gemm 64 -> 10, Softmax. It runs with the
// default (heuristic) algorithms, with weight preprocessing, with
// WINOGRAD_F63 and WINOGRAD_F43 preferred wherever they apply, and with the
// work split over 3 threads (SerialSplitCompNode: every range, one thread),
// and compares the logits and two inner activations (after the first 3x3
// conv, after the residual block) with NAIVE's, element by element:
// |fast - naive| <= 3e-4 * max|naive| + 1e-5 (Winograd's stated error,
// conv_winograd.cpp, with a margin for the convs in a row; the measured
// errors are printed), and the softmax row sums to 1. It
// also checks that the stem ran DIRECT_SMALL_IC and the preferred runs
// their Winograd algorithm, so the kernels under test did run. The
// nchw44 and nchw88 runs convert the trunk to the channel-blocked layouts
// (passes/convert_layout.cpp) and check the blocked kernels the same way.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "kernels/isa.h"
#include "runtime/comp_node.h"
#include "runtime/network.h"

// GCC 12 for aarch64 stops with an internal compiler error
// (vect_transform_reduction) vectorising this file's comparison loops,
// which need no vectorising.
#if defined(__aarch64__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-vectorize")
#endif

using namespace loadrun;

namespace {

uint32_t g_seed = 2024;
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

// Conv `name` (oc x ic/group x k x k, pads k/2) from `in` to `out`.
void conv(Graph& g, const std::string& name, const std::string& in, const std::string& out,
          int64_t ic, int64_t oc, int64_t k, int64_t stride, int64_t group) {
  const float scale = std::sqrt(2.f / float(ic / group * k * k));
  g.add_const(name + ".w", random_tensor({oc, ic / group, k, k}, scale));
  g.add_const(name + ".b", random_tensor({oc}, 0.1f));
  Attrs a;
  a.set("pads", ints({k / 2, k / 2, k / 2, k / 2}));
  a.set("strides", ints({stride, stride}));
  if (group > 1) a.set("group", integer(group));
  g.add_opr("Conv", "", name, a, {in, name + ".w", name + ".b"}, {out});
}

std::shared_ptr<Graph> build() {
  auto g = std::make_shared<Graph>();
  g->add_input("x", DType::Float32, {1, 3, 64, 64});
  conv(*g, "stem", "x", "c0", 3, 24, 3, 2, 1);  // 32x32
  g->add_opr("Relu", "", "r0", Attrs(), {"c0"}, {"a0"});
  conv(*g, "conv1", "a0", "c1", 24, 32, 3, 1, 1);
  g->add_opr("Relu", "", "r1", Attrs(), {"c1"}, {"a1"});
  conv(*g, "dw2", "a1", "c2", 32, 32, 3, 1, 32);
  Tensor lo(Layout({}, DType::Float32)), hi(Layout({}, DType::Float32));
  lo.ptr<float>()[0] = 0.f;
  hi.ptr<float>()[0] = 6.f;
  g->add_const("lo", lo);
  g->add_const("hi", hi);
  g->add_opr("Clip", "", "relu6", Attrs(), {"c2", "lo", "hi"}, {"a2"});
  conv(*g, "pw3", "a2", "c3", 32, 64, 1, 1, 1);
  Attrs mp;
  mp.set("kernel_shape", ints({3, 3}));
  mp.set("strides", ints({2, 2}));
  mp.set("pads", ints({1, 1, 1, 1}));
  g->add_opr("MaxPool", "", "maxpool", mp, {"c3"}, {"p3"});  // 16x16
  conv(*g, "conv4", "p3", "c4", 64, 64, 3, 1, 1);
  g->add_opr("Add", "", "res4", Attrs(), {"c4", "p3"}, {"s4"});
  g->add_opr("Relu", "", "r4", Attrs(), {"s4"}, {"a4"});
  Attrs ap;
  ap.set("kernel_shape", ints({2, 2}));
  ap.set("strides", ints({2, 2}));
  g->add_opr("AveragePool", "", "avgpool", ap, {"a4"}, {"p4"});  // 8x8
  g->add_opr("GlobalAveragePool", "", "gap", Attrs(), {"p4"}, {"gp"});
  g->add_opr("Flatten", "", "flat", Attrs(), {"gp"}, {"f"});
  g->add_const("fc.w", random_tensor({10, 64}, 0.125f));
  g->add_const("fc.b", random_tensor({10}, 0.1f));
  Attrs gemm;
  gemm.set("transB", integer(1));
  g->add_opr("Gemm", "", "fc", gemm, {"f", "fc.w", "fc.b"}, {"logits"});
  Attrs sm;
  sm.set("axis", integer(1));
  g->add_opr("Softmax", "", "softmax", sm, {"logits"}, {"prob"});
  g->add_output("logits");
  g->add_output("prob");
  g->add_output("a1");  // after the first 3x3 conv: 32 x 32 x 32
  g->add_output("a4");  // after the residual block: 64 x 16 x 16
  return g;
}

struct Variant {
  const char* name;
  std::string prefer;       // "" = the heuristic
  bool weight_preprocess;
  int split_threads;        // > 1: SerialSplitCompNode
  const char* must_run;     // an algorithm some step must run ("" = none)
  std::string layout = "";  // NetworkOptions::layout
};

}  // namespace

int main() {
  try {
    std::shared_ptr<Graph> g = build();
    Tensor x = random_tensor({1, 3, 64, 64}, 1.f);
    std::printf("isa level %s\n", isa_level_name());
    NetworkOptions naive_opt;
    naive_opt.chooser.prefer_algo = "NAIVE";
    Network naive(g, naive_opt);
    std::vector<Tensor> ref = naive.run({x});
    // The tolerance of output k: 3e-4 of its largest NAIVE magnitude + 1e-5.
    const int kCompared[] = {0, 2, 3};  // logits, a1, a4
    double tol[4] = {0, 0, 0, 0};
    for (int k : kCompared) {
      double mx = 0;
      for (int64_t i = 0; i < ref.at(k).numel(); ++i) mx = std::fmax(mx, std::fabs(ref[k].ptr<float>()[i]));
      tol[k] = 3e-4 * mx + 1e-5;
    }

    const Variant variants[] = {
        {"heuristic", "", false, 1, "DIRECT_SMALL_IC"},
        {"weight-preprocess", "", true, 1, "DIRECT_SMALL_IC"},
        {"winograd-f63", "WINOGRAD_F63", true, 1, "WINOGRAD_F63"},
        {"winograd-f43", "WINOGRAD_F43", false, 1, "WINOGRAD_F43"},
        {"split-3", "", true, 3, ""},
        {"winograd-f63-split-3", "WINOGRAD_F63", true, 3, "WINOGRAD_F63"},
        {"nchw44", "", true, 1, "NCHWC_DIRECT", "nchw44"},
        {"nchw88-split-3", "", true, 3, "NCHWC_DEPTHWISE", "nchw88"},
    };
    int failures = 0;
    for (const Variant& v : variants) {
      NetworkOptions opt;
      opt.chooser.prefer_algo = v.prefer;
      opt.weight_preprocess = v.weight_preprocess;
      opt.layout = v.layout;
      if (v.split_threads > 1) opt.comp_node = std::make_shared<SerialSplitCompNode>(v.split_threads);
      Network net(g, opt);
      std::vector<Tensor> out = net.run({x});
      std::string algos;
      bool ran = !*v.must_run;
      for (const StepInfo& s : net.steps()) {
        if (s.opr.find("{Conv") != std::string::npos) algos += " " + s.opr + "=" + s.algo;
        ran = ran || s.algo == v.must_run;
      }
      const char* names[] = {"logits", "prob", "a1", "a4"};
      std::string errs;
      for (int k : kCompared) {
        double err = 0;
        for (int64_t i = 0; i < ref[k].numel(); ++i) {
          const double e = std::fabs(double(out[k].ptr<float>()[i]) - ref[k].ptr<float>()[i]);
          if (!(e <= err)) err = e;  // NaN propagates
        }
        char buf[80];
        std::snprintf(buf, sizeof buf, " %s %.3g (tol %.3g)", names[k], err, tol[k]);
        errs += buf;
        if (!(err <= tol[k])) {
          std::fprintf(stderr, "FAIL %s: %s differs from NAIVE by %.3g > %.3g\n", v.name, names[k],
                       err, tol[k]);
          ++failures;
        }
      }
      double psum = 0;
      for (int j = 0; j < 10; ++j) psum += out[1].ptr<float>()[j];
      std::printf("%-21s max|fast - naive|:%s; prob sum %.7f;%s\n", v.name, errs.c_str(), psum,
                  algos.c_str());
      if (!(std::fabs(psum - 1.0) < 1e-5)) {
        std::fprintf(stderr, "FAIL %s: softmax sums to %.7f\n", v.name, psum);
        ++failures;
      }
      if (!ran) {
        std::fprintf(stderr, "FAIL %s: no step ran %s\n", v.name, v.must_run);
        ++failures;
      }
    }
    std::printf(failures ? "FAILED\n" : "ok\n");
    return failures ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FAIL: %s\n", e.what());
    return 1;
  }
}
