// Loop (opsets 11-21 share this signature; 1-10 differ only in types):
//   inputs  M (optional int64 trip count), cond (optional bool), v_initial
//           (N loop-carried values), then the body's captures;
//   body    (iteration_num, cond_in, v_in...) -> (cond_out, v_out..., scan...);
//   outputs v_final (N), then K scan outputs: each iteration's value stacked
//           along a new first axis.
// The loop runs while i < M (when M is given) and cond is true (when given;
// then the body's cond_out decides the next iteration).
// Output shapes depend on the trip count. When it is known without running
// (M and cond known, the body passes its condition through unchanged) and the
// body keeps the carried values' layouts, they follow from compiling the body;
// otherwise inference reads every input's value (ctx.value) and runs the loop.
// Sequences and optionals pass through as carried values and captures (the
// output kinds are the body's); when every output is one, inference has no
// layout to give and the loop runs once, in the kernel.
// NAIVE: one run of the body's nested network per iteration, carried values
// and scan slices copied between iterations. Cost: the body's times the trip
// count, plus those copies; when inference had to run the loop, it runs twice.
#include <climits>

#include "ops/common.h"
#include "ops/subgraph.h"

namespace loadrun {

namespace {

struct LoopOp final : Op {
  explicit LoopOp(const Attrs& a)
      : body(std::make_unique<SubGraph>(a.require_graph("body"), "body")),
        captures(num_captures(a)) {}

  // N loop-carried values and K scan outputs for a node of n_in inputs and n_out outputs.
  void counts(size_t n_in, size_t n_out, int64_t* n, int64_t* k) const {
    *n = static_cast<int64_t>(n_in) - 2 - captures;
    *k = static_cast<int64_t>(n_out) - *n;
    LR_CHECK(*n >= 0 && *k >= 0, ModelError, "Loop: ", n_in, " inputs and ", n_out,
             " outputs do not fit M, cond, carried values and ", captures, " captures");
    LR_CHECK(body->num_inputs() == n_in, ModelError, "Loop: the body has ", body->num_inputs(),
             " inputs, expected ", n_in, " (iteration_num, cond, ", *n, " carried, ", captures,
             " captured)");
    LR_CHECK(body->num_outputs() == static_cast<size_t>(1 + *n + *k), ModelError,
             "Loop: the body has ", body->num_outputs(), " outputs, expected ", 1 + *n + *k);
  }

  // Does the body return its cond_in unchanged (or a constant true)? Then
  // the trip count is known before running.
  bool cond_passes_through() const {
    const Graph& g = body->graph();
    int vid = g.outputs()[0];
    for (int hops = 0; hops < 8; ++hops) {
      const Var& v = g.vars()[vid];
      if (v.id == g.inputs()[1]) return true;
      if (v.is_const) return v.value.numel() == 1 && v.value.get_f64(0) != 0;
      if (v.producer < 0) return false;
      const OprNode& n = *g.oprs()[v.producer];
      if (n.def->type != "Identity" || n.inputs.size() != 1 || n.inputs[0] < 0) return false;
      vid = n.inputs[0];
    }
    return false;
  }

  void value_kinds(const std::vector<ValueKind>& in, std::vector<ValueKind>& out) const override {
    int64_t n, k;
    counts(in.size(), out.size(), &n, &k);
    LR_CHECK(in[0] == ValueKind::kTensor && in[1] == ValueKind::kTensor, ModelError,
             "Loop: M and cond must be tensors");
    for (int64_t j = 0; j < n; ++j) out[j] = body->output_kind(1 + j);
    for (int64_t j = 0; j < k; ++j)
      LR_CHECK(body->output_kind(1 + n + j) == ValueKind::kTensor, UnsupportedError,
               "Loop: scan output ", j, " is a ", value_kind_name(body->output_kind(1 + n + j)),
               "; only tensors are stacked");
  }

  void infer(InferCtx& ctx) const override;

