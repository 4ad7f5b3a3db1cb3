// ReverseSequence(input, sequence_lens; batch_axis, time_axis): for each
// batch entry b, the first sequence_lens[b] steps along the time axis are
// reversed and the rest are copied. batch_axis and time_axis are 0 and 1 in
// either order (defaults: batch 1, time 0); input has rank >= 2, and
// sequence_lens is int64 (int32 accepted) with one length per batch entry,
// each in [0, time steps] (else a ModelError). Any dtype: elements are moved
// by size.
// NAIVE: for each (batch, step), memcpy the contiguous block of the trailing
// dims from the step it mirrors. O(n), no workspace.
#include <cstring>

#include "ops/common.h"
#include "ops/indexing.h"

namespace loadrun {

namespace {

struct ReverseSequenceOp final : Op {
  int64_t batch_axis, time_axis;
  explicit ReverseSequenceOp(const Attrs& a)
      : batch_axis(a.get_int("batch_axis", 1)), time_axis(a.get_int("time_axis", 0)) {
    LR_CHECK((batch_axis == 0 && time_axis == 1) || (batch_axis == 1 && time_axis == 0), ModelError,
             "batch_axis and time_axis must be 0 and 1 in either order, got batch_axis ", batch_axis,
             " and time_axis ", time_axis);
  }
  std::string param_key() const override { return std::to_string(batch_axis); }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& sl = ctx.input(1);
    LR_CHECK(x.ndim() >= 2, ModelError, "input must have rank >= 2, got shape ", shape_str(x.shape));
    LR_CHECK(is_index_dtype(sl.dtype), ModelError, "sequence_lens must be int64, got ",
             dtype_name(sl.dtype));
    int64_t batch = x.shape[static_cast<size_t>(batch_axis)];
    LR_CHECK(sl.ndim() == 1 && sl.shape[0] == batch, ModelError, "sequence_lens ", shape_str(sl.shape),
             " must have shape {", batch, "} (the batch size of input ", shape_str(x.shape), ")");
    ctx.set_output(0, x.shape, x.dtype);
  }
};

void reverse_sequence_naive(const ReverseSequenceOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& sl = ctx.input(1);
  Tensor& y = ctx.output(0);
  const Shape& s = x.shape();
  int64_t batch = s[static_cast<size_t>(op.batch_axis)], steps = s[static_cast<size_t>(op.time_axis)];
  int64_t inner = dims_product(s, 2, s.size());
  // Element strides of one batch entry and one time step.
  int64_t bstride = op.batch_axis == 0 ? steps * inner : inner;
  int64_t tstride = op.time_axis == 0 ? batch * inner : inner;
  for (int64_t b = 0; b < batch; ++b) {
    int64_t len = index_at(sl, b);
    LR_CHECK(len >= 0 && len <= steps, ModelError, "sequence_lens[", b, "] = ", len,
             " is out of range (valid: 0..", steps, ")");
  }
  size_t es = dtype_size(x.dtype());
  size_t block = static_cast<size_t>(inner) * es;
  const uint8_t* src = static_cast<const uint8_t*>(x.raw());
  uint8_t* dst = static_cast<uint8_t*>(y.raw());
  if (!block) return;
  for (int64_t b = 0; b < batch; ++b) {
    int64_t len = index_at(sl, b);
    for (int64_t t = 0; t < steps; ++t) {
      int64_t from = t < len ? len - 1 - t : t;
      std::memcpy(dst + (b * bstride + t * tstride) * es, src + (b * bstride + from * tstride) * es, block);
    }
  }
}

const auto kNaive = naive_algo<ReverseSequenceOp>(reverse_sequence_naive);

}  // namespace

void register_op_ReverseSequence(OpRegistry& r) {
  register_simple<ReverseSequenceOp>(r, "ReverseSequence", {&kNaive}, 2, 2);
}

}  // namespace loadrun
