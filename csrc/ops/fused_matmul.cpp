// FusedMatMul (domain "loadrun", made by passes/fuse_matmul_bias.cpp):
//   Y = act(A W + bias [+ R])
// A (..., K) float32 (a 1-D A is one row and Y is then (N)), W a (K, N)
// float32 matrix, bias (N) float32, `activation` one of kernels/activation.h's
// names (Relu, LeakyRelu, Sigmoid, Tanh, Gelu, GeluTanh, HardSwish, Swish;
// absent: none) with its `activation_params`; R, the optional residual
// (input 3, float32), is added as an Add would: it broadcasts, and Y has
// the broadcast shape. It is MatMul + Add [+ Add] + activation with the
// result written once.
// NAIVE: for each row of A, the dot products in float (as MatMul's NAIVE),
// plus the bias, then the residual (through broadcast offsets), then the
// scalar activation. O(rows*K*N), a copy of the product.
// SGEMM (R absent or of the product's shape): the rows of A as one
// (rows x K) by (K x N) product through kernels/sgemm.h with the bias (per
// column), the residual and the activation in its
// epilogue (GELU applied by the elementwise kernel right after each block
// of rows instead: cheaper); the rows split over the comp node's threads. W is
// packed once by preprocess (weight preprocess), else into the workspace
// per run before the split; one-row (GEMV) products read W as it is.
#include <algorithm>

#include "kernels/kernel_table.h"
#include "kernels/sgemm.h"
#include "kernels/sgemm_weights.h"
#include "ops/common.h"
#include "runtime/comp_node.h"

