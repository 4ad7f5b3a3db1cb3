// MultiHeadAttention (domain "loadrun", made by passes/fuse_attention.cpp):
// the scaled dot-product attention subgraph of exported transformers,
//   Y = Transpose(Softmax(scale * (Q' @ K') + Mask, axis=-1) @ V', out_perm)
// with Q' = Transpose(Q, q_perm) (b, h, s, d), K' = Transpose(K, k_perm)
// (b, h, d, t), V' = Transpose(V, v_perm) (b, h, t, dv): Q, K, V are 4-D and
// each perm a permutation of 0..3 (identity when the graph had no
// Transpose there). The batch and head dims broadcast as MatMul's batch dims
// do; the optional additive Mask (rank <= 4) broadcasts right-aligned onto
// the scores (b, h, s, t) and may not enlarge them. `scale` multiplies the
// scores (a Div by c in the graph is scale 1/c). Types: float32, float64;
// float16 and bfloat16 computed in float32.
// NAIVE: for every (b, h, i): the T dot products in double, scaled, masked;
// a max / exp / sum softmax over the row in double; Y's row as the
// probability-weighted sum of the value rows. O(B H S T (D + Dv)); a row of
// T doubles.
// ATTENTION_TILED (float32; kernels/attention.h attention_run): row blocks
// of one head, SGEMM for scores and context, the softmax in place on the
// tile; the (b, h, row block) items split over the comp node's threads, each
// with its own score tile in the step's per-thread workspace. A row masked
// everywhere gives NaN, as NAIVE. Bound (Algo::bind), the sizes and strides
// are worked out once per plan step.
#include <algorithm>
#include <cmath>
#include <memory>

#include "kernels/attention.h"
#include "ops/common.h"
#include "runtime/comp_node.h"

namespace loadrun {

namespace {

std::vector<int64_t> perm_attr(const Attrs& a, const char* name) {
  std::vector<int64_t> p = a.get_ints(name, {0, 1, 2, 3});
  bool ok = p.size() == 4;
  for (int64_t i = 0; ok && i < 4; ++i) ok = std::count(p.begin(), p.end(), i) == 1;
  LR_CHECK(ok, ModelError, "MultiHeadAttention: ", name, " must be a permutation of 0..3");
  return p;
}

// Shapes, broadcasts and element strides of one call.
struct MhaGeo {
  Shape y;  // output shape
  kernels::AttentionArgs a;  // sizes and strides (pointers unset)
};

struct MhaOp final : Op {
  std::vector<int64_t> q_perm, k_perm, v_perm, out_perm;
  double scale;
  explicit MhaOp(const Attrs& at)
      : q_perm(perm_attr(at, "q_perm")),
        k_perm(perm_attr(at, "k_perm")),
        v_perm(perm_attr(at, "v_perm")),
        out_perm(perm_attr(at, "out_perm")),
        scale(at.get_float("scale", 1.0)) {}
  std::string param_key() const override {
    std::string k;
    for (const auto* p : {&q_perm, &k_perm, &v_perm, &out_perm})
      for (int64_t v : *p) k += str_cat(v, ",");
    return str_cat(k, ";", scale);
  }

