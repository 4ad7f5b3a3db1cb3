// RotaryEmbedding (ONNX, opset 23): rotary positional embedding (RoPE).
// X is 4-D (batch, num_heads, seq, head_size) or 3-D (batch, seq,
// num_heads * head_size) with the num_heads attribute. The first
// rotary_embedding_dim (rd; 0 means head_size) channels of every head are
// rotated in pairs (x1, x2) by the angle whose cosine / sine the caches hold:
//   x1' = cos * x1 - sin * x2,   x2' = sin * x1 + cos * x2,
// pairs being (i, i + rd/2) by default or (2i, 2i + 1) with interleaved=1;
// the channels past rd are copied. With position_ids (batch, seq) the caches
// are 2-D (max_position + 1, rd/2) and row position_ids[b, s] is used;
// without, they are 3-D (batch, seq, rd/2). Types: float32, float64,
// float16 (computed in float32, rounded once).
// NAIVE: for every (batch, seq, head), look up the cache row and rotate the
// rd/2 pairs. O(numel), no workspace.
#include "ops/elementwise.h"

namespace loadrun {

namespace {

// The (batch, seq, heads, head_size) view of X and where each element lives.
struct RopeGeo {
  int64_t batch, seq, heads, head_size, rd;
  bool four_d;
  // Element offset of (b, s, h, 0) in X's contiguous layout.
  int64_t offset(int64_t b, int64_t s, int64_t h) const {
    if (four_d) return ((b * heads + h) * seq + s) * head_size;
    return ((b * seq + s) * heads + h) * head_size;
  }
};

struct RotaryOp final : Op {
  int64_t num_heads, rotary_dim, interleaved;
  explicit RotaryOp(const Attrs& a)
      : num_heads(a.get_int("num_heads", 0)),
        rotary_dim(a.get_int("rotary_embedding_dim", 0)),
        interleaved(a.get_int("interleaved", 0)) {}
  std::string param_key() const override {
    return str_cat(num_heads, ";", rotary_dim, ";", interleaved);
  }

