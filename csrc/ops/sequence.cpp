// Sequence operators (ONNX opset 11+): a sequence is an ordered list of
// tensors of one dtype (core/value.h); these ops make, edit and read one.
//   SequenceEmpty                       -> an empty sequence of `dtype` (default float)
//   SequenceConstruct(x...)             -> the sequence [x...] (one dtype)
//   SequenceInsert(S, x, pos?)          -> S with x inserted before pos (default: appended)
//   SequenceAt(S, pos)                  -> S[pos] (a tensor)
//   SequenceErase(S, pos?)              -> S without S[pos] (default: the last)
//   SequenceLength(S)                   -> len(S) (int64 scalar)
//   ConcatFromSequence(S; axis, new_axis) -> S's tensors concatenated along
//                                          axis (new_axis=1: stacked on a new axis)
//   SplitToSequence(x, split?; axis, keepdims) -> pieces of x along axis:
//       split a scalar: pieces of that length (the last one shorter); a 1-D
//       split: those lengths; none: pieces of length 1, the axis dropped
//       when keepdims = 0.
// Positions are int32 or int64 scalars, negative ones count from the end
// (SequenceInsert accepts -len..len, the others -len..len-1).
// These nodes are inferred at run time, when the sequences exist (see
// runtime/network.h). Elements are owned and never written once in a
// sequence, so an edited sequence shares the untouched ones.
// NAIVE: byte copies (any dtype) of the tensors that enter or leave a
// sequence; O(bytes moved), no workspace.
#include <cstring>

#include "ops/common.h"