  std::unique_ptr<SubGraph> body;
  int64_t captures;
};

struct LoopResult {
  std::vector<Value> carried;
  std::vector<std::vector<Tensor>> scans;  // per scan output, per iteration
  int64_t trips = 0;
};

Tensor scalar_tensor(DType dt, double v) {
  Tensor t(Layout({}, dt));
  t.set_f64(0, v);
  return t;
}

// m, c: M and cond (null when absent); rest: the carried values, then the captures.
LoopResult run_loop(NestedRuntime* rt, const LoopOp& op, const Tensor* m_in, const Tensor* c_in,
                    const std::vector<Value>& rest, int64_t n, int64_t k) {
  int64_t m = m_in ? m_in->get_i64(0) : INT64_MAX;
  if (m_in) LR_CHECK(m_in->numel() == 1, ModelError, "Loop: M must have one element");
  bool cond = c_in ? truth_of(*c_in, "Loop cond") : true;
  LoopResult r;
  r.scans.resize(k);
  r.carried.assign(rest.begin(), rest.begin() + n);
  std::vector<Value> feeds(2);
  feeds.insert(feeds.end(), rest.begin(), rest.end());
  for (int64_t i = 0; i < m && cond; ++i) {
    Tensor iter = scalar_tensor(DType::Int64, 0);
    *iter.ptr<int64_t>() = i;
    feeds[0] = Value::of_tensor(iter);
    feeds[1] = Value::of_tensor(scalar_tensor(DType::Bool, 1));
    for (int64_t j = 0; j < n; ++j) feeds[2 + j] = r.carried[j];
    std::vector<Value> outs = op.body->run_values(rt, feeds);
    cond = truth_of(outs[0].as_kind(ValueKind::kTensor, "Loop body cond_out").tensor,
                    "Loop body cond_out");
    for (int64_t j = 0; j < n; ++j) {
      const Value& was = r.carried[j];
      const Value& now = outs[1 + j];
      if (was.is_tensor() && now.is_tensor())
        LR_CHECK(now.tensor.dtype() == was.tensor.dtype(), ModelError, "Loop: carried value ", j,
                 " changes dtype from ", dtype_name(was.tensor.dtype()), " to ",
                 dtype_name(now.tensor.dtype()));
      r.carried[j] = now;
    }
    for (int64_t j = 0; j < k; ++j) {
      const Tensor& s = outs[1 + n + j].tensor;
      if (!r.scans[j].empty())
        LR_CHECK(s.shape() == r.scans[j][0].shape(), UnsupportedError, "Loop: scan output ", j,
                 " changes shape between iterations (", shape_str(r.scans[j][0].shape()), " then ",
                 shape_str(s.shape()), ")");
      r.scans[j].push_back(s);
    }
    r.trips = i + 1;
  }
  return r;
}

void LoopOp::infer(InferCtx& ctx) const {
  int64_t n, k;
  counts(ctx.num_inputs(), ctx.out.size(), &n, &k);
  if (ctx.has(0)) LR_CHECK(ctx.input(0).numel() == 1, ModelError, "Loop: M must have one element");
  if (ctx.has(1)) LR_CHECK(ctx.input(1).numel() == 1, ModelError, "Loop: cond must have one element");
  bool any_tensor = false;
  for (size_t o = 0; o < ctx.out.size(); ++o) any_tensor = any_tensor || ctx.out_is_tensor(o);
  if (!any_tensor) return;  // only sequences and optionals: nothing to infer, the kernel runs it
  std::vector<Layout> ins{Layout({}, DType::Int64), Layout({}, DType::Bool)};
  for (const Layout& l : layouts_of(ctx, 2)) ins.push_back(l);

  // The trip count without running: M known, cond known (or absent), and the
  // body's cond_out is its cond_in.
  const Tensor* m = ctx.value_or_null(0);
  const Tensor* c = ctx.value_or_null(1);
  if (m && (c || !ctx.has(1)) && cond_passes_through()) {
    int64_t trips = (c && !truth_of(*c, "Loop cond")) ? 0 : std::max<int64_t>(m->get_i64(0), 0);
    std::vector<Layout> outs;
    bool ok = body->infer(ctx.runtime, ins, &outs);
    for (int64_t j = 0; ok && j < n; ++j) ok = outs[1 + j].same_shape_dtype(ins[2 + j]);
    if (ok) {
      for (int64_t j = 0; j < n; ++j) ctx.set_output(j, ins[2 + j].shape, ins[2 + j].dtype);
      for (int64_t j = 0; j < k; ++j) {
        Shape s = outs[1 + n + j].shape;
        s.insert(s.begin(), trips);
        ctx.set_output(n + j, s, outs[1 + n + j].dtype);
      }
      return;
    }
  }

  // Otherwise: run it.
  const Tensor* mv = ctx.has(0) ? &ctx.value(0, "Loop M") : nullptr;
  const Tensor* cv = ctx.has(1) ? &ctx.value(1, "Loop cond") : nullptr;
  LoopResult r = run_loop(ctx.runtime, *this, mv, cv, feeds_of(ctx, 2, "Loop input"), n, k);
  for (int64_t j = 0; j < n; ++j) {
    if (!ctx.out_is_tensor(j)) continue;
    const Tensor& t = r.carried[j].as_kind(ValueKind::kTensor, "Loop carried value").tensor;
    ctx.set_output(j, t.shape(), t.dtype());
  }
  std::vector<Layout> per_iter;
  if (r.trips == 0 && k > 0) {  // no iteration to take a scan output's shape from
    bool ok = body->infer(ctx.runtime, ins, &per_iter);
    LR_CHECK(ok, UnsupportedError, "Loop: zero iterations, and the scan outputs' shapes depend on data");
  }
  for (int64_t j = 0; j < k; ++j) {
    Layout l = r.trips ? r.scans[j][0].layout() : per_iter[1 + n + j];
    Shape s = l.shape;
    s.insert(s.begin(), r.trips);
    ctx.set_output(n + j, s, l.dtype);
  }
}

void loop_naive(const LoopOp& op, const KernCtx& ctx) {
  int64_t n, k;
  op.counts(ctx.in.size(), ctx.out.size(), &n, &k);
  LoopResult r = run_loop(ctx.runtime, op, ctx.has(0) ? &ctx.input(0) : nullptr,
                          ctx.has(1) ? &ctx.input(1) : nullptr, feeds_of(ctx, 2), n, k);
  for (int64_t j = 0; j < n; ++j)
    write_output(ctx, j, r.carried[j], str_cat("Loop: carried value ", j, " at the end"));
  for (int64_t j = 0; j < k; ++j) {
    Tensor& y = ctx.output(n + j);
    LR_CHECK(!y.shape().empty() && y.shape()[0] == r.trips, UnsupportedError, "Loop: ", r.trips,
             " iterations ran, ", shape_str(y.shape()), " inferred for scan output ", j);
    for (int64_t i = 0; i < r.trips; ++i) copy_slice(y, 0, i, r.scans[j][i], true);
  }
}

const auto kNaive = naive_algo<LoopOp>(loop_naive);

}  // namespace

void register_op_Loop(OpRegistry& r) { register_simple<LoopOp>(r, "Loop", {&kNaive}, 2); }

}  // namespace loadrun
