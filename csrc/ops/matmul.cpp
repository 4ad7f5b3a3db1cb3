// MatMul (ONNX, NumPy matmul semantics): the last two dims multiply as
// matrices (M,K) x (K,N); the leading "batch" dims broadcast against each
// other. A 1-D A is read as (1,K) and a 1-D B as (K,1), and the added dim is
// dropped from the output. Types: float32, float64, int32, int64, uint32,
// uint64 (integers wrap on overflow, as in ONNX Runtime), float16 and bfloat16
// (computed in float32, rounded once at the end).
// NAIVE: for each output batch, find the A and B matrices it reads through
// broadcast strides, then the i-k-j triple loop (inner loop contiguous in B
// and Y). O(batch*M*N*K), no workspace.
#include <algorithm>
#include <type_traits>

#include "ops/common.h"
#include "kernels/sgemm.h"
#include "kernels/sgemm_weights.h"
#include "runtime/comp_node.h"

namespace loadrun {

namespace {

// Arithmetic type: integers compute unsigned so that overflow wraps (defined
// behaviour) instead of being undefined; floats compute as themselves.
template <typename T, bool = std::is_integral<T>::value>
struct ArithOf { using type = T; };
template <typename T>
struct ArithOf<T, true> { using type = std::make_unsigned_t<T>; };

// The matrix view of a MatMul call.
struct MatMulGeo {
  Shape batch;              // broadcast batch dims of the output
  Shape a_batch, b_batch;   // each operand's own batch dims
  int64_t m, k, n;
  Shape out;
};

MatMulGeo matmul_geometry(const Shape& a, const Shape& b) {
  LR_CHECK(!a.empty() && !b.empty(), ModelError, "MatMul operands must be at least 1-D, got ",
           shape_str(a), " and ", shape_str(b));
  MatMulGeo g;
  Shape a2 = a, b2 = b;
  if (a.size() == 1) a2.insert(a2.begin(), 1);
  if (b.size() == 1) b2.push_back(1);
  g.m = a2[a2.size() - 2];
  g.k = a2.back();
  g.n = b2.back();
  int64_t kb = b2[b2.size() - 2];
  LR_CHECK(g.k == kb, ModelError, "MatMul inner dims differ: A ", shape_str(a), " has K=", g.k,
           ", B ", shape_str(b), " has K=", kb);
  g.a_batch.assign(a2.begin(), a2.end() - 2);
  g.b_batch.assign(b2.begin(), b2.end() - 2);
  g.batch = broadcast_shapes({g.a_batch, g.b_batch});
  g.out = g.batch;
  if (a.size() != 1) g.out.push_back(g.m);
  if (b.size() != 1) g.out.push_back(g.n);
  return g;
}

bool matmul_dtype_ok(DType dt) {
  switch (dt) {
    case DType::Float32: case DType::Float64: case DType::Int32: case DType::Int64:
    case DType::Uint32: case DType::Uint64: case DType::Float16: case DType::BFloat16:
      return true;
    default:
      return false;
  }
}

struct MatMulOp final : Op {
  explicit MatMulOp(const Attrs&) {}
  void infer(InferCtx& ctx) const override {
    const Layout& a = ctx.input(0);
    const Layout& b = ctx.input(1);
    LR_CHECK(a.dtype == b.dtype, ModelError, "MatMul A is ", dtype_name(a.dtype), " but B is ",
             dtype_name(b.dtype));
    LR_CHECK(matmul_dtype_ok(a.dtype), UnsupportedError, "MatMul on ", dtype_name(a.dtype),
             ": supported are float32, float64, float16, bfloat16, int32, int64, uint32, uint64");
    ctx.set_output(0, matmul_geometry(a.shape, b.shape).out, a.dtype);
  }
};

template <typename T>
void matmul_naive_t(const KernCtx& ctx) {
  using A = typename ArithOf<T>::type;
  const Tensor& at = ctx.input(0);
  const Tensor& bt = ctx.input(1);
  Tensor& yt = ctx.output(0);
  MatMulGeo g = matmul_geometry(at.shape(), bt.shape());
  const int64_t m = g.m, k = g.k, n = g.n;
  BroadcastIndexer bi(g.batch, {g.a_batch, g.b_batch});
  const T* a = at.ptr<T>();
  const T* b = bt.ptr<T>();
  T* y = yt.ptr<T>();
  for (int64_t bb = 0; bb < bi.numel(); ++bb) {
    const T* ap = a + bi.offset(0, bb) * m * k;
    const T* bp = b + bi.offset(1, bb) * k * n;
    T* yp = y + bb * m * n;
    for (int64_t i = 0; i < m * n; ++i) yp[i] = T(0);
    for (int64_t i = 0; i < m; ++i) {
      T* yr = yp + i * n;
      for (int64_t kk = 0; kk < k; ++kk) {
        A av = static_cast<A>(ap[i * k + kk]);
        const T* br = bp + kk * n;
        for (int64_t j = 0; j < n; ++j)
          yr[j] = static_cast<T>(static_cast<A>(yr[j]) + av * static_cast<A>(br[j]));
      }
    }
  }
}

void matmul_naive(const MatMulOp&, const KernCtx& ctx) {
  DType dt = ctx.input(0).dtype();
  switch (dt) {
    LR_CASE_DT(Float32, matmul_naive_t<T>(ctx))
    LR_CASE_DT(Float64, matmul_naive_t<T>(ctx))
    LR_CASE_DT(Int32, matmul_naive_t<T>(ctx))
    LR_CASE_DT(Int64, matmul_naive_t<T>(ctx))
    LR_CASE_DT(Uint32, matmul_naive_t<T>(ctx))
    LR_CASE_DT(Uint64, matmul_naive_t<T>(ctx))
    case DType::Float16:
    case DType::BFloat16:
      run_f16_as_f32(ctx, [](const KernCtx& c) { matmul_naive_t<float>(c); });
      break;
    default:
      LR_THROW(UnsupportedError, "MatMul: dtype ", dtype_name(dt), " is not supported");
  }
}

const auto kNaive = naive_algo<MatMulOp>(matmul_naive);

// ---- SGEMM -------------------------------------------------------------------
// SGEMM (float32): the packed, cache-blocked kernels of kernels/sgemm.h. When
// B is shared by every batch and A is not broadcast, the batches fold into
// one (batch*M) x K by K x N product. A constant B is packed once by
// preprocess() (weight preprocess); otherwise B is packed into the workspace
// per run (once per distinct B matrix), except for matrix-vector shapes
// (M == 1 or N == 1), which run the GEMV kernels on B as it is.
// Threads: several products go one per thread when they share out evenly (a
// multiple of the threads, or 4 per thread or more; each thread packs B into
// its own workspace slot); otherwise each product's GEMM splits over the
// threads (kernels/sgemm.h). Either way only outputs are split: the bits do
// not depend on the thread count.

// How an SGEMM MatMul runs: `rows` rows of A per product (batch*M when the
// batches fold into one product), `products` products.
struct MatMulPlan {
  MatMulGeo g;
  bool fold;  // one product of batch*M rows
  int64_t rows, products;
};

MatMulPlan matmul_plan(const Shape& a, const Shape& b) {
  MatMulPlan p;
  p.g = matmul_geometry(a, b);
  const int64_t na = shape_numel(p.g.a_batch), nb = shape_numel(p.g.b_batch),
                nout = shape_numel(p.g.batch);
  p.fold = nb == 1 && na == nout;
  p.rows = p.fold ? nout * p.g.m : p.g.m;
  p.products = p.fold ? 1 : nout;
  return p;
}

// B is packed per run (into the workspace) unless the products are GEMVs.
bool matmul_packs_b(const MatMulPlan& p) { return p.rows > 1 && p.g.n > 1 && p.g.k > 0; }

class MatMulSgemm final : public Algo {
 public:
  const char* name() const override { return "SGEMM"; }
  // The m == 1 (GEMV) and m > 1 kernels sum in different orders, so a row's
  // bits may depend on the batch size.
  uint32_t attributes() const override { return REPRODUCIBLE | ACCURACY_DEPEND_ON_BATCH; }
  bool usable(const Op&, const InLayouts& in, const OutLayouts& out) const override {
    return in.size() == 2 && in[0] && in[1] && in[0]->dtype == DType::Float32 &&
           in[1]->dtype == DType::Float32;
  }
  size_t workspace(const Op&, const InLayouts& in, const OutLayouts&) const override {
    MatMulPlan p = matmul_plan(in[0]->shape, in[1]->shape);
    return matmul_packs_b(p) ? kernels::sgemm_packed_b_workspace(p.g.k, p.g.n) : 0;
  }
  std::string preprocess_key(const Op&, const InLayouts& in) const override {
    return layout_key(in, 1);  // B packed: its shape decides k, n and the batch
  }
  Prepared preprocess(const Op&, const InLayouts& in,
                       const std::vector<const Tensor*>& values) const override {
    const Tensor* b = values.size() > 1 ? values[1] : nullptr;
    if (!b) return {};
    MatMulGeo g = matmul_geometry(in[0]->shape, in[1]->shape);
    if (g.n == 1 || g.k == 0) return {};  // GEMV on B as it is
    return prepared_packed_b(kernels::sgemm_pack_b_weights(false, g.k, g.n, b->ptr<float>(), g.n,
                                                             shape_numel(g.b_batch), g.k * g.n, 1.f),
                               1);
  }
  void exec(const Op&, const KernCtx& ctx) const override {
    const Tensor& at = ctx.input(0);
    const Tensor& bt = ctx.input(1);
    MatMulPlan p = matmul_plan(at.shape(), bt.shape());
    const int64_t m = p.g.m, n = p.g.n, k = p.g.k;
    const float* a = at.ptr<float>();
    const float* b = bt.ptr<float>();
    float* y = ctx.output(0).ptr<float>();
    const auto* packed = static_cast<const kernels::SgemmPackedB*>(ctx.prepared);
    const bool use_ws = !packed && matmul_packs_b(p) &&
                        ctx.workspace_size >= kernels::sgemm_packed_b_workspace(k, n);
    // One product; ws: this thread's packing buffer (which B it holds: *holds).
    auto product = [&](const float* ap, int64_t rows, int64_t bi, float* yp, float* ws,
                       int64_t* holds, CompNode* cn) {
      if (packed) {
        kernels::sgemm_packed_b(false, rows, n, k, ap, k, packed->matrix(bi), 0.f, yp, n, {}, cn);
      } else if (ws) {
        if (*holds != bi) kernels::sgemm_pack_b(false, k, n, b + bi * k * n, n, ws, cn);
        *holds = bi;
        kernels::sgemm_packed_b(false, rows, n, k, ap, k, ws, 0.f, yp, n, {}, cn);
      } else {
        kernels::sgemm(false, false, rows, n, k, 1.f, ap, k, b + bi * k * n, n, 0.f, yp, n, {},
                       cn);
      }
    };
    auto thread_ws = [&](int tid) {
      return use_ws ? kernels::sgemm_workspace_ptr(ctx.thread_workspace(tid)) : nullptr;
    };
    if (p.fold) {
      int64_t holds = -1;
      product(a, p.rows, 0, y, thread_ws(0), &holds, ctx.comp_node);
      return;
    }
    BroadcastIndexer bi(p.g.batch, {p.g.a_batch, p.g.b_batch});
    // Products over threads when they divide evenly or are many (each runs
    // on one thread); otherwise one after another, each split by the GEMM.
    const int threads = ctx.comp_node ? ctx.comp_node->num_threads() : 1;
    const int64_t nprod = bi.numel();
    const bool by_product =
        threads > 1 && nprod >= threads && (nprod % threads == 0 || nprod >= 4 * threads);
    if (!by_product) {
      int64_t holds = -1;
      for (int64_t bb = 0; bb < nprod; ++bb)
        product(a + bi.offset(0, bb) * m * k, m, bi.offset(1, bb), y + bb * m * n, thread_ws(0),
                &holds, ctx.comp_node);
      return;
    }
    const double macs = static_cast<double>(m) * n * (k > 0 ? k : 1);
    const int64_t grain = std::max<int64_t>(
        1, static_cast<int64_t>(kernels::kSgemmMacsPerThread / std::max(macs, 1.0)));
    parallel_for(
        ctx.comp_node, nprod,
        [&](int64_t begin, int64_t end, int tid) {
          int64_t holds = -1;
          for (int64_t bb = begin; bb < end; ++bb)
            product(a + bi.offset(0, bb) * m * k, m, bi.offset(1, bb), y + bb * m * n,
                    thread_ws(tid), &holds, nullptr);
        },
        grain);
  }
};

const MatMulSgemm kSgemm;

}  // namespace

void register_op_MatMul(OpRegistry& r) { register_simple<MatMulOp>(r, "MatMul", {&kNaive, &kSgemm}, 2, 2); }

}  // namespace loadrun
