// Gemm (ONNX): Y = alpha * op(A) * op(B) + beta * C, op(X) = X or X^T by
// transA / transB; A is (M,K) after op, B is (K,N), and the optional C is
// broadcast one way to (M,N) (a scalar, (N,), (1,N), (M,1) or (M,N)).
// NAIVE: Y starts as beta*C (or 0), then for each row i and each k the
// scaled a(i,k) times row k of op(B) is added to row i of Y (i-k-j order, so
// the inner loop runs along contiguous memory). With transB the rows of op(B)
// are strided, so that case uses an i-j-k dot product over contiguous rows
// of A and B instead. O(M*N*K), no workspace. float16 computes in float32
// (rounded once at the end).
#include "ops/common.h"
#include "kernels/sgemm.h"
#include "kernels/sgemm_weights.h"
#include "runtime/comp_node.h"

namespace loadrun {

namespace {

struct GemmOp final : Op {
  bool trans_a, trans_b;
  double alpha, beta;
  explicit GemmOp(const Attrs& a)
      : trans_a(a.get_int("transA", 0) != 0),
        trans_b(a.get_int("transB", 0) != 0),
        alpha(a.get_float("alpha", 1.0)),
        beta(a.get_float("beta", 1.0)) {}
  std::string param_key() const override {
    return str_cat(trans_a, ";", trans_b, ";", alpha, ";", beta);
  }
  void infer(InferCtx& ctx) const override {
    const Layout& a = ctx.input(0);
    const Layout& b = ctx.input(1);
    LR_CHECK(a.ndim() == 2, ModelError, "Gemm input A must be 2-D, got shape ", shape_str(a.shape));
    LR_CHECK(b.ndim() == 2, ModelError, "Gemm input B must be 2-D, got shape ", shape_str(b.shape));
    LR_CHECK(a.dtype == b.dtype, ModelError, "Gemm A is ", dtype_name(a.dtype), " but B is ",
             dtype_name(b.dtype));
    LR_CHECK(dtype_is_compute_float(a.dtype),
             UnsupportedError, "Gemm on ", dtype_name(a.dtype),
             ": only float32, float64, float16 and bfloat16 are supported");
    int64_t m = trans_a ? a.shape[1] : a.shape[0];
    int64_t ka = trans_a ? a.shape[0] : a.shape[1];
    int64_t kb = trans_b ? b.shape[1] : b.shape[0];
    int64_t n = trans_b ? b.shape[0] : b.shape[1];
    LR_CHECK(ka == kb, ModelError, "Gemm inner dims differ: A", trans_a ? "^T" : "", " is ",
             m, "x", ka, ", B", trans_b ? "^T" : "", " is ", kb, "x", n);
    if (ctx.has(2)) {
      const Layout& c = ctx.input(2);
      LR_CHECK(c.dtype == a.dtype, ModelError, "Gemm C is ", dtype_name(c.dtype), " but A is ",
               dtype_name(a.dtype));
      bool ok = c.ndim() <= 2;
      Shape mn{m, n};
      for (size_t i = 0; ok && i < c.ndim(); ++i) {
        int64_t d = c.shape[c.ndim() - 1 - i];
        ok = d == 1 || d == mn[1 - i];
      }
      LR_CHECK(ok, ModelError, "Gemm C of shape ", shape_str(c.shape),
               " does not broadcast to the output shape ", shape_str(mn));
    }
    ctx.set_output(0, {m, n}, a.dtype);
  }
};

template <typename T>
void gemm_naive_t(const GemmOp& op, const KernCtx& ctx) {
  const Tensor& at = ctx.input(0);
  const Tensor& bt = ctx.input(1);
  Tensor& yt = ctx.output(0);
  const int64_t m = yt.shape()[0], n = yt.shape()[1];
  const int64_t k = op.trans_a ? at.shape()[0] : at.shape()[1];
  const T* a = at.ptr<T>();
  const T* b = bt.ptr<T>();
  T* y = yt.ptr<T>();
  const T alpha = static_cast<T>(op.alpha), beta = static_cast<T>(op.beta);

  // Y = beta * C, C read through broadcast strides.
  if (ctx.has(2) && op.beta != 0) {
    const Tensor& ct = ctx.input(2);
    Shape st = broadcast_strides(ct.shape(), {m, n});
    const T* c = ct.ptr<T>();
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) y[i * n + j] = beta * c[i * st[0] + j * st[1]];
  } else {
    for (int64_t i = 0; i < m * n; ++i) y[i] = T(0);
  }

