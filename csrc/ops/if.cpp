// If: runs then_branch or else_branch by the one-element condition (input 0);
// inputs after it are the captures both branches read (see subgraph.h).
// Output shapes: when both branches compile to the same static layouts, the
// condition is not needed to infer them; otherwise they are the taken
// branch's, so inference reads the condition (ctx.value), and when even that
// branch's shapes depend on data, runs it on the input values.
// NAIVE: run the taken branch's nested network and copy its outputs out.
// Cost: the branch's, plus one copy of its inputs and outputs.
#include "ops/common.h"
#include "ops/subgraph.h"

namespace loadrun {

namespace {

struct IfOp final : Op {
  explicit IfOp(const Attrs& a)
      : then_(std::make_unique<SubGraph>(a.require_graph("then_branch"), "then_branch")),
        else_(std::make_unique<SubGraph>(a.require_graph("else_branch"), "else_branch")) {
    LR_CHECK(then_->num_outputs() == else_->num_outputs(), ModelError,
             "then_branch has ", then_->num_outputs(), " outputs, else_branch ",
             else_->num_outputs());
  }

  void check_arity(size_t n_in, size_t n_out) const {
    for (const SubGraph* b : {then_.get(), else_.get()}) {
      LR_CHECK(b->num_inputs() == n_in - 1, ModelError, b->what(), " reads ", b->num_inputs(),
               " captured values, the node passes ", n_in - 1);
      LR_CHECK(b->num_outputs() == n_out, ModelError, b->what(), " has ", b->num_outputs(),
               " outputs, the node ", n_out);
    }
  }

  void infer(InferCtx& ctx) const override {
    check_arity(ctx.num_inputs(), ctx.out.size());
    LR_CHECK(ctx.has(0), ModelError, "If: the condition is absent");
    std::vector<Layout> ins;
    for (size_t i = 1; i < ctx.num_inputs(); ++i) ins.push_back(ctx.input(i));
    std::vector<Layout> outs;
    if (!ctx.value_or_null(0)) {
      // Either branch may be invalid for these inputs (the condition guards
      // it): only two static, equal results make the condition unnecessary.
      std::vector<Layout> a, b;
      bool same = false;
      try {
        same = then_->infer(ins, &a) && else_->infer(ins, &b) && a.size() == b.size();
        for (size_t o = 0; same && o < a.size(); ++o) same = a[o].same_shape_dtype(b[o]);
      } catch (const Error&) {
        same = false;
      }
      if (same) outs = a;
    }
    if (outs.empty() && !ctx.out.empty()) {
      SubGraph& br = truth_of(ctx.value(0, "If cond"), "If cond") ? *then_ : *else_;
      if (!br.infer(ins, &outs)) {
        std::vector<const Tensor*> feeds;
        for (size_t i = 1; i < ctx.num_inputs(); ++i) feeds.push_back(&ctx.value(i, "If input"));
        outs.clear();
        for (const Tensor& t : br.run(feeds)) outs.push_back(t.layout());
      }
    }
    for (size_t o = 0; o < ctx.out.size(); ++o) ctx.set_output(o, outs[o].shape, outs[o].dtype);
  }

  std::unique_ptr<SubGraph> then_, else_;
};

void if_naive(const IfOp& op, const KernCtx& ctx) {
  SubGraph& br = truth_of(ctx.input(0), "If cond") ? *op.then_ : *op.else_;
  std::vector<const Tensor*> feeds(ctx.in.begin() + 1, ctx.in.end());
  std::vector<Tensor> outs = br.run(feeds);
  for (size_t o = 0; o < ctx.out.size(); ++o) {
    Tensor& y = ctx.output(o);
    LR_CHECK(outs[o].layout().same_shape_dtype(y.layout()), UnsupportedError, "If: ",
             br.what(), " output ", o, " is ", outs[o].layout().str(), ", inferred ",
             y.layout().str());
    y.copy_from(outs[o]);
  }
}

const auto kNaive = naive_algo<IfOp>(if_naive);

}  // namespace

void register_op_If(OpRegistry& r) { register_simple<IfOp>(r, "If", {&kNaive}, 1); }

}  // namespace loadrun
