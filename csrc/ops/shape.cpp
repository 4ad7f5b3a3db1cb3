// Shape (opset 15 start/end) and Size: values that follow from the input's
// shape alone, so compile evaluates them and what reads them folds too.
#include "ops/common.h"

namespace loadrun {

namespace {

struct ShapeOp final : Op {
  int64_t start, end;
  bool has_end;
  explicit ShapeOp(const Attrs& a)
      : start(a.get_int("start", 0)), end(a.get_int("end", 0)), has_end(a.has("end")) {}
  bool shape_only() const override { return true; }
  std::string param_key() const override { return str_cat(start, ";", has_end ? end : INT64_MAX); }
  void range(int64_t rank, int64_t* b, int64_t* e) const {
    auto clampi = [rank](int64_t v) {
      if (v < 0) v += rank;
      return v < 0 ? 0 : (v > rank ? rank : v);
    };
    *b = clampi(start);
    *e = has_end ? clampi(end) : rank;
    if (*e < *b) *e = *b;
  }
  void infer(InferCtx& ctx) const override {
    int64_t b, e;
    range(static_cast<int64_t>(ctx.input(0).ndim()), &b, &e);
    ctx.set_output(0, {e - b}, DType::Int64);
  }
};

void shape_naive(const ShapeOp& op, const KernCtx& ctx) {
  const Shape& s = ctx.input(0).shape();
  int64_t b, e;
  op.range(static_cast<int64_t>(s.size()), &b, &e);
  int64_t* y = ctx.output(0).ptr<int64_t>();
  for (int64_t i = b; i < e; ++i) y[i - b] = s[i];
}

struct SizeOp final : Op {
  explicit SizeOp(const Attrs&) {}
  bool shape_only() const override { return true; }
  void infer(InferCtx& ctx) const override {
    ctx.input(0);
    ctx.set_output(0, {}, DType::Int64);
  }
};

void size_naive(const SizeOp&, const KernCtx& ctx) {
  *ctx.output(0).ptr<int64_t>() = ctx.input(0).numel();
}

const auto kShapeNaive = naive_algo<ShapeOp>(shape_naive);
const auto kSizeNaive = naive_algo<SizeOp>(size_naive);

}  // namespace

void register_op_Shape(OpRegistry& r) { register_simple<ShapeOp>(r, "Shape", {&kShapeNaive}, 1, 1); }
void register_op_Size(OpRegistry& r) { register_simple<SizeOp>(r, "Size", {&kSizeNaive}, 1, 1); }

}  // namespace loadrun