  // a(i,kk): A is (M,K) row-major, or (K,M) when transposed.
  auto a_at = [&](int64_t i, int64_t kk) { return op.trans_a ? a[kk * m + i] : a[i * k + kk]; };
  if (!op.trans_b) {
    for (int64_t i = 0; i < m; ++i) {
      T* yr = y + i * n;
      for (int64_t kk = 0; kk < k; ++kk) {
        T av = alpha * a_at(i, kk);
        const T* br = b + kk * n;
        for (int64_t j = 0; j < n; ++j) yr[j] += av * br[j];
      }
    }
  } else {  // B is (N,K): row j of B is column j of op(B)
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        const T* br = b + j * k;
        T s = T(0);
        for (int64_t kk = 0; kk < k; ++kk) s += a_at(i, kk) * br[kk];
        y[i * n + j] += alpha * s;
      }
    }
  }
}

void gemm_naive(const GemmOp& op, const KernCtx& ctx) {
  if (dtype_is_lowp_float(ctx.input(0).dtype()))
    return run_f16_as_f32(ctx, [&](const KernCtx& c) { gemm_naive_t<float>(op, c); });
  LR_DISPATCH_FLOAT(ctx.input(0).dtype(), "Gemm", gemm_naive_t<T>(op, ctx));
}

const auto kNaive = naive_algo<GemmOp>(gemm_naive);

// ---- SGEMM -------------------------------------------------------------------
// SGEMM (float32): kernels/sgemm.h with the transposes passed through. A C of
// shape (N,) / (1,N) / (M,1) with beta == 1 becomes the epilogue's bias (added
// as each tile is stored); any other C is first written to Y as beta*C, and
// the product accumulates onto it. A constant B is packed once (alpha folded
// in) by preprocess(); otherwise B is packed into the workspace per run,
// except for matrix-vector shapes (M == 1 or N == 1), which run the GEMV
// kernels on B as it is. Threads: the product splits over the step's
// CompNode by slices of C (kernels/sgemm.h), bit-identical to one thread.

struct GemmDims {
  int64_t m, n, k;
};

GemmDims gemm_dims(const GemmOp& op, const Shape& a, const Shape& b) {
  return {op.trans_a ? a[1] : a[0], op.trans_b ? b[0] : b[1], op.trans_a ? a[0] : a[1]};
}

// B is packed per run (into the workspace) unless the product is a GEMV.
bool gemm_packs_b(const GemmDims& d) { return d.m > 1 && d.n > 1 && d.k > 0; }

