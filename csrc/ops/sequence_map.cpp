// SequenceMap (opset 17): runs the `body` subgraph once per position i of
// the input sequence, feeding the i-th tensor of every sequence input (they
// must all have the same length) and every tensor input as it is; output j
// is the sequence of the body's j-th outputs, one per position.
//   inputs  input_sequence, then additional inputs (sequences or tensors),
//           then the body's captures (see subgraph.h)
// An empty input sequence gives empty outputs (of float32 elements: the body
// never ran to give their type).
// NAIVE: one run of the body's nested network per position; its inputs are
// copied in and its outputs kept. Cost: the body's times the length.
#include "ops/common.h"
#include "ops/subgraph.h"

namespace loadrun {

namespace {

struct SequenceMapOp final : Op {
  explicit SequenceMapOp(const Attrs& a)
      : body(std::make_unique<SubGraph>(a.require_graph("body"), "body")),
        captures(num_captures(a)) {}

  void value_kinds(const std::vector<ValueKind>& in, std::vector<ValueKind>& out) const override {
    LR_CHECK(body->num_inputs() == in.size(), ModelError, "SequenceMap: the body has ",
             body->num_inputs(), " inputs, the node passes ", in.size(), " (with ", captures,
             " captured)");
    LR_CHECK(body->num_outputs() == out.size(), ModelError, "SequenceMap: the body has ",
             body->num_outputs(), " outputs, the node ", out.size());
    LR_CHECK(!in.empty() && in[0] == ValueKind::kSequence, ModelError,
             "SequenceMap: input 0 must be a sequence");
    for (size_t i = 0; i + captures < in.size(); ++i)
      LR_CHECK(in[i] == ValueKind::kSequence || in[i] == ValueKind::kTensor, ModelError,
               "SequenceMap: input ", i, " must be a sequence or a tensor, got a ",
               value_kind_name(in[i]));
    for (size_t o = 0; o < out.size(); ++o) {
      LR_CHECK(body->output_kind(o) == ValueKind::kTensor, UnsupportedError,
               "SequenceMap: body output ", o, " is a ", value_kind_name(body->output_kind(o)),
               "; only tensors are collected");
      out[o] = ValueKind::kSequence;
    }
  }
  void infer(InferCtx&) const override {}  // sequences only

  std::unique_ptr<SubGraph> body;
  int64_t captures;
};

void sequence_map_naive(const SequenceMapOp& op, const KernCtx& ctx) {
  std::vector<Value> feeds = feeds_of(ctx, 0);
  size_t n_mapped = feeds.size() - static_cast<size_t>(op.captures);
  size_t len = feeds[0].items.size();
  std::vector<bool> is_seq(n_mapped);
  for (size_t j = 0; j < n_mapped; ++j) {
    is_seq[j] = feeds[j].kind == ValueKind::kSequence;
    LR_CHECK(!is_seq[j] || feeds[j].items.size() == len, ModelError, "SequenceMap: sequence input ",
             j, " has ", feeds[j].items.size(), " tensors, input 0 has ", len);
  }
  std::vector<Value> seqs = feeds;  // the sequences, while their positions are fed
  std::vector<std::vector<Tensor>> outs(ctx.out.size());
  std::vector<DType> elems(ctx.out.size(), DType::Float32);
  for (size_t i = 0; i < len; ++i) {
    for (size_t j = 0; j < n_mapped; ++j)
      if (is_seq[j]) feeds[j] = Value::of_tensor(seqs[j].items[i]);
    std::vector<Value> r = op.body->run_values(ctx.runtime, feeds);
    for (size_t o = 0; o < r.size(); ++o) {
      outs[o].push_back(r[o].tensor);  // a copy the body's network made, owned
      elems[o] = r[o].tensor.dtype();
    }
  }
  for (size_t o = 0; o < ctx.out.size(); ++o) {
    Value* y = ctx.seq_output(o);
    y->elem = elems[o];
    y->items = std::move(outs[o]);
    y->present = true;
  }
}

const auto kNaive = naive_algo<SequenceMapOp>(sequence_map_naive);

}  // namespace

void register_op_SequenceMap(OpRegistry& r) {
  register_simple<SequenceMapOp>(r, "SequenceMap", {&kNaive}, 1);
}

}  // namespace loadrun
