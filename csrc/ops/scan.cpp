// Scan (opsets 9-21; opset 8 through the importer's rewrite, `_batched`):
//   inputs  N initial state values, then num_scan_inputs scan inputs, then
//           the body's captures;
//   body    (state..., one slice of each scan input) -> (state..., one slice
//           of each scan output);
//   outputs N final states, then the scan outputs: the body's slices stacked
//           along scan_output_axes (default 0).
// Scan input k is sliced along scan_input_axes[k] (default 0), front to back,
// or back to front where scan_input_directions[k] = 1; scan output j is
// written back to front where scan_output_directions[j] = 1. Every scan input
// has the same length T along its axis. Opset 8 (`_batched`): states and scan
// inputs carry a leading batch axis (scan axis 1), each batch entry scanned
// on its own; sequence_lens is not supported (the rewrite refuses it).
// Shapes: the body compiled for one slice gives them; when its shapes depend
// on data, inference runs its first iteration on the input values.
// NAIVE: T runs of the body's nested network, slices copied in and out.
// Cost: the body's times T (times the batch), plus the copies.
#include "ops/common.h"
#include "ops/subgraph.h"

namespace loadrun {

namespace {

struct ScanOp final : Op {
  explicit ScanOp(const Attrs& a)
      : body(std::make_unique<SubGraph>(a.require_graph("body"), "body")),
        captures(num_captures(a)),
        num_scan_inputs(a.require_int("num_scan_inputs")),
        in_axes(a.get_ints("scan_input_axes")),
        in_dirs(a.get_ints("scan_input_directions")),
        out_axes(a.get_ints("scan_output_axes")),
        out_dirs(a.get_ints("scan_output_directions")),
        batched(a.get_int("_batched", 0) != 0) {
    LR_CHECK(num_scan_inputs >= 1, ModelError, "Scan: num_scan_inputs must be >= 1, got ",
             num_scan_inputs);
    for (auto* v : {&in_axes, &in_dirs})
      LR_CHECK(v->empty() || static_cast<int64_t>(v->size()) == num_scan_inputs, ModelError,
               "Scan: scan_input_axes/directions need ", num_scan_inputs, " entries, got ",
               v->size());
    for (auto* v : {&in_dirs, &out_dirs})
      for (int64_t d : *v)
        LR_CHECK(d == 0 || d == 1, ModelError, "Scan: directions must be 0 or 1, got ", d);
    LR_CHECK(!batched || in_axes.empty(), ModelError, "Scan-8 has no scan_input_axes");
  }

  // Counts for a node of n_in inputs and n_out outputs.
  struct Counts {
    int64_t n = 0, k = 0, l = 0;  // states, scan inputs, scan outputs
  };
  Counts resolve(size_t n_in, size_t n_out) const {
    Counts r;
    r.k = num_scan_inputs;
    r.n = static_cast<int64_t>(n_in) - r.k - captures;
    r.l = static_cast<int64_t>(n_out) - r.n;
    LR_CHECK(r.n >= 0 && r.l >= 0, ModelError, "Scan: ", n_in, " inputs and ", n_out,
             " outputs do not fit ", r.k, " scan inputs and ", captures, " captures");
    LR_CHECK(body->num_inputs() == n_in, ModelError, "Scan: the body has ", body->num_inputs(),
             " inputs, expected ", n_in);
    LR_CHECK(body->num_outputs() == n_out, ModelError, "Scan: the body has ",
             body->num_outputs(), " outputs, expected ", n_out);
    LR_CHECK(out_axes.empty() || static_cast<int64_t>(out_axes.size()) == r.l, ModelError,
             "Scan: scan_output_axes needs ", r.l, " entries, got ", out_axes.size());
    LR_CHECK(out_dirs.empty() || static_cast<int64_t>(out_dirs.size()) == r.l, ModelError,
             "Scan: scan_output_directions needs ", r.l, " entries, got ", out_dirs.size());
    return r;
  }

  void infer(InferCtx& ctx) const override;