  MhaGeo geometry(const Shape& q, const Shape& k, const Shape& v, const Shape* mask) const {
    LR_CHECK(q.size() == 4 && k.size() == 4 && v.size() == 4, ModelError,
             "MultiHeadAttention: Q, K, V must be 4-D, got ", shape_str(q), ", ", shape_str(k),
             ", ", shape_str(v));
    auto logical = [](const Shape& s, const std::vector<int64_t>& perm, Shape* dims, int64_t* st) {
      Shape cs(4, 1);
      for (int i = 2; i >= 0; --i) cs[i] = cs[i + 1] * s[i + 1];
      for (int i = 0; i < 4; ++i) {
        (*dims)[i] = s[perm[i]];
        st[i] = i < 2 && (*dims)[i] == 1 ? 0 : cs[perm[i]];  // b, h broadcast
      }
    };
    MhaGeo g;
    kernels::AttentionArgs& a = g.a;
    Shape ql(4), kl(4), vl(4);
    logical(q, q_perm, &ql, a.qs);
    logical(k, k_perm, &kl, a.ks);
    logical(v, v_perm, &vl, a.vs);
    a.s = ql[2];
    a.d = ql[3];
    a.t = kl[3];
    a.dv = vl[3];
    LR_CHECK(kl[2] == a.d && vl[2] == a.t, ModelError, "MultiHeadAttention: Q ", shape_str(ql),
             ", K ", shape_str(kl), ", V ", shape_str(vl),
             " (as (b,h,s,d), (b,h,d,t), (b,h,t,dv)) do not fit");
    Shape scores = broadcast_shapes({Shape{ql[0], ql[1], a.s, a.t}, Shape{kl[0], kl[1], a.s, a.t}});
    if (mask) {
      LR_CHECK(mask->size() <= 4, ModelError, "MultiHeadAttention: mask ", shape_str(*mask),
               " has more than 4 dims");
      Shape m4(4 - mask->size(), 1);
      m4.insert(m4.end(), mask->begin(), mask->end());
      Shape sc = broadcast_shapes({scores, m4});
      LR_CHECK(sc[2] == a.s && sc[3] == a.t, ModelError, "MultiHeadAttention: mask ",
               shape_str(*mask), " would enlarge the scores ", shape_str(scores));
      scores = sc;
      int64_t st = 1;
      for (int i = 3; i >= 0; --i) {
        a.ms[i] = m4[i] == 1 ? 0 : st;
        st *= m4[i];
      }
    }
    Shape ob = broadcast_shapes({Shape{scores[0], scores[1]}, Shape{vl[0], vl[1]}});
    a.batch = ob[0];
    a.heads = ob[1];
    const Shape o{a.batch, a.heads, a.s, a.dv};
    g.y.resize(4);
    for (int j = 0; j < 4; ++j) g.y[j] = o[out_perm[j]];
    int64_t st = 1;
    for (int j = 3; j >= 0; --j) {
      a.os[out_perm[j]] = st;
      st *= g.y[j];
    }
    a.scale = static_cast<float>(scale);
    return g;
  }

  void infer(InferCtx& ctx) const override {
    const Layout& q = ctx.input(0);
    for (size_t i = 1; i < 4; ++i) {
      if (i == 3 && !ctx.has(3)) continue;
      LR_CHECK(ctx.input(i).dtype == q.dtype, ModelError, "MultiHeadAttention: input ", i, " is ",
               dtype_name(ctx.input(i).dtype), " but Q is ", dtype_name(q.dtype));
    }
    LR_CHECK(dtype_is_compute_float(q.dtype), UnsupportedError, "MultiHeadAttention on ",
             dtype_name(q.dtype), ": float16, bfloat16, float32 and float64 are supported");
    MhaGeo g = geometry(q.shape, ctx.input(1).shape, ctx.input(2).shape,
                        ctx.has(3) ? &ctx.input(3).shape : nullptr);
    ctx.set_output(0, g.y, q.dtype);
  }

  MhaGeo geometry(const KernCtx& ctx) const {
    return geometry(ctx.input(0).shape(), ctx.input(1).shape(), ctx.input(2).shape(),
                    ctx.has(3) ? &ctx.input(3).shape() : nullptr);
  }
};

template <typename T>
void mha_naive_t(const MhaOp& op, const KernCtx& ctx) {
  const kernels::AttentionArgs a = op.geometry(ctx).a;
  const T* q = ctx.input(0).ptr<T>();
  const T* k = ctx.input(1).ptr<T>();
  const T* v = ctx.input(2).ptr<T>();
  const T* m = ctx.has(3) ? ctx.input(3).ptr<T>() : nullptr;
  T* y = ctx.output(0).ptr<T>();
  std::vector<double> p(static_cast<size_t>(a.t)), acc(static_cast<size_t>(a.dv));
  for (int64_t b = 0; b < a.batch; ++b)
    for (int64_t h = 0; h < a.heads; ++h)
      for (int64_t i = 0; i < a.s; ++i) {
        const T* qr = q + b * a.qs[0] + h * a.qs[1] + i * a.qs[2];
        double mx = -INFINITY;
        for (int64_t j = 0; j < a.t; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < a.d; ++d)
            dot += static_cast<double>(qr[d * a.qs[3]]) *
                   static_cast<double>(k[b * a.ks[0] + h * a.ks[1] + d * a.ks[2] + j * a.ks[3]]);
          double s = dot * op.scale;
          if (m) s += static_cast<double>(m[b * a.ms[0] + h * a.ms[1] + i * a.ms[2] + j * a.ms[3]]);
          p[j] = s;
          mx = std::max(mx, s);
        }
        double sum = 0;
        for (int64_t j = 0; j < a.t; ++j) sum += (p[j] = std::exp(p[j] - mx));
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t j = 0; j < a.t; ++j) {
          const T* vr = v + b * a.vs[0] + h * a.vs[1] + j * a.vs[2];
          for (int64_t e = 0; e < a.dv; ++e) acc[e] += p[j] / sum * static_cast<double>(vr[e * a.vs[3]]);
        }
        T* yr = y + b * a.os[0] + h * a.os[1] + i * a.os[2];
        for (int64_t e = 0; e < a.dv; ++e) yr[e * a.os[3]] = static_cast<T>(acc[e]);
      }
}

