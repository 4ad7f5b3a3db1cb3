// Builds a small graph by hand through the C++ API alone (no Python) and
// checks what the Python tests cannot see directly: registry contents, the
// compile-time folding of shape arithmetic, plan caching per input shape,
// the memory-plan verifier and error kinds.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/errors.h"
#include "expect.h"
#include "graph/graph.h"
#include "memory/linear_planner.h"
#include "runtime/network.h"

using namespace loadrun;

static void test_registry() {
  const OpDef* conv = OpRegistry::get().find("", "Conv");
  EXPECT(conv != nullptr);
  EXPECT(conv && !conv->algos.empty() && conv->algos.front()->is_naive());
  EXPECT(OpRegistry::get().find("", "NoSuchOp") == nullptr);
  for (const OpDef* d : OpRegistry::get().all()) {
    EXPECT(!d->algos.empty());
    EXPECT(d->algos.front()->is_naive());
  }
}

static void test_conv_relu_and_folding() {
  auto g = std::make_shared<Graph>();
  g->add_input("x", DType::Float32, {-1, 1, 3, 3});
  Tensor w(Layout({1, 1, 1, 1}, DType::Float32));
  w.ptr<float>()[0] = -2.0f;
  g->add_const("w", w);
  g->add_opr("Conv", "", "conv", Attrs(), {"x", "w"}, {"c"});
  g->add_opr("Relu", "", "relu", Attrs(), {"c"}, {"y"});
  g->add_opr("Shape", "", "shape", Attrs(), {"y"}, {"s"});
  g->add_output("y");
  g->add_output("s");
  Network net(g);
  Tensor x(Layout({2, 1, 3, 3}, DType::Float32));
  for (int i = 0; i < 18; ++i) x.ptr<float>()[i] = static_cast<float>(i - 9);
  auto outs = net.run({x});
  EXPECT(outs.size() == 2);
  for (int i = 0; i < 18; ++i) {
    float want = std::fmax(0.0f, -2.0f * static_cast<float>(i - 9));
    EXPECT(outs[0].ptr<float>()[i] == want);
  }
  // Shape folds at compile time and the Relu fuses into the Conv
  // (passes/fuse_conv.cpp): only the Conv runs.
  EXPECT(net.steps().size() == 1);
  EXPECT(outs[1].numel() == 4 && outs[1].ptr<int64_t>()[0] == 2);
  // A new batch compiles a second plan; the old one is reused after.
  Tensor x1(Layout({1, 1, 3, 3}, DType::Float32));
  auto o1 = net.run({x1});
  EXPECT(o1[1].ptr<int64_t>()[0] == 1);
  auto o2 = net.run({x});
  EXPECT(o2[1].ptr<int64_t>()[0] == 2);
  // Fixed dims are checked.
  Tensor bad(Layout({1, 2, 3, 3}, DType::Float32));
  EXPECT(throws<InputError>([&] { net.run({bad}); }));
}

// Dynamic shapes through the C++ API: a shape input read by Reshape (the
// shape plan infers it at run time; bind_inputs picks a plan keyed on its
// value) and NonZero, whose output size changes from run to run.
static void test_dynamic_shapes() {
  auto g = std::make_shared<Graph>();
  g->add_input("x", DType::Float32, {6});
  g->add_input("s", DType::Int64, {2});
  g->add_opr("Reshape", "", "reshape", Attrs(), {"x", "s"}, {"r"});
  g->add_opr("NonZero", "", "nz", Attrs(), {"x"}, {"n"});
  g->add_output("r");
  g->add_output("n");
  Network net(g);
  Tensor x(Layout({6}, DType::Float32));
  for (int i = 0; i < 6; ++i) x.ptr<float>()[i] = (i % 3 == 0) ? 0.0f : static_cast<float>(i);
  Tensor s(Layout({2}, DType::Int64));
  s.ptr<int64_t>()[0] = 3;
  s.ptr<int64_t>()[1] = 2;
  // The shape plan alone: both nodes are inferred at run time.
  net.compile({{6}, {2}});
  EXPECT(net.outputs()[0].shape == Shape{-1});
  net.set_input(0, x);
  net.set_input(1, s);
  net.execute();
  EXPECT(net.output(0).shape() == (Shape{3, 2}));
  EXPECT(net.output(1).shape() == (Shape{1, 4}));
  EXPECT(net.outputs()[1].shape == (Shape{1, 4}));
  // Binding picks the plan keyed on s: Reshape's output is known before the run.
  s.ptr<int64_t>()[0] = 2;
  s.ptr<int64_t>()[1] = 3;
  net.bind_inputs({x, s});
  EXPECT(net.outputs()[0].shape == (Shape{2, 3}));
  Tensor s2 = s.clone();
  s2.ptr<int64_t>()[0] = 6;
  s2.ptr<int64_t>()[1] = 1;
  EXPECT(throws<InputError>([&] { net.set_input(1, s2); }));  // the plan is for s = {2,3}
  auto outs = net.run({x, s2});
  EXPECT(outs[0].shape() == (Shape{6, 1}));
  EXPECT(outs[1].shape() == (Shape{1, 4}) && outs[1].ptr<int64_t>()[3] == 5);
  x.ptr<float>()[1] = 0.0f;
  outs = net.run({x, s2});
  EXPECT(outs[1].shape() == (Shape{1, 3}) && outs[1].ptr<int64_t>()[0] == 2);
  s2.ptr<int64_t>()[0] = 4;  // 4 x 1 != 6 elements
  EXPECT(throws<ModelError>([&] { net.run({x, s2}); }));
}

static void test_errors() {
  Graph g;
  g.add_input("x", DType::Float32, {1});
  EXPECT(throws<UnsupportedError>([&] { g.add_opr("NoSuchOp", "", "n", Attrs(), {"x"}, {"y"}); }));
  EXPECT(throws<ModelError>([&] { g.add_opr("Relu", "", "n", Attrs(), {"nope"}, {"y"}); }));
  EXPECT(throws<ModelError>([&] { g.add_input("x", DType::Float32, {1}); }));
}

static void test_planner_verifier() {
  std::vector<MemRequest> reqs = {{100, 0, 1}, {200, 1, 2}, {50, 2, 3}};
  MemPlan p = plan_linear(reqs);
  EXPECT(verify_plan(reqs, p));
  EXPECT(p.arena_bytes >= 350);
  MemPlan overlapping = p;
  overlapping.offsets[1] = overlapping.offsets[0];  // both live at step 1
  EXPECT(!verify_plan(reqs, overlapping));
}

int main() {
  test_registry();
  test_conv_relu_and_folding();
  test_dynamic_shapes();
  test_errors();
  test_planner_verifier();
  return expect_exit("test_core_graph: ok");
}