  std::unique_ptr<SubGraph> body;
  int64_t captures, num_scan_inputs;
  std::vector<int64_t> in_axes, in_dirs, out_axes, out_dirs;
  bool batched;
};

// Layout `l` without axis `axis`.
Layout drop_axis(const Layout& l, int64_t axis) {
  Shape s = l.shape;
  s.erase(s.begin() + axis);
  return Layout(s, l.dtype);
}

void ScanOp::infer(InferCtx& ctx) const {
  ScanOp::Counts r = resolve(ctx.num_inputs(), ctx.out.size());
  int64_t batch = -1, t = -1;
  std::vector<Layout> ins;
  for (int64_t j = 0; j < r.n; ++j) {
    const Layout& s = ctx.input(j);
    if (batched) {
      LR_CHECK(s.ndim() >= 1, ModelError, "Scan-8: state ", j, " needs a batch axis");
      if (batch < 0) batch = s.shape[0];
      LR_CHECK(s.shape[0] == batch, ModelError, "Scan-8: batch sizes differ");
      ins.push_back(drop_axis(s, 0));
    } else {
      ins.push_back(s);
    }
  }
  for (int64_t k = 0; k < r.k; ++k) {
    Layout x = ctx.input(r.n + k);
    if (batched) {
      LR_CHECK(x.ndim() >= 2, ModelError, "Scan-8: scan input ", k, " needs batch and sequence axes");
      if (batch < 0) batch = x.shape[0];
      LR_CHECK(x.shape[0] == batch, ModelError, "Scan-8: batch sizes differ");
      x = drop_axis(x, 0);
    }
    int64_t axis = normalize_axis(in_axes.empty() ? 0 : in_axes[k], x.ndim(), "scan_input_axes");
    if (t < 0) t = x.shape[axis];
    LR_CHECK(x.shape[axis] == t, ModelError, "Scan: scan input ", k, " has length ",
             x.shape[axis], " along its axis, the first has ", t);
    ins.push_back(drop_axis(x, axis));
  }
  for (size_t i = r.n + r.k; i < ctx.num_inputs(); ++i) ins.push_back(ctx.input(i));
  std::vector<Layout> outs;
  if (!body->infer(ctx.runtime, ins, &outs)) {
    // The body's shapes depend on data: run its first iteration on the input
    // values (every iteration has the same shapes).
    LR_CHECK(t > 0, UnsupportedError, "Scan: zero iterations, and the body's shapes depend on data");
    LR_CHECK(!batched, UnsupportedError, "Scan-8: the body's shapes depend on data");
    std::vector<Tensor> slices;
    std::vector<const Tensor*> feeds;
    for (int64_t j = 0; j < r.n; ++j) feeds.push_back(&ctx.value(j, "Scan state"));
    for (int64_t k = 0; k < r.k; ++k) {
      const Tensor& x = ctx.value(r.n + k, "Scan input");
      int64_t axis = normalize_axis(in_axes.empty() ? 0 : in_axes[k], x.ndim());
      slices.emplace_back(drop_axis(x.layout(), axis));
      bool rev = !in_dirs.empty() && in_dirs[k];
      copy_slice(x, axis, rev ? t - 1 : 0, slices.back(), false);
    }
    for (int64_t k = 0; k < r.k; ++k) feeds.push_back(&slices[k]);
    for (size_t i = r.n + r.k; i < ctx.num_inputs(); ++i) feeds.push_back(&ctx.value(i, "Scan input"));
    outs.clear();
    for (const Tensor& o : body->run(ctx.runtime, feeds)) outs.push_back(o.layout());
  }
  for (int64_t j = 0; j < r.n; ++j) {
    LR_CHECK(outs[j].same_shape_dtype(ins[j]), ModelError, "Scan: state ", j, " enters as ",
             shape_str(ins[j].shape), " and leaves the body as ", shape_str(outs[j].shape));
    Shape s = ctx.input(j).shape;
    ctx.set_output(j, s, outs[j].dtype);
  }
  for (int64_t j = 0; j < r.l; ++j) {
    const Layout& o = outs[r.n + j];
    int64_t rank = static_cast<int64_t>(o.ndim()) + 1;
    int64_t axis = normalize_axis(out_axes.empty() ? 0 : out_axes[j], rank, "scan_output_axes");
    Shape s = o.shape;
    s.insert(s.begin() + axis, t);
    if (batched) s.insert(s.begin(), batch);
    ctx.set_output(r.n + j, s, o.dtype);
  }
}

// One (unbatched) scan: states and scan inputs in, final states and scan
// outputs (already shaped) written.
void scan_once(NestedRuntime* rt, const ScanOp& op, const ScanOp::Counts& r, std::vector<Tensor> states,
               const std::vector<Tensor>& xs, const std::vector<const Tensor*>& caps,
               const std::vector<Tensor*>& state_out, const std::vector<Tensor*>& ys) {
  std::vector<int64_t> in_axis(r.k), out_axis(r.l);
  int64_t t = 0;
  for (int64_t k = 0; k < r.k; ++k) {
    in_axis[k] = normalize_axis(op.in_axes.empty() ? 0 : op.in_axes[k], xs[k].ndim());
    t = xs[k].shape()[in_axis[k]];
  }
  for (int64_t j = 0; j < r.l; ++j)
    out_axis[j] = normalize_axis(op.out_axes.empty() ? 0 : op.out_axes[j], ys[j]->ndim());
  std::vector<Tensor> slices;
  for (int64_t k = 0; k < r.k; ++k) slices.emplace_back(drop_axis(xs[k].layout(), in_axis[k]));
  for (int64_t i = 0; i < t; ++i) {
    std::vector<const Tensor*> feeds;
    for (auto& s : states) feeds.push_back(&s);
    for (int64_t k = 0; k < r.k; ++k) {
      bool rev = !op.in_dirs.empty() && op.in_dirs[k];
      copy_slice(xs[k], in_axis[k], rev ? t - 1 - i : i, slices[k], false);
      feeds.push_back(&slices[k]);
    }
    for (const Tensor* c : caps) feeds.push_back(c);
    std::vector<Tensor> outs = op.body->run(rt, feeds);
    for (int64_t j = 0; j < r.n; ++j) {
      LR_CHECK(outs[j].layout().same_shape_dtype(states[j].layout()), ModelError, "Scan: state ",
               j, " changes layout in the body");
      states[j] = outs[j];
    }
    for (int64_t j = 0; j < r.l; ++j) {
      bool rev = !op.out_dirs.empty() && op.out_dirs[j];
      const Tensor& o = outs[r.n + j];
      LR_CHECK(o.numel() * t == ys[j]->numel() && o.dtype() == ys[j]->dtype(), UnsupportedError,
               "Scan: scan output ", j, " slice ", shape_str(o.shape()), " does not fit ",
               shape_str(ys[j]->shape()));
      copy_slice(*ys[j], out_axis[j], rev ? t - 1 - i : i, o, true);
    }
  }
  for (int64_t j = 0; j < r.n; ++j) state_out[j]->copy_from(states[j]);
}

void scan_naive(const ScanOp& op, const KernCtx& ctx) {
  ScanOp::Counts r = op.resolve(ctx.in.size(), ctx.out.size());
  std::vector<const Tensor*> caps(ctx.in.begin() + r.n + r.k, ctx.in.end());
  if (!op.batched) {
    std::vector<Tensor> states, xs;
    for (int64_t j = 0; j < r.n; ++j) states.push_back(ctx.input(j));
    for (int64_t k = 0; k < r.k; ++k) xs.push_back(ctx.input(r.n + k));
    std::vector<Tensor*> so(ctx.out.begin(), ctx.out.begin() + r.n);
    std::vector<Tensor*> ys(ctx.out.begin() + r.n, ctx.out.end());
    scan_once(ctx.runtime, op, r, states, xs, caps, so, ys);
    return;
  }
  // Opset 8: each batch entry on its own, through owned slices.
  int64_t batch = ctx.input(r.n).shape()[0];
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<Tensor> states, xs, so_t, ys_t;
    auto part = [&](const Tensor& whole) {
      Tensor p(drop_axis(whole.layout(), 0));
      copy_slice(whole, 0, b, p, false);
      return p;
    };
    for (int64_t j = 0; j < r.n; ++j) states.push_back(part(ctx.input(j)));
    for (int64_t k = 0; k < r.k; ++k) xs.push_back(part(ctx.input(r.n + k)));
    for (size_t o = 0; o < ctx.out.size(); ++o)
      (o < static_cast<size_t>(r.n) ? so_t : ys_t).emplace_back(drop_axis(ctx.output(o).layout(), 0));
    std::vector<Tensor*> so, ys;
    for (auto& s : so_t) so.push_back(&s);
    for (auto& y : ys_t) ys.push_back(&y);
    scan_once(ctx.runtime, op, r, states, xs, caps, so, ys);
    for (int64_t j = 0; j < r.n; ++j) copy_slice(ctx.output(j), 0, b, so_t[j], true);
    for (int64_t j = 0; j < r.l; ++j) copy_slice(ctx.output(r.n + j), 0, b, ys_t[j], true);
  }
}

const auto kNaive = naive_algo<ScanOp>(scan_naive);

}  // namespace

void register_op_Scan(OpRegistry& r) { register_simple<ScanOp>(r, "Scan", {&kNaive}, 1); }

}  // namespace loadrun
