// MatMul (ONNX, NumPy matmul semantics): the last two dims multiply as
// matrices (M,K) x (K,N); the leading "batch" dims broadcast against each
// other. A 1-D A is read as (1,K) and a 1-D B as (K,1), and the added dim is
// dropped from the output. Types: float32, float64, int32, int64, uint32,
// uint64 (integers wrap on overflow, as in ONNX Runtime), float16 and bfloat16
// (computed in float32, rounded once at the end).
// NAIVE: for each output batch, find the A and B matrices it reads through
// broadcast strides, then the i-k-j triple loop (inner loop contiguous in B
// and Y). O(batch*M*N*K), no workspace.
#include <type_traits>

#include "ops/common.h"

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

}  // namespace

void register_op_MatMul(OpRegistry& r) { register_simple<MatMulOp>(r, "MatMul", {&kNaive}, 2, 2); }

}  // namespace loadrun