namespace loadrun {

namespace {

struct FusedMatMulOp final : Op {
  kernels::Act act = kernels::Act::kNone;
  std::string act_name;
  float p0 = 0.f, p1 = 0.f;
  explicit FusedMatMulOp(const Attrs& a) {
    act_name = a.get_string("activation", "");
    if (!act_name.empty())
      LR_CHECK(kernels::act_named(act_name.c_str(), &act), ModelError,
               "FusedMatMul: unknown activation \"", act_name, "\"");
    std::vector<double> p = a.get_floats("activation_params");
    LR_CHECK(static_cast<int>(p.size()) == (act_name.empty() ? 0 : kernels::act_param_count(act)),
             ModelError, "FusedMatMul: activation ", act_name, " takes ",
             kernels::act_param_count(act), " parameters, got ", p.size());
    if (p.size() > 0) p0 = static_cast<float>(p[0]);
    if (p.size() > 1) p1 = static_cast<float>(p[1]);
  }
  std::string param_key() const override { return str_cat(act_name, ";", p0, ";", p1); }
  void infer(InferCtx& ctx) const override {
    const Layout& a = ctx.input(0);
    const Layout& w = ctx.input(1);
    const Layout& b = ctx.input(2);
    LR_CHECK(a.dtype == DType::Float32 && w.dtype == DType::Float32 && b.dtype == DType::Float32,
             UnsupportedError, "FusedMatMul takes float32 only, got ", dtype_name(a.dtype), ", ",
             dtype_name(w.dtype), ", ", dtype_name(b.dtype));
    LR_CHECK(a.ndim() >= 1 && w.ndim() == 2, ModelError, "FusedMatMul: A ", shape_str(a.shape),
             " and W ", shape_str(w.shape), " (W must be 2-D)");
    LR_CHECK(a.shape.back() == w.shape[0], ModelError, "FusedMatMul inner dims differ: A ",
             shape_str(a.shape), ", W ", shape_str(w.shape));
    LR_CHECK(b.shape == Shape{w.shape[1]}, ModelError, "FusedMatMul: bias ", shape_str(b.shape),
             " is not (", w.shape[1], ")");
    Shape out(a.shape.begin(), a.shape.end() - 1);
    out.push_back(w.shape[1]);
    if (ctx.has(3)) {
      const Layout& r = ctx.input(3);
      LR_CHECK(r.dtype == DType::Float32, ModelError, "FusedMatMul: residual is ",
               dtype_name(r.dtype), ", not float32");
      out = broadcast_shapes({out, r.shape});
    }
    ctx.set_output(0, out, DType::Float32);
  }
  kernels::Epilogue epilogue(const float* bias) const {
    kernels::Epilogue ep;
    ep.bias = bias;
    ep.bias_mode = kernels::Epilogue::kPerCol;
    ep.act = act;
    ep.p0 = p0;
    ep.p1 = p1;
    return ep;
  }
};

void fused_matmul_naive(const FusedMatMulOp& op, const KernCtx& ctx) {
  const Tensor& at = ctx.input(0);
  const int64_t k = ctx.input(1).shape()[0], n = ctx.input(1).shape()[1];
  const int64_t rows = k ? at.numel() / k : shape_numel(Shape(at.shape().begin(), at.shape().end() - 1));
  const float* a = at.ptr<float>();
  const float* w = ctx.input(1).ptr<float>();
  const float* bias = ctx.input(2).ptr<float>();
  Shape mm_shape(at.shape().begin(), at.shape().end() - 1);
  mm_shape.push_back(n);
  std::vector<float> mm(static_cast<size_t>(rows * n));
  for (int64_t i = 0; i < rows; ++i) {
    float* yr = mm.data() + i * n;
    for (int64_t j = 0; j < n; ++j) yr[j] = 0.f;
    for (int64_t kk = 0; kk < k; ++kk) {
      const float av = a[i * k + kk];
      for (int64_t j = 0; j < n; ++j) yr[j] += av * w[kk * n + j];
    }
    for (int64_t j = 0; j < n; ++j) yr[j] += bias[j];
  }
  Tensor& yt = ctx.output(0);
  float* y = yt.ptr<float>();
  kernels::Epilogue ep = op.epilogue(bias);
  const float* res = ctx.has(3) ? ctx.input(3).ptr<float>() : nullptr;
  std::vector<Shape> ins{mm_shape};
  if (res) ins.push_back(ctx.input(3).shape());
  BroadcastIndexer bi(yt.shape(), ins);
  for (int64_t i = 0; i < bi.numel(); ++i) {
    float v = mm[static_cast<size_t>(bi.offset(0, i))];
    if (res) v += res[bi.offset(1, i)];
    y[i] = kernels::apply_act(ep, v);
  }
}

const auto kNaive = naive_algo<FusedMatMulOp>(fused_matmul_naive);

constexpr int64_t kRowGrain = 32;  // rows per parallel range at least
constexpr int64_t kSubRows = 32;   // rows per SGEMM call inside a range, GELU after each

// W is packed per run (when not preprocessed) unless the product is a GEMV,
// which reads W as it is (as MatMul's SGEMM).
bool packs_w(int64_t rows, int64_t n, int64_t k) { return rows > 1 && n > 1 && k > 0; }

class FusedMatMulSgemm final : public Algo {
 public:
  const char* name() const override { return "SGEMM"; }
  uint32_t attributes() const override { return REPRODUCIBLE | ACCURACY_DEPEND_ON_BATCH; }
  bool usable(const Op&, const InLayouts& in, const OutLayouts& out) const override {
    if (in.size() < 4 || !in[3]) return true;
    Shape prod(in[0]->shape.begin(), in[0]->shape.end() - 1);
    prod.push_back(in[1]->shape[1]);
    return in[3]->shape == prod && out[0].shape == prod;  // the residual does not broadcast
  }
  size_t workspace(const Op&, const InLayouts& in, const OutLayouts&) const override {
    // Slot 0 holds W packed per run (nothing preprocessed); the other
    // threads' slots go unused.
    const int64_t k = in[1]->shape[0], n = in[1]->shape[1];
    const int64_t rows = shape_numel(Shape(in[0]->shape.begin(), in[0]->shape.end() - 1));
    return packs_w(rows, n, k) ? kernels::sgemm_packed_b_workspace(k, n) : 0;
  }
  std::string preprocess_key(const Op&, const InLayouts& in) const override {
    return layout_key(in, 1);
  }
  Prepared preprocess(const Op&, const InLayouts& in,
                       const std::vector<const Tensor*>& values) const override {
    const Tensor* w = values.size() > 1 ? values[1] : nullptr;
    if (!w) return {};
    const int64_t k = in[1]->shape[0], n = in[1]->shape[1];
    return prepared_packed_b(kernels::sgemm_pack_b_weights(false, k, n, w->ptr<float>(), n, 1, k * n, 1.f),
                               1);
  }
  void exec(const Op& o, const KernCtx& ctx) const override {
    const auto& op = static_cast<const FusedMatMulOp&>(o);
    const Tensor& at = ctx.input(0);
    const int64_t k = ctx.input(1).shape()[0], n = ctx.input(1).shape()[1];
    Tensor& yt = ctx.output(0);
    const int64_t rows = n ? yt.numel() / n : 0;
    if (rows == 0 || n == 0) return;
    const float* a = at.ptr<float>();
    float* y = yt.ptr<float>();
    const kernels::Epilogue ep = op.epilogue(ctx.input(2).ptr<float>());
    const float* res = ctx.has(3) ? ctx.input(3).ptr<float>() : nullptr;
    const float* w = ctx.input(1).ptr<float>();
    const float* packed = nullptr;
    if (const auto* pre = static_cast<const kernels::SgemmPackedB*>(ctx.prepared)) {
      packed = pre->matrix(0);
    } else if (packs_w(rows, n, k)) {
      float* ws = kernels::sgemm_workspace_ptr(ctx.thread_workspace(0));
      kernels::sgemm_pack_b(false, k, n, w, n, ws);
      packed = ws;
    }
    // GELU in the SGEMM epilogue costs more than the elementwise kernel on
    // the finished block (measured: 128x512, 0.21 vs 0.13 ms on AVX2), so
    // those take the bias there and the activation right after, per block
    // of kSubRows rows while it is in cache.
    const bool act_after = ep.act == kernels::Act::kGelu || ep.act == kernels::Act::kGeluTanh;
    kernels::Epilogue ep_gemm = ep;
    if (act_after) ep_gemm.act = kernels::Act::kNone;
    const kernels::EltwiseImpl& ew = kernels::kernel_table().eltwise;
    parallel_for(ctx.comp_node, rows, [&](int64_t r0, int64_t r1, int) {
      const int64_t step = act_after ? kSubRows : r1 - r0;  // else the range in one call
      for (int64_t b0 = r0; b0 < r1; b0 += step) {
        const int64_t m = std::min(step, r1 - b0);
        kernels::Epilogue e = ep_gemm;
        if (res) {
          e.residual = res + b0 * n;
          e.res_ld = n;
        }
        if (packed) {
          kernels::sgemm_packed_b(false, m, n, k, a + b0 * k, k, packed, 0.f, y + b0 * n, n, e);
        } else {  // GEMV shapes (one row, one column) or K == 0: W as it is
          kernels::sgemm(false, false, m, n, k, 1.f, a + b0 * k, k, w, n, 0.f, y + b0 * n, n, e);
        }
        if (act_after) ew.act(ep.act, y + b0 * n, y + b0 * n, m * n, ep.p0, ep.p1);
      }
    }, kRowGrain);
  }
};

const FusedMatMulSgemm kSgemm;

}  // namespace

void register_op_FusedMatMul(OpRegistry& r) {
  OpDef d;
  d.type = "FusedMatMul";
  d.domain = "loadrun";
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<FusedMatMulOp>(a); };
  d.algos = {&kNaive, &kSgemm};
  d.min_inputs = 3;
  d.max_inputs = 4;
  r.add(std::move(d));
}

}  // namespace loadrun
