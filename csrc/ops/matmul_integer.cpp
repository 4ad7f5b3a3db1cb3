// MatMulInteger and QLinearMatMul (ONNX): MatMul (NumPy matmul semantics:
// batch dims broadcast, 1-D operands promoted and the added dim dropped) on
// int8 / uint8 operands with their zero points subtracted, accumulated in
// 32 bits (wrapping).
//   MatMulInteger: Y (int32) = (A - a_zero_point) x (B - b_zero_point); a
//   zero point is one value, one per row of A (M values, or one per batch
//   and row) or one per column of B (N values, or one per batch and column).
//   QLinearMatMul: Y = saturate(round_half_even(acc * a_scale * b_scale /
//   y_scale) + y_zero_point) in y_zero_point's type; a_scale / a_zero_point
//   per tensor or per row of A, b_scale / b_zero_point per tensor or per
//   column of B, y's per tensor. The multiplier a_scale * b_scale / y_scale is
//   computed in the scales' type (float32, or float16 / bfloat16 rounding
//   after each operation), then acc * multiplier + y_zero_point in double,
//   as onnx's reference does. float8 operands are not supported.
// NAIVE: per output batch and element, a dot product over K reading A and B
// through broadcast batch offsets. O(batch*M*N*K), no workspace.
#include <algorithm>
#include <cmath>

#include "ops/common.h"