namespace loadrun {

namespace {

const Value& seq_arg(const Value* v, const char* op) {
  LR_CHECK(v && v->kind == ValueKind::kSequence, ModelError, op, ": input 0 must be a sequence");
  return *v;
}

void check_seq_inputs(const char* op, const std::vector<ValueKind>& in, size_t n_seq) {
  for (size_t i = 0; i < in.size(); ++i) {
    ValueKind want = i < n_seq ? ValueKind::kSequence : ValueKind::kTensor;
    LR_CHECK(in[i] == want, ModelError, op, ": input ", i, " must be a ", value_kind_name(want),
             ", got a ", value_kind_name(in[i]));
  }
}

// A position input (int32/int64 scalar) in [-n, n - 1 + extra], made non-negative.
int64_t position_of(const Tensor& t, int64_t n, int64_t extra, const char* op) {
  LR_CHECK(t.dtype() == DType::Int64 || t.dtype() == DType::Int32, ModelError, op,
           ": the position must be int32 or int64, got ", dtype_name(t.dtype()));
  LR_CHECK(t.numel() == 1 && t.ndim() <= 1, ModelError, op,
           ": the position must be a scalar, got shape ", shape_str(t.shape()));
  int64_t p = t.get_i64(0);
  LR_CHECK(p >= -n && p <= n - 1 + extra, ModelError, op, ": position ", p,
           " is out of range for a sequence of ", n, " tensors");
  return p < 0 ? p + n : p;
}

void set_sequence(const KernCtx& ctx, DType elem, std::vector<Tensor> items) {
  Value* out = ctx.seq_output(0);
  LR_CHECK(out, InternalError, "the sequence output is not bound");
  out->elem = elem;
  out->items = std::move(items);
  out->present = true;
}

// ---------------------------------------------------------------- SequenceEmpty
struct SequenceEmptyOp final : Op {
  DType elem = DType::Float32;
  explicit SequenceEmptyOp(const Attrs& a) {
    int64_t code = a.get_int("dtype", 1);
    const char* name = nullptr;
    bool ok = dtype_of_onnx(code, &elem, &name);
    LR_CHECK(name, ModelError, "SequenceEmpty: dtype ", code, " is not an ONNX tensor data type");
    LR_CHECK(ok, UnsupportedError, "SequenceEmpty: dtype ", name, " is not supported");
  }
  void value_kinds(const std::vector<ValueKind>&, std::vector<ValueKind>& out) const override {
    out[0] = ValueKind::kSequence;
  }
  void infer(InferCtx&) const override {}
};

void sequence_empty_naive(const SequenceEmptyOp& op, const KernCtx& ctx) {
  set_sequence(ctx, op.elem, {});
}

// ---------------------------------------------------------------- SequenceConstruct
struct SequenceConstructOp final : Op {
  explicit SequenceConstructOp(const Attrs&) {}
  void value_kinds(const std::vector<ValueKind>& in, std::vector<ValueKind>& out) const override {
    check_seq_inputs("SequenceConstruct", in, 0);
    out[0] = ValueKind::kSequence;
  }
  void infer(InferCtx& ctx) const override {
    for (size_t i = 0; i < ctx.num_inputs(); ++i)
      LR_CHECK(ctx.input(i).dtype == ctx.input(0).dtype, ModelError,
               "SequenceConstruct: the tensors must share one dtype, input 0 is ",
               dtype_name(ctx.input(0).dtype), " and input ", i, " ",
               dtype_name(ctx.input(i).dtype));
  }
};

void sequence_construct_naive(const SequenceConstructOp&, const KernCtx& ctx) {
  std::vector<Tensor> items;
  for (size_t i = 0; i < ctx.in.size(); ++i) items.push_back(ctx.input(i).clone());
  set_sequence(ctx, ctx.input(0).dtype(), std::move(items));
}

// ---------------------------------------------------------------- SequenceInsert
struct SequenceInsertOp final : Op {
  explicit SequenceInsertOp(const Attrs&) {}
  void value_kinds(const std::vector<ValueKind>& in, std::vector<ValueKind>& out) const override {
    check_seq_inputs("SequenceInsert", in, 1);
    out[0] = ValueKind::kSequence;
  }
  void infer(InferCtx& ctx) const override {
    const Value& s = seq_arg(ctx.seq(0), "SequenceInsert");
    LR_CHECK(ctx.input(1).dtype == s.elem, ModelError, "SequenceInsert: a ",
             dtype_name(ctx.input(1).dtype), " tensor into a sequence of ", dtype_name(s.elem));
    if (ctx.has(2))
      position_of(ctx.value(2, "SequenceInsert position"), static_cast<int64_t>(s.items.size()), 1,
                  "SequenceInsert");
  }
};

void sequence_insert_naive(const SequenceInsertOp&, const KernCtx& ctx) {
  const Value& s = *ctx.seq(0);
  int64_t n = static_cast<int64_t>(s.items.size());
  int64_t p = ctx.has(2) ? position_of(ctx.input(2), n, 1, "SequenceInsert") : n;
  std::vector<Tensor> items = s.items;
  items.insert(items.begin() + p, ctx.input(1).clone());
  set_sequence(ctx, s.elem, std::move(items));
}

// ---------------------------------------------------------------- SequenceAt
struct SequenceAtOp final : Op {
  explicit SequenceAtOp(const Attrs&) {}
  void value_kinds(const std::vector<ValueKind>& in, std::vector<ValueKind>&) const override {
    check_seq_inputs("SequenceAt", in, 1);
  }
  void infer(InferCtx& ctx) const override {
    const Value& s = seq_arg(ctx.seq(0), "SequenceAt");
    int64_t p = position_of(ctx.value(1, "SequenceAt position"),
                            static_cast<int64_t>(s.items.size()), 0, "SequenceAt");
    ctx.set_output(0, s.items[p].shape(), s.items[p].dtype());
  }
};

void sequence_at_naive(const SequenceAtOp&, const KernCtx& ctx) {
  const Value& s = *ctx.seq(0);
  int64_t p = position_of(ctx.input(1), static_cast<int64_t>(s.items.size()), 0, "SequenceAt");
  ctx.output(0).copy_from(s.items[p]);
}

// ---------------------------------------------------------------- SequenceErase
struct SequenceEraseOp final : Op {
  explicit SequenceEraseOp(const Attrs&) {}
  void value_kinds(const std::vector<ValueKind>& in, std::vector<ValueKind>& out) const override {
    check_seq_inputs("SequenceErase", in, 1);
    out[0] = ValueKind::kSequence;
  }
  void infer(InferCtx& ctx) const override {
    const Value& s = seq_arg(ctx.seq(0), "SequenceErase");
    LR_CHECK(!s.items.empty(), ModelError, "SequenceErase: the sequence is empty");
    if (ctx.has(1))
      position_of(ctx.value(1, "SequenceErase position"), static_cast<int64_t>(s.items.size()), 0,
                  "SequenceErase");
  }
};

void sequence_erase_naive(const SequenceEraseOp&, const KernCtx& ctx) {
  const Value& s = *ctx.seq(0);
  int64_t n = static_cast<int64_t>(s.items.size());
  int64_t p = ctx.has(1) ? position_of(ctx.input(1), n, 0, "SequenceErase") : n - 1;
  std::vector<Tensor> items = s.items;
  items.erase(items.begin() + p);
  set_sequence(ctx, s.elem, std::move(items));
}

// ---------------------------------------------------------------- SequenceLength
struct SequenceLengthOp final : Op {
  explicit SequenceLengthOp(const Attrs&) {}
  void value_kinds(const std::vector<ValueKind>& in, std::vector<ValueKind>&) const override {
    check_seq_inputs("SequenceLength", in, 1);
  }
  void infer(InferCtx& ctx) const override { ctx.set_output(0, {}, DType::Int64); }
};

void sequence_length_naive(const SequenceLengthOp&, const KernCtx& ctx) {
  *ctx.output(0).ptr<int64_t>() = static_cast<int64_t>(ctx.seq(0)->items.size());
}

// ---------------------------------------------------------------- ConcatFromSequence
struct ConcatFromSequenceOp final : Op {
  int64_t axis, new_axis;
  explicit ConcatFromSequenceOp(const Attrs& a)
      : axis(a.require_int("axis")), new_axis(a.get_int("new_axis", 0)) {
    LR_CHECK(new_axis == 0 || new_axis == 1, ModelError,
             "ConcatFromSequence: new_axis must be 0 or 1, got ", new_axis);
  }
  std::string param_key() const override { return str_cat(axis, ";", new_axis); }
  void value_kinds(const std::vector<ValueKind>& in, std::vector<ValueKind>&) const override {
    check_seq_inputs("ConcatFromSequence", in, 1);
  }
  // The output shape, and the (normalised) axis.
  Shape out_shape(const Value& s, int64_t* a) const {
    LR_CHECK(!s.items.empty(), ModelError, "ConcatFromSequence: the sequence is empty");
    const Shape& first = s.items[0].shape();
    int64_t rank = static_cast<int64_t>(first.size());
    *a = normalize_axis(axis, rank + new_axis, "ConcatFromSequence axis");
    Shape out = first;
    if (new_axis) out.insert(out.begin() + *a, 0);
    else LR_CHECK(rank >= 1, ModelError, "ConcatFromSequence: cannot concatenate scalars");
    out[*a] = 0;
    for (size_t i = 0; i < s.items.size(); ++i) {
      const Shape& si = s.items[i].shape();
      bool ok = si.size() == first.size() && s.items[i].dtype() == s.items[0].dtype();
      for (size_t d = 0; ok && d < si.size(); ++d)
        ok = (!new_axis && static_cast<int64_t>(d) == *a) || si[d] == first[d];
      LR_CHECK(ok, ModelError, "ConcatFromSequence: tensor ", i, " ",
               s.items[i].layout().str(), " does not fit tensor 0 ", s.items[0].layout().str(),
               new_axis ? " (stacking needs equal shapes)" : "");
      out[*a] += new_axis ? 1 : si[*a];
    }
    return out;
  }
  void infer(InferCtx& ctx) const override {
    const Value& s = seq_arg(ctx.seq(0), "ConcatFromSequence");
    int64_t a;
    Shape out = out_shape(s, &a);
    ctx.set_output(0, out, s.items[0].dtype());
  }
};

void concat_from_sequence_naive(const ConcatFromSequenceOp& op, const KernCtx& ctx) {
  const Value& s = *ctx.seq(0);
  int64_t a;
  op.out_shape(s, &a);
  // Every element is laid out as (outer, its own inner block); the output
  // interleaves the blocks, element after element, for each outer index.
  size_t es = dtype_size(s.items[0].dtype());
  const Shape& first = s.items[0].shape();
  int64_t outer = dims_product(first, 0, static_cast<size_t>(a));
  auto* dst = static_cast<uint8_t*>(ctx.output(0).raw());
  for (int64_t o = 0; o < outer; ++o) {
    for (const Tensor& t : s.items) {
      size_t block = static_cast<size_t>(dims_product(t.shape(), static_cast<size_t>(a), t.ndim())) * es;
      if (block) std::memcpy(dst, static_cast<const uint8_t*>(t.raw()) + o * block, block);
      dst += block;
    }
  }
}

// ---------------------------------------------------------------- SplitToSequence
struct SplitToSequenceOp final : Op {
  int64_t axis, keepdims;
  explicit SplitToSequenceOp(const Attrs& a)
      : axis(a.get_int("axis", 0)), keepdims(a.get_int("keepdims", 1)) {
    LR_CHECK(keepdims == 0 || keepdims == 1, ModelError,
             "SplitToSequence: keepdims must be 0 or 1, got ", keepdims);
  }
  std::string param_key() const override { return str_cat(axis, ";", keepdims); }
  void value_kinds(const std::vector<ValueKind>& in, std::vector<ValueKind>& out) const override {
    check_seq_inputs("SplitToSequence", in, 0);
    out[0] = ValueKind::kSequence;
  }
  // Piece lengths along the (normalised) axis.
  std::vector<int64_t> pieces(const Shape& x, const Tensor* split, int64_t* a) const {
    *a = normalize_axis(axis, static_cast<int64_t>(x.size()), "SplitToSequence axis");
    int64_t dim = x[*a];
    std::vector<int64_t> r;
    if (!split) {
      r.assign(static_cast<size_t>(dim), 1);
      return r;
    }
    LR_CHECK(split->dtype() == DType::Int64 || split->dtype() == DType::Int32, ModelError,
             "SplitToSequence: split must be int32 or int64, got ", dtype_name(split->dtype()));
    if (split->ndim() == 0) {
      int64_t len = split->get_i64(0);
      LR_CHECK(len > 0, ModelError, "SplitToSequence: split must be > 0, got ", len);
      for (int64_t at = 0; at < dim; at += len) r.push_back(std::min(len, dim - at));
      return r;
    }
    LR_CHECK(split->ndim() == 1, ModelError, "SplitToSequence: split must be a scalar or 1-D, got ",
             shape_str(split->shape()));
    r = split->to_i64_vector();
    int64_t sum = 0;
    for (int64_t v : r) {
      LR_CHECK(v >= 0, ModelError, "SplitToSequence: split ", shape_str(r), " has a negative length");
      sum += v;
    }
    LR_CHECK(sum == dim, ModelError, "SplitToSequence: split ", shape_str(r), " sums to ", sum,
             " but axis ", *a, " of ", shape_str(x), " has ", dim);
    return r;
  }
  void infer(InferCtx& ctx) const override {
    int64_t a;
    pieces(ctx.input(0).shape, ctx.has(1) ? &ctx.value(1, "SplitToSequence split") : nullptr, &a);
  }
};

void split_to_sequence_naive(const SplitToSequenceOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  int64_t a;
  std::vector<int64_t> lens = op.pieces(x.shape(), ctx.has(1) ? &ctx.input(1) : nullptr, &a);
  bool drop = !ctx.has(1) && !op.keepdims;
  size_t es = dtype_size(x.dtype());
  int64_t outer = dims_product(x.shape(), 0, static_cast<size_t>(a));
  size_t inner = static_cast<size_t>(dims_product(x.shape(), static_cast<size_t>(a) + 1, x.ndim())) * es;
  size_t row = static_cast<size_t>(x.shape()[a]) * inner;
  std::vector<Tensor> items;
  int64_t start = 0;
  for (int64_t len : lens) {
    Shape s = x.shape();
    s[a] = len;
    if (drop) s.erase(s.begin() + a);
    Tensor t{Layout(s, x.dtype())};
    size_t block = static_cast<size_t>(len) * inner;
    const auto* src = static_cast<const uint8_t*>(x.raw()) + static_cast<size_t>(start) * inner;
    auto* dst = static_cast<uint8_t*>(t.raw());
    for (int64_t o = 0; o < outer && block; ++o) std::memcpy(dst + o * block, src + o * row, block);
    items.push_back(std::move(t));
    start += len;
  }
  set_sequence(ctx, x.dtype(), std::move(items));
}

const auto kEmpty = naive_algo<SequenceEmptyOp>(sequence_empty_naive);
const auto kConstruct = naive_algo<SequenceConstructOp>(sequence_construct_naive);
const auto kInsert = naive_algo<SequenceInsertOp>(sequence_insert_naive);
const auto kAt = naive_algo<SequenceAtOp>(sequence_at_naive);
const auto kErase = naive_algo<SequenceEraseOp>(sequence_erase_naive);
const auto kLength = naive_algo<SequenceLengthOp>(sequence_length_naive);
const auto kConcat = naive_algo<ConcatFromSequenceOp>(concat_from_sequence_naive);
const auto kSplit = naive_algo<SplitToSequenceOp>(split_to_sequence_naive);

}  // namespace

void register_op_SequenceEmpty(OpRegistry& r) {
  register_simple<SequenceEmptyOp>(r, "SequenceEmpty", {&kEmpty}, 0, 0);
}
void register_op_SequenceConstruct(OpRegistry& r) {
  register_simple<SequenceConstructOp>(r, "SequenceConstruct", {&kConstruct}, 1);
}
void register_op_SequenceInsert(OpRegistry& r) {
  register_simple<SequenceInsertOp>(r, "SequenceInsert", {&kInsert}, 2, 3);
}
void register_op_SequenceAt(OpRegistry& r) {
  register_simple<SequenceAtOp>(r, "SequenceAt", {&kAt}, 2, 2);
}
void register_op_SequenceErase(OpRegistry& r) {
  register_simple<SequenceEraseOp>(r, "SequenceErase", {&kErase}, 1, 2);
}
void register_op_SequenceLength(OpRegistry& r) {
  register_simple<SequenceLengthOp>(r, "SequenceLength", {&kLength}, 1, 1);
}
void register_op_ConcatFromSequence(OpRegistry& r) {
  register_simple<ConcatFromSequenceOp>(r, "ConcatFromSequence", {&kConcat}, 1, 1);
}
void register_op_SplitToSequence(OpRegistry& r) {
  register_simple<SplitToSequenceOp>(r, "SplitToSequence", {&kSplit}, 1, 2);
}

}  // namespace loadrun
