// If: runs then_branch or else_branch by the one-element condition (input 0);
// inputs after it are the captures both branches read (see subgraph.h).
// Output shapes: when both branches compile to the same static layouts, the
// condition is not needed to infer them; otherwise they are the taken
// branch's, so inference reads the condition (ctx.value), and when even that
// branch's shapes depend on data, runs it on the input values.
// Sequences and optionals pass through: a capture or a result may be one
// (the node's output kinds are the branches', which must agree).
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

  void value_kinds(const std::vector<ValueKind>& in, std::vector<ValueKind>& out) const override {
    LR_CHECK(!in.empty() && in[0] == ValueKind::kTensor, ModelError, "If: the condition must be a tensor");
    check_arity(in.size(), out.size());
    for (size_t o = 0; o < out.size(); ++o) {
      ValueKind a = then_->output_kind(o), b = else_->output_kind(o);
      // An optional in one branch and its content in the other: the optional.
      if (a != b && is_optional(a) && content_kind(a) == b) b = a;
      if (a != b && is_optional(b) && content_kind(b) == a) a = b;
      LR_CHECK(a == b, ModelError, "If: output ", o, " is a ", value_kind_name(a),
               " in then_branch and a ", value_kind_name(b), " in else_branch");
      out[o] = a;
    }
  }

  void infer(InferCtx& ctx) const override {
    check_arity(ctx.num_inputs(), ctx.out.size());
    LR_CHECK(ctx.has(0), ModelError, "If: the condition is absent");
    std::vector<Layout> ins = layouts_of(ctx, 1);
    std::vector<Layout> outs;
    if (!ctx.value_or_null(0)) {
      // Either branch may be invalid for these inputs (the condition guards
      // it): only two static, equal results make the condition unnecessary.
      std::vector<Layout> a, b;
      bool same = false;
      try {
        same = then_->infer(ctx.runtime, ins, &a) && else_->infer(ctx.runtime, ins, &b) && a.size() == b.size();
        for (size_t o = 0; same && o < a.size(); ++o) same = a[o].same_shape_dtype(b[o]);
      } catch (const Error&) {
        same = false;
      }
      if (same) outs = a;
    }
    if (outs.empty() && !ctx.out.empty()) {
      SubGraph& br = truth_of(ctx.value(0, "If cond"), "If cond") ? *then_ : *else_;
      if (!br.infer(ctx.runtime, ins, &outs)) {
        outs.clear();
        for (const Value& v : br.run_values(ctx.runtime, feeds_of(ctx, 1, "If input")))
          outs.push_back(v.kind == ValueKind::kTensor ? v.tensor.layout() : Layout(Shape{}, v.elem));
      }
    }
    for (size_t o = 0; o < ctx.out.size(); ++o) ctx.set_output(o, outs[o].shape, outs[o].dtype);
  }

  std::unique_ptr<SubGraph> then_, else_;
};

void if_naive(const IfOp& op, const KernCtx& ctx) {
  SubGraph& br = truth_of(ctx.input(0), "If cond") ? *op.then_ : *op.else_;
  std::vector<Value> outs = br.run_values(ctx.runtime, feeds_of(ctx, 1));
  for (size_t o = 0; o < ctx.out.size(); ++o)
    write_output(ctx, o, outs[o], str_cat("If: ", br.what(), " output ", o));
}

const auto kNaive = naive_algo<IfOp>(if_naive);

}  // namespace

void register_op_If(OpRegistry& r) { register_simple<IfOp>(r, "If", {&kNaive}, 1); }

}  // namespace loadrun