class GemmSgemm final : public Algo {
 public:
  const char* name() const override { return "SGEMM"; }
  // The m == 1 (GEMV) and m > 1 kernels sum in different orders.
  uint32_t attributes() const override { return REPRODUCIBLE | ACCURACY_DEPEND_ON_BATCH; }
  bool usable(const Op&, const InLayouts& in, const OutLayouts& out) const override {
    for (size_t i = 0; i < in.size(); ++i)
      if (in[i] && in[i]->dtype != DType::Float32) return false;
    return in.size() >= 2 && in[0] && in[1];
  }
  size_t workspace(const Op& op, const InLayouts& in, const OutLayouts&) const override {
    GemmDims d = gemm_dims(static_cast<const GemmOp&>(op), in[0]->shape, in[1]->shape);
    return gemm_packs_b(d) ? kernels::sgemm_packed_b_workspace(d.k, d.n) : 0;
  }
  std::string preprocess_key(const Op&, const InLayouts& in) const override {
    return layout_key(in, 1);
  }
  Prepared preprocess(const Op& o, const InLayouts& in,
                       const std::vector<const Tensor*>& values) const override {
    const GemmOp& op = static_cast<const GemmOp&>(o);
    const Tensor* b = values.size() > 1 ? values[1] : nullptr;
    GemmDims d = gemm_dims(op, in[0]->shape, in[1]->shape);
    if (!b || d.n == 1 || d.k == 0) return {};  // n == 1: GEMV on B as it is
    return prepared_packed_b(kernels::sgemm_pack_b_weights(op.trans_b, d.k, d.n, b->ptr<float>(),
                                                             b->shape()[1], 1, 0,
                                                             static_cast<float>(op.alpha)),
                               1);
  }
  void exec(const Op& o, const KernCtx& ctx) const override {
    const GemmOp& op = static_cast<const GemmOp&>(o);
    const Tensor& at = ctx.input(0);
    const Tensor& bt = ctx.input(1);
    GemmDims d = gemm_dims(op, at.shape(), bt.shape());
    const int64_t m = d.m, n = d.n, k = d.k, lda = at.shape()[1], ldb = bt.shape()[1];
    float* y = ctx.output(0).ptr<float>();
    const float alpha = static_cast<float>(op.alpha);

    // C: the epilogue's bias, or beta*C written to Y first.
    kernels::Epilogue ep;
    float beta = 0.f;
    if (ctx.has(2) && op.beta != 0) {
      const Tensor& ct = ctx.input(2);
      const float* c = ct.ptr<float>();
      Shape cs = ct.shape();
      while (cs.size() < 2) cs.insert(cs.begin(), 1);
      if (op.beta == 1 && cs[0] == 1 && cs[1] == n) {
        ep.bias = c;
        ep.bias_mode = kernels::Epilogue::kPerCol;
      } else if (op.beta == 1 && cs[1] == 1 && cs[0] == m) {
        ep.bias = c;
        ep.bias_mode = kernels::Epilogue::kPerRow;
      } else {
        const float cb = static_cast<float>(op.beta);
        Shape st = broadcast_strides(ct.shape(), {m, n});
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) y[i * n + j] = cb * c[i * st[0] + j * st[1]];
        beta = 1.f;
      }
    }

    const float* a = at.ptr<float>();
    const auto* packed = static_cast<const kernels::SgemmPackedB*>(ctx.prepared);
    if (packed) {
      kernels::sgemm_packed_b(op.trans_a, m, n, k, a, lda, packed->matrix(0), beta, y, n, ep,
                              ctx.comp_node);
    } else if (gemm_packs_b(d) && ctx.workspace_size >= kernels::sgemm_packed_b_workspace(k, n)) {
      float* ws = kernels::sgemm_workspace_ptr(ctx.workspace);
      kernels::sgemm_pack_b(op.trans_b, k, n, bt.ptr<float>(), ldb, ws, ctx.comp_node);
      if (alpha != 1.f) {
        const size_t cnt = kernels::sgemm_packed_b_floats(k, n);
        for (size_t i = 0; i < cnt; ++i) ws[i] *= alpha;
      }
      kernels::sgemm_packed_b(op.trans_a, m, n, k, a, lda, ws, beta, y, n, ep, ctx.comp_node);
    } else {
      kernels::sgemm(op.trans_a, op.trans_b, m, n, k, alpha, a, lda, bt.ptr<float>(), ldb, beta,
                     y, n, ep, ctx.comp_node);
    }
  }
};

const GemmSgemm kSgemm;

}  // namespace

void register_op_Gemm(OpRegistry& r) { register_simple<GemmOp>(r, "Gemm", {&kNaive, &kSgemm}, 2, 3); }

}  // namespace loadrun
