// Classification losses (ONNX): NegativeLogLikelihoodLoss and
// SoftmaxCrossEntropyLoss. Input X is (N, C, d1..dk), the integer target
// (int32/int64) is (N, d1..dk), the optional weight is (C).
//   NLL:  loss[n, d] = -X[n, t, d] * w[t] with t = target[n, d] (w = 1 when
//         absent); a target equal to ignore_index gives 0 and weighs 0.
//   SCE:  log_prob = LogSoftmax(scores, axis 1), then NLL on log_prob; the
//         optional second output is log_prob itself.
// reduction: none (loss per element), sum, or mean = sum / (sum of the
// weights of the elements not ignored); sum and mean give a scalar.
// A target outside [0, C) that is not ignore_index is an InputError.
// float16 computes in float32; float32/float64 accumulate in double.
// NAIVE: one pass over the (N, d) positions; SCE first writes log_prob with a
// max pass, an exp-sum pass and a writing pass along C per position.
// O(N * C * d), SCE keeps log_prob (the output or a scratch tensor).
#include <cmath>
#include <limits>

#include "ops/common.h"

namespace loadrun {

namespace {

enum class Reduction { None, Sum, Mean };

struct LossOp final : Op {
  bool softmax;  // SoftmaxCrossEntropyLoss
  Reduction reduction;
  bool has_ignore;
  int64_t ignore_index;
  LossOp(bool sm, const Attrs& a)
      : softmax(sm), has_ignore(a.has("ignore_index")), ignore_index(a.get_int("ignore_index", 0)) {
    std::string r = a.get_string("reduction", "mean");
    if (r == "none") reduction = Reduction::None;
    else if (r == "sum") reduction = Reduction::Sum;
    else if (r == "mean") reduction = Reduction::Mean;
    else LR_THROW(ModelError, "reduction must be none, sum or mean, got '", r, "'");
  }
  const char* name() const {
    return softmax ? "SoftmaxCrossEntropyLoss" : "NegativeLogLikelihoodLoss";
  }
  std::string param_key() const override {
    return str_cat(softmax, ";", static_cast<int>(reduction), ";", has_ignore, ";", ignore_index);
  }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& t = ctx.input(1);
    LR_CHECK(dtype_is_compute_float(x.dtype),
             UnsupportedError, name(), " on ", dtype_name(x.dtype),
             ": supported are float16, bfloat16, float32, float64");
    LR_CHECK(t.dtype == DType::Int32 || t.dtype == DType::Int64, ModelError, name(),
             ": target must be int32 or int64, got ", dtype_name(t.dtype));
    LR_CHECK(x.ndim() >= 2, ModelError, name(), ": input must be (N, C, d1..dk), got ",
             shape_str(x.shape));
    Shape ts = x.shape;
    ts.erase(ts.begin() + 1);
    LR_CHECK(t.shape == ts, ModelError, name(), ": target shape ", shape_str(t.shape),
             " does not match input ", shape_str(x.shape), " (expected ", shape_str(ts), ")");
    if (ctx.has(2)) {
      const Layout& w = ctx.input(2);
      LR_CHECK(w.ndim() == 1 && w.shape[0] == x.shape[1] && w.dtype == x.dtype, ModelError,
               name(), ": weight must be (C) = {", x.shape[1], "} of ", dtype_name(x.dtype),
               ", got ", w.str());
    }
    LR_CHECK(ctx.out.size() <= (softmax ? 2u : 1u), ModelError, name(), " has at most ",
             softmax ? 2 : 1, " outputs, got ", ctx.out.size());
    ctx.set_output(0, reduction == Reduction::None ? ts : Shape{}, x.dtype);
    if (ctx.out.size() > 1) ctx.set_output(1, x.shape, x.dtype);
  }
};

template <typename T>
void loss_t(const LossOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const Shape& xs = xt.shape();
  const int64_t n = xs[0], c = xs[1], inner = dims_product(xs, 2, xs.size());
  const T* x = xt.ptr<T>();
  const T* w = ctx.has(2) ? ctx.input(2).ptr<T>() : nullptr;
  const Tensor& tt = ctx.input(1);

  // SCE: log_prob into output 1 or a scratch tensor.
  Tensor scratch;
  if (op.softmax) {
    T* lp;
    if (ctx.out.size() > 1 && ctx.out[1]) {
      lp = ctx.output(1).ptr<T>();
    } else {
      scratch = Tensor(Layout(xs, xt.dtype()));
      lp = scratch.ptr<T>();
    }
    for (int64_t b = 0; b < n; ++b) {
      for (int64_t i = 0; i < inner; ++i) {
        const T* xp = x + b * c * inner + i;
        T* lpp = lp + b * c * inner + i;
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t k = 0; k < c; ++k) mx = std::max(mx, static_cast<double>(xp[k * inner]));
        double sum = 0;
        for (int64_t k = 0; k < c; ++k) sum += std::exp(static_cast<double>(xp[k * inner]) - mx);
        double lse = mx + std::log(sum);
        for (int64_t k = 0; k < c; ++k)
          lpp[k * inner] = static_cast<T>(static_cast<double>(xp[k * inner]) - lse);
      }
    }
    x = lp;
  }

  Tensor& yt = ctx.output(0);
  T* y = yt.ptr<T>();
  double total = 0, wsum = 0;
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t i = 0; i < inner; ++i) {
      int64_t pos = b * inner + i;
      int64_t t = tt.get_i64(pos);
      double l = 0, wt = 0;
      if (!(op.has_ignore && t == op.ignore_index)) {
        LR_CHECK(t >= 0 && t < c, InputError, op.name(), ": target ", t, " at position ", pos,
                 " is outside [0, ", c, ")");
        wt = w ? static_cast<double>(w[t]) : 1.0;
        l = -static_cast<double>(x[(b * c + t) * inner + i]) * wt;
      }
      if (op.reduction == Reduction::None) y[pos] = static_cast<T>(l);
      total += l;
      wsum += wt;
    }
  }
  if (op.reduction == Reduction::Sum) y[0] = static_cast<T>(total);
  if (op.reduction == Reduction::Mean) y[0] = static_cast<T>(total / wsum);
}

void loss_naive(const LossOp& op, const KernCtx& ctx) {
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    LR_DISPATCH_FLOAT(c.input(0).dtype(), op.name(), loss_t<T>(op, c));
  });
}

const auto kNaive = naive_algo<LossOp>(loss_naive);

void reg(OpRegistry& r, bool softmax) {
  OpDef d;
  d.type = softmax ? "SoftmaxCrossEntropyLoss" : "NegativeLogLikelihoodLoss";
  d.create = [softmax](const Attrs& a) -> std::unique_ptr<Op> {
    return std::make_unique<LossOp>(softmax, a);
  };
  d.algos = {&kNaive};
  d.min_inputs = 2;
  d.max_inputs = 3;
  r.add(std::move(d));
}

}  // namespace

void register_op_NegativeLogLikelihoodLoss(OpRegistry& r) { reg(r, false); }
void register_op_SoftmaxCrossEntropyLoss(OpRegistry& r) { reg(r, true); }

}  // namespace loadrun