void mha_naive(const MhaOp& op, const KernCtx& ctx) {
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    LR_DISPATCH_FLOAT(c.input(0).dtype(), "MultiHeadAttention", mha_naive_t<T>(op, c));
  });
}

const auto kNaive = naive_algo<MhaOp>(mha_naive);

class MhaTiled final : public Algo {
 public:
  const char* name() const override { return "ATTENTION_TILED"; }
  uint32_t attributes() const override { return REPRODUCIBLE | USABLE_DEPEND_ON_SHAPE; }
  bool usable(const Op& o, const InLayouts& in, const OutLayouts&) const override {
    for (const Layout* l : in)
      if (l && l->dtype != DType::Float32) return false;
    const auto& op = static_cast<const MhaOp&>(o);
    return kernels::attention_block_usable(
        op.geometry(in[0]->shape, in[1]->shape, in[2]->shape, in.size() > 3 && in[3] ? &in[3]->shape : nullptr).a);
  }
  size_t workspace(const Op& o, const InLayouts& in, const OutLayouts&) const override {
    const auto& op = static_cast<const MhaOp&>(o);
    auto a = op.geometry(in[0]->shape, in[1]->shape, in[2]->shape,
                         in.size() > 3 && in[3] ? &in[3]->shape : nullptr).a;
    return kernels::attention_scratch_floats(a) * sizeof(float);  // per thread
  }
  void exec(const Op& o, const KernCtx& ctx) const override {
    run(static_cast<const MhaOp&>(o).geometry(ctx).a, ctx);
  }
  // A plan step: sizes and strides worked out once; a run sets addresses.
  BoundKernel bind(const Op& o, const InLayouts& in, const OutLayouts& out,
                   CompNode& cn) const override {
    BoundKernel k = Algo::bind(o, in, out, cn);
    const auto& op = static_cast<const MhaOp&>(o);
    const Shape* mask = in.size() > 3 && in[3] ? &in[3]->shape : nullptr;
    k.params = std::make_shared<kernels::AttentionArgs>(
        op.geometry(in[0]->shape, in[1]->shape, in[2]->shape, mask).a);
    k.fn = [](const BoundKernel& b, const KernCtx& ctx) {
      run(*static_cast<const kernels::AttentionArgs*>(b.params.get()), ctx);
    };
    return k;
  }

 private:
  static void run(kernels::AttentionArgs a, const KernCtx& ctx) {
    a.q = ctx.input(0).ptr<float>();
    a.k = ctx.input(1).ptr<float>();
    a.v = ctx.input(2).ptr<float>();
    a.mask = ctx.has(3) ? ctx.input(3).ptr<float>() : nullptr;
    a.o = ctx.output(0).ptr<float>();
    kernels::attention_run(a, ctx.comp_node, ctx.workspace, ctx.workspace_stride);
  }
};

const MhaTiled kTiled;

}  // namespace

void register_op_MultiHeadAttention(OpRegistry& r) {
  OpDef d;
  d.type = "MultiHeadAttention";
  d.domain = "loadrun";
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<MhaOp>(a); };
  d.algos = {&kNaive, &kTiled};
  d.min_inputs = 3;
  d.max_inputs = 4;
  r.add(std::move(d));
}

}  // namespace loadrun