  RopeGeo geometry(const Shape& x) const {
    LR_CHECK(x.size() == 3 || x.size() == 4, ModelError,
             "RotaryEmbedding: input must be 3-D or 4-D, got ", shape_str(x));
    RopeGeo g;
    g.four_d = x.size() == 4;
    g.batch = x[0];
    if (g.four_d) {
      g.heads = x[1];
      g.seq = x[2];
      g.head_size = x[3];
    } else {
      LR_CHECK(num_heads > 0, ModelError,
               "RotaryEmbedding: a 3-D input needs the num_heads attribute (> 0), got ",
               num_heads);
      LR_CHECK(x[2] % num_heads == 0, ModelError, "RotaryEmbedding: hidden size ", x[2],
               " is not a multiple of num_heads ", num_heads);
      g.seq = x[1];
      g.heads = num_heads;
      g.head_size = x[2] / num_heads;
    }
    g.rd = rotary_dim == 0 ? g.head_size : rotary_dim;
    LR_CHECK(g.rd > 0 && g.rd <= g.head_size && g.rd % 2 == 0, ModelError,
             "RotaryEmbedding: rotary_embedding_dim ", g.rd,
             " must be even and within the head size ", g.head_size);
    return g;
  }

  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const Layout& cs = ctx.input(1);
    const Layout& sn = ctx.input(2);
    LR_CHECK(dtype_is_compute_float(x.dtype),
             UnsupportedError, "RotaryEmbedding on ", dtype_name(x.dtype),
             ": supported are float32, float64, float16 and bfloat16");
    LR_CHECK(cs.dtype == x.dtype && sn.dtype == x.dtype, ModelError,
             "RotaryEmbedding: cos_cache and sin_cache must have the input's dtype ",
             dtype_name(x.dtype));
    RopeGeo g = geometry(x.shape);
    LR_CHECK(cs.shape == sn.shape, ModelError, "RotaryEmbedding: cos_cache ", shape_str(cs.shape),
             " and sin_cache ", shape_str(sn.shape), " differ in shape");
    const int64_t half = g.rd / 2;
    if (ctx.has(3)) {
      const Layout& p = ctx.input(3);
      LR_CHECK(p.dtype == DType::Int64, ModelError, "RotaryEmbedding: position_ids must be int64");
      LR_CHECK(p.shape == Shape({g.batch, g.seq}), ModelError,
               "RotaryEmbedding: position_ids must be (batch, seq) = ",
               shape_str({g.batch, g.seq}), ", got ", shape_str(p.shape));
      LR_CHECK(cs.ndim() == 2 && cs.shape[1] == half, ModelError,
               "RotaryEmbedding: with position_ids the caches must be (max_position + 1, ", half,
               "), got ", shape_str(cs.shape));
    } else {
      LR_CHECK(cs.shape == Shape({g.batch, g.seq, half}), ModelError,
               "RotaryEmbedding: without position_ids the caches must be (batch, seq, rd/2) = ",
               shape_str({g.batch, g.seq, half}), ", got ", shape_str(cs.shape));
    }
    ctx.set_output(0, x.shape, x.dtype);
  }
};

template <typename T>
void rotary_naive_t(const RotaryOp& op, const KernCtx& ctx) {
  using C = typename Num<T>::C;
  const Tensor& xt = ctx.input(0);
  RopeGeo g = op.geometry(xt.shape());
  const int64_t half = g.rd / 2;
  const T* x = xt.ptr<T>();
  const T* cosc = ctx.input(1).ptr<T>();
  const T* sinc = ctx.input(2).ptr<T>();
  const int64_t* pos = ctx.has(3) ? ctx.input(3).ptr<int64_t>() : nullptr;
  const int64_t rows = ctx.has(3) ? ctx.input(1).shape()[0] : 0;
  T* y = ctx.output(0).ptr<T>();
  for (int64_t b = 0; b < g.batch; ++b) {
    for (int64_t s = 0; s < g.seq; ++s) {
      int64_t row = b * g.seq + s;
      if (pos) {
        row = pos[b * g.seq + s];
        LR_CHECK(row >= 0 && row < rows, ModelError, "RotaryEmbedding: position id ", row,
                 " is outside the cache's ", rows, " rows");
      }
      const T* cr = cosc + row * half;
      const T* sr = sinc + row * half;
      for (int64_t h = 0; h < g.heads; ++h) {
        const int64_t off = g.offset(b, s, h);
        const T* xh = x + off;
        T* yh = y + off;
        for (int64_t i = 0; i < half; ++i) {
          const int64_t i1 = op.interleaved ? 2 * i : i;
          const int64_t i2 = op.interleaved ? 2 * i + 1 : i + half;
          const double c = Num<T>::ld(cr[i]), sn = Num<T>::ld(sr[i]);
          const double x1 = Num<T>::ld(xh[i1]), x2 = Num<T>::ld(xh[i2]);
          yh[i1] = Num<T>::st(static_cast<C>(c * x1 - sn * x2));
          yh[i2] = Num<T>::st(static_cast<C>(sn * x1 + c * x2));
        }
        for (int64_t i = g.rd; i < g.head_size; ++i) yh[i] = xh[i];
      }
    }
  }
}

void rotary_naive(const RotaryOp& op, const KernCtx& ctx) {
  LR_EW_DISPATCH_FLOAT(ctx.input(0).dtype(), "RotaryEmbedding", rotary_naive_t<T>(op, ctx));
}

const auto kNaive = naive_algo<RotaryOp>(rotary_naive);

}  // namespace

void register_op_RotaryEmbedding(OpRegistry& r) {
  register_simple<RotaryOp>(r, "RotaryEmbedding", {&kNaive}, 3, 4);
}

}  // namespace loadrun