namespace loadrun {

namespace {

struct Geo {
  Shape batch, a_batch, b_batch, out;
  int64_t m, k, n;
};

Geo geometry(const char* op, const Shape& a, const Shape& b) {
  LR_CHECK(!a.empty() && !b.empty(), ModelError, op, " operands must be at least 1-D, got ",
           shape_str(a), " and ", shape_str(b));
  Geo g;
  Shape a2 = a, b2 = b;
  if (a.size() == 1) a2.insert(a2.begin(), 1);
  if (b.size() == 1) b2.push_back(1);
  g.m = a2[a2.size() - 2];
  g.k = a2.back();
  g.n = b2.back();
  int64_t kb = b2[b2.size() - 2];
  LR_CHECK(g.k == kb, ModelError, op, " inner dims differ: A ", shape_str(a), " has K=", g.k,
           ", B ", shape_str(b), " has K=", kb);
  g.a_batch.assign(a2.begin(), a2.end() - 2);
  g.b_batch.assign(b2.begin(), b2.end() - 2);
  g.batch = broadcast_shapes({g.a_batch, g.b_batch});
  g.out = g.batch;
  if (a.size() != 1) g.out.push_back(g.m);
  if (b.size() != 1) g.out.push_back(g.n);
  return g;
}

bool is_q8(DType dt) { return dt == DType::Int8 || dt == DType::Uint8; }

// How a per-tensor / per-row / per-column parameter (zero point, scale) of
// one operand is indexed: `len` values over `rows` rows of the operand's
// batches (rows = M for A, N for B).
struct PerRow {
  int64_t len = 1;     // 1, rows, or batch * rows
  int64_t rows = 1;
  int64_t at(int64_t batch_index, int64_t row) const {
    if (len == 1) return 0;
    if (len == rows) return row;
    return batch_index * rows + row;
  }
};

PerRow per_row(const char* op, const char* what, const Layout& p, int64_t rows, const Shape& batch) {
  PerRow r;
  r.rows = rows;
  r.len = p.numel();
  LR_CHECK(r.len == 1 || r.len == rows || r.len == shape_numel(batch) * rows, ModelError, op, ": ",
           what, " of shape ", shape_str(p.shape), " is neither one value nor one per ",
           rows, " rows/columns");
  return r;
}

// acc[bb][i][j] = sum_k (A - azp(i)) * (B - bzp(j)) in int32 (wrapping).
// `fn(bb, i, j, acc)` receives each output element.
template <typename Fn>
void int_matmul(const Geo& g, const Tensor& at, const Tensor& bt, const Tensor* azp_t,
                const Tensor* bzp_t, const PerRow& azp_map, const PerRow& bzp_map, Fn fn) {
  BroadcastIndexer bi(g.batch, {g.a_batch, g.b_batch});
  const int64_t m = g.m, k = g.k, n = g.n;
  for (int64_t bb = 0; bb < bi.numel(); ++bb) {
    int64_t ab = bi.offset(0, bb), bbb = bi.offset(1, bb);
    for (int64_t i = 0; i < m; ++i) {
      int64_t azp = azp_t ? azp_t->get_i64(azp_map.at(ab, i)) : 0;
      for (int64_t j = 0; j < n; ++j) {
        int64_t bzp = bzp_t ? bzp_t->get_i64(bzp_map.at(bbb, j)) : 0;
        uint32_t acc = 0;
        for (int64_t kk = 0; kk < k; ++kk) {
          int64_t av = at.get_i64((ab * m + i) * k + kk) - azp;
          int64_t bv = bt.get_i64((bbb * k + kk) * n + j) - bzp;
          acc += static_cast<uint32_t>(av * bv);
        }
        fn(bb, i, j, static_cast<int32_t>(acc), ab, bbb);
      }
    }
  }
}

// ---------------------------------------------------------------- MatMulInteger
struct MatMulIntegerOp final : Op {
  explicit MatMulIntegerOp(const Attrs&) {}
  void infer(InferCtx& ctx) const override {
    const Layout& a = ctx.input(0);
    const Layout& b = ctx.input(1);
    LR_CHECK(is_q8(a.dtype) && is_q8(b.dtype), UnsupportedError, "MatMulInteger on ",
             dtype_name(a.dtype), " x ", dtype_name(b.dtype), ": supported are int8 and uint8");
    Geo g = geometry("MatMulInteger", a.shape, b.shape);
    if (ctx.has(2)) {
      LR_CHECK(ctx.input(2).dtype == a.dtype, ModelError, "MatMulInteger: a_zero_point is ",
               dtype_name(ctx.input(2).dtype), " but A is ", dtype_name(a.dtype));
      per_row("MatMulInteger", "a_zero_point", ctx.input(2), g.m, g.a_batch);
    }
    if (ctx.has(3)) {
      LR_CHECK(ctx.input(3).dtype == b.dtype, ModelError, "MatMulInteger: b_zero_point is ",
               dtype_name(ctx.input(3).dtype), " but B is ", dtype_name(b.dtype));
      per_row("MatMulInteger", "b_zero_point", ctx.input(3), g.n, g.b_batch);
    }
    ctx.set_output(0, g.out, DType::Int32);
  }
};

void matmul_integer_naive(const MatMulIntegerOp&, const KernCtx& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  Geo g = geometry("MatMulInteger", a.shape(), b.shape());
  const Tensor* azp = ctx.has(2) ? &ctx.input(2) : nullptr;
  const Tensor* bzp = ctx.has(3) ? &ctx.input(3) : nullptr;
  PerRow am = azp ? per_row("MatMulInteger", "a_zero_point", azp->layout(), g.m, g.a_batch) : PerRow{};
  PerRow bm = bzp ? per_row("MatMulInteger", "b_zero_point", bzp->layout(), g.n, g.b_batch) : PerRow{};
  int32_t* y = ctx.output(0).ptr<int32_t>();
  int_matmul(g, a, b, azp, bzp, am, bm, [&](int64_t bb, int64_t i, int64_t j, int32_t acc, int64_t, int64_t) {
    y[(bb * g.m + i) * g.n + j] = acc;
  });
}

// ---------------------------------------------------------------- QLinearMatMul
bool is_scale_type(DType dt) {
  return dt == DType::Float32 || dt == DType::Float16 || dt == DType::BFloat16;
}

// v rounded to dt's precision (float16 / bfloat16), else v.
float round_to(DType dt, float v) {
  if (dt == DType::Float16) return half_to_float(float_to_half(v));
  if (dt == DType::BFloat16) return static_cast<float>(lowp_to_double(dt, lowp_from_double(dt, v, false)));
  return v;
}

void int_range(DType dt, int64_t* lo, int64_t* hi) {
  if (dt == DType::Int8) {
    *lo = -128;
    *hi = 127;
  } else {
    *lo = 0;
    *hi = 255;
  }
}

struct QLinearMatMulOp final : Op {
  explicit QLinearMatMulOp(const Attrs&) {}
  void infer(InferCtx& ctx) const override {
    const Layout& a = ctx.input(0);
    const Layout& b = ctx.input(3);
    const Layout& yzp = ctx.input(7);
    LR_CHECK(is_q8(a.dtype) && is_q8(b.dtype) && is_q8(yzp.dtype), UnsupportedError,
             "QLinearMatMul on ", dtype_name(a.dtype), " x ", dtype_name(b.dtype), " -> ",
             dtype_name(yzp.dtype), ": supported are int8 and uint8");
    Geo g = geometry("QLinearMatMul", a.shape, b.shape);
    DType st = ctx.input(1).dtype;
    for (int i : {1, 4, 6}) {
      LR_CHECK(is_scale_type(ctx.input(i).dtype), ModelError, "QLinearMatMul: scale (input ", i,
               ") of dtype ", dtype_name(ctx.input(i).dtype), " is not float32, float16 or bfloat16");
      LR_CHECK(ctx.input(i).dtype == st, ModelError, "QLinearMatMul: the scales' dtypes differ");
    }
    LR_CHECK(ctx.input(2).dtype == a.dtype && ctx.input(5).dtype == b.dtype, ModelError,
             "QLinearMatMul: zero points must have their operand's dtype");
    per_row("QLinearMatMul", "a_scale", ctx.input(1), g.m, g.a_batch);
    per_row("QLinearMatMul", "a_zero_point", ctx.input(2), g.m, g.a_batch);
    per_row("QLinearMatMul", "b_scale", ctx.input(4), g.n, g.b_batch);
    per_row("QLinearMatMul", "b_zero_point", ctx.input(5), g.n, g.b_batch);
    LR_CHECK(ctx.input(6).numel() == 1 && yzp.numel() == 1, UnsupportedError,
             "QLinearMatMul: y_scale and y_zero_point must be single values");
    ctx.set_output(0, g.out, yzp.dtype);
  }
};

void qlinear_matmul_naive(const QLinearMatMulOp&, const KernCtx& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(3);
  const Tensor& as = ctx.input(1);
  const Tensor& bs = ctx.input(4);
  Tensor& y = ctx.output(0);
  Geo g = geometry("QLinearMatMul", a.shape(), b.shape());
  PerRow asm_ = per_row("QLinearMatMul", "a_scale", as.layout(), g.m, g.a_batch);
  PerRow azm = per_row("QLinearMatMul", "a_zero_point", ctx.input(2).layout(), g.m, g.a_batch);
  PerRow bsm = per_row("QLinearMatMul", "b_scale", bs.layout(), g.n, g.b_batch);
  PerRow bzm = per_row("QLinearMatMul", "b_zero_point", ctx.input(5).layout(), g.n, g.b_batch);
  const DType st = as.dtype();
  const float ys = static_cast<float>(ctx.input(6).get_f64(0));
  const double yzp = static_cast<double>(ctx.input(7).get_i64(0));
  int64_t lo, hi;
  int_range(y.dtype(), &lo, &hi);
  // A zero point per row and B's per column: int_matmul reads them by the
  // same maps as the scales (checked separately above).
  int_matmul(g, a, b, &ctx.input(2), &ctx.input(5), azm, bzm,
             [&](int64_t bb, int64_t i, int64_t j, int32_t acc, int64_t ab, int64_t bbb) {
               float sa = static_cast<float>(as.get_f64(asm_.at(ab, i)));
               float sb = static_cast<float>(bs.get_f64(bsm.at(bbb, j)));
               float mult = round_to(st, round_to(st, sa * sb) / ys);
               double v = std::nearbyint(static_cast<double>(acc) * mult + yzp);
               v = std::clamp(v, static_cast<double>(lo), static_cast<double>(hi));
               int64_t o = (bb * g.m + i) * g.n + j;
               if (y.dtype() == DType::Int8) {
                 y.ptr<int8_t>()[o] = static_cast<int8_t>(v);
               } else {
                 y.ptr<uint8_t>()[o] = static_cast<uint8_t>(v);
               }
             });
}

const auto kMatMulIntegerNaive = naive_algo<MatMulIntegerOp>(matmul_integer_naive);
const auto kQLinearMatMulNaive = naive_algo<QLinearMatMulOp>(qlinear_matmul_naive);

}  // namespace

void register_op_MatMulInteger(OpRegistry& r) {
  register_simple<MatMulIntegerOp>(r, "MatMulInteger", {&kMatMulIntegerNaive}, 2, 4);
}
void register_op_QLinearMatMul(OpRegistry& r) {
  register_simple<QLinearMatMulOp>(r, "QLinearMatMul", {&kQLinearMatMulNaive}, 8, 8);
}

}  // namespace loadrun
