// Optional operators (ONNX opsets 15-18): an optional holds a tensor or a
// sequence, or nothing (core/value.h).
//   Optional(x?; type)       -> an optional holding x; without x, an empty
//                               optional of `type` (the importer turns the
//                               TypeProto into "tensor DTYPE" / "sequence DTYPE")
//   OptionalHasElement(x?)   -> bool scalar: x holds a value (a tensor or a
//                               sequence always does, opset 18; no input: false)
//   OptionalGetElement(x)    -> the value x holds (ModelError when empty); a
//                               tensor or sequence is returned as it is
// NAIVE: the tensor copied, or the sequence's elements shared; O(bytes of a
// tensor), no workspace.
#include <cstring>
#include <sstream>

#include "ops/common.h"

namespace loadrun {

namespace {

// ---------------------------------------------------------------- Optional
struct OptionalOp final : Op {
  bool typed = false;  // the `type` attribute was given
  ValueKind content = ValueKind::kTensor;
  DType elem = DType::Float32;
  explicit OptionalOp(const Attrs& a) {
    if (!a.has("type")) return;
    typed = true;
    std::istringstream in(a.get_string("type", ""));
    std::string kind, dt;
    in >> kind >> dt;
    LR_CHECK(kind == "tensor" || kind == "sequence", UnsupportedError,
             "Optional: type '", a.get_string("type", ""), "' (supported: a tensor or a sequence of tensors)");
    content = kind == "tensor" ? ValueKind::kTensor : ValueKind::kSequence;
    LR_CHECK(dtype_from_name(dt, &elem), UnsupportedError, "Optional: element type '", dt,
             "' is not supported");
  }
  void value_kinds(const std::vector<ValueKind>& in, std::vector<ValueKind>& out) const override {
    // `in` is empty when no input is given; an empty name reads as a tensor.
    if (!in.empty())
      LR_CHECK(in[0] == ValueKind::kTensor || in[0] == ValueKind::kSequence, ModelError,
               "Optional: the input must be a tensor or a sequence, got a ", value_kind_name(in[0]));
    if (typed) {
      LR_CHECK(in.empty() || in[0] == ValueKind::kTensor || content == ValueKind::kSequence,
               ModelError, "Optional: the type attribute says a tensor, the input is a sequence");
      out[0] = optional_of(content);
      return;
    }
    LR_CHECK(!in.empty(), ModelError, "Optional: without an input, the type attribute is required");
    out[0] = optional_of(in[0]);
  }
  void infer(InferCtx&) const override {}
};

void optional_naive(const OptionalOp& op, const KernCtx& ctx) {
  Value* out = ctx.seq_output(0);
  if (const Value* s = ctx.seq(0)) {  // a sequence
    *out = s->as_kind(out->kind, "Optional");
  } else if (ctx.has(0)) {
    out->present = true;
    out->tensor = ctx.input(0).clone();
    out->elem = out->tensor.dtype();
  } else {
    out->present = false;
    out->tensor = Tensor();
    out->items.clear();
    out->elem = op.elem;
  }
}

// ---------------------------------------------------------------- OptionalHasElement
struct OptionalHasElementOp final : Op {
  explicit OptionalHasElementOp(const Attrs&) {}
  void value_kinds(const std::vector<ValueKind>&, std::vector<ValueKind>&) const override {}
  void infer(InferCtx& ctx) const override { ctx.set_output(0, {}, DType::Bool); }
};

void optional_has_element_naive(const OptionalHasElementOp&, const KernCtx& ctx) {
  bool has = ctx.has(0);
  if (const Value* v = ctx.seq(0)) has = v->present;
  *ctx.output(0).ptr<bool>() = has;
}

// ---------------------------------------------------------------- OptionalGetElement
struct OptionalGetElementOp final : Op {
  explicit OptionalGetElementOp(const Attrs&) {}
  void value_kinds(const std::vector<ValueKind>& in, std::vector<ValueKind>& out) const override {
    out[0] = content_kind(in[0]);
  }
  const Value& present(const Value* v) const {
    LR_CHECK(v->present, ModelError, "OptionalGetElement: the optional is empty");
    return *v;
  }
  void infer(InferCtx& ctx) const override {
    if (!ctx.out_is_tensor(0)) return;
    if (const Value* v = ctx.seq(0)) {
      const Tensor& t = present(v).tensor;
      ctx.set_output(0, t.shape(), t.dtype());
      return;
    }
    ctx.set_output(0, ctx.input(0).shape, ctx.input(0).dtype);
  }
};

void optional_get_element_naive(const OptionalGetElementOp& op, const KernCtx& ctx) {
  const Value* v = ctx.seq(0);
  if (Value* out = ctx.seq_output(0)) {  // a sequence
    *out = op.present(v).as_kind(ValueKind::kSequence, "OptionalGetElement");
    return;
  }
  const Tensor& x = v ? op.present(v).tensor : ctx.input(0);
  Tensor& y = ctx.output(0);
  if (x.nbytes() && x.raw() != y.raw()) std::memcpy(y.raw(), x.raw(), x.nbytes());
}

const auto kOptional = naive_algo<OptionalOp>(optional_naive);
const auto kHas = naive_algo<OptionalHasElementOp>(optional_has_element_naive);
const auto kGet = naive_algo<OptionalGetElementOp>(optional_get_element_naive);

}  // namespace

void register_op_Optional(OpRegistry& r) { register_simple<OptionalOp>(r, "Optional", {&kOptional}, 0, 1); }
void register_op_OptionalHasElement(OpRegistry& r) {
  register_simple<OptionalHasElementOp>(r, "OptionalHasElement", {&kHas}, 0, 1);
}
void register_op_OptionalGetElement(OpRegistry& r) {
  register_simple<OptionalGetElementOp>(r, "OptionalGetElement", {&kGet}, 1, 1);
}

}  // namespace loadrun
