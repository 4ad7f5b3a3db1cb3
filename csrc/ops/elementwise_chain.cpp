// ElementwiseChain (domain "loadrun", made by passes/fuse_elementwise.cpp):
// a small DAG of unary and binary elementwise float ops run as one pass
// over memory (e.g. the 9-op tanh GELU of exported transformers, x *
// sigmoid(x)). The program is in the attributes:
//   steps:  ints, 3 per step: op code, operand a, operand b (unary: b = 0);
//           codes 0.. are kernels::UnaryKind, kBinaryBase + BinaryKind binary;
//           an operand k >= 0 is input k of the op, k < 0 the result of step
//           -1 - k (an earlier one);
//   params: floats, 2 per step (the unary kind's p0, p1).
// The last step's result is the output: shape = the inputs' broadcast, dtype
// = input 0's (the pass fuses only float chains: all inputs share a dtype).
// NAIVE: per output element, the program in double on the inputs' broadcast
// elements (activation.h's scalar definitions, <cmath>), rounded once to the
// output dtype. O(n * (steps + rank)).
// ELEMWISE_FAST (float32, any broadcast): the broadcast collapsed to runs
// (kernels/broadcast_plan.h), each run in blocks of kBlock elements; each step
// is one call of the elementwise kernels (kernel_table().eltwise) into an
// L1-resident buffer, the last one into the output. The same kernels in the same order as the
// unfused ops' ELEMWISE_FAST, so the same results, in one pass. The output
// elements are split over the step's threads (kernels/parallel_split.h).
#include <cmath>

#include "kernels/broadcast_plan.h"
#include "kernels/fast_algo.h"
#include "ops/elementwise.h"

namespace loadrun {

namespace {

constexpr int kBinaryBase = 100;
constexpr int kMaxSteps = 32;
constexpr int64_t kBlock = 256;

struct Step {
  int code, a, b;
  float p0, p1;
  bool binary() const { return code >= kBinaryBase; }
};

struct ChainOp final : Op {
  std::vector<Step> steps;
  explicit ChainOp(const Attrs& at) {
    std::vector<int64_t> s = at.get_ints("steps");
    std::vector<double> p = at.get_floats("params");
    LR_CHECK(!s.empty() && s.size() % 3 == 0 && p.size() == s.size() / 3 * 2, ModelError,
             "ElementwiseChain: steps (", s.size(), ") and params (", p.size(), ") do not match");
    for (size_t i = 0; i < s.size() / 3; ++i) {
      Step st{static_cast<int>(s[3 * i]), static_cast<int>(s[3 * i + 1]),
              static_cast<int>(s[3 * i + 2]), static_cast<float>(p[2 * i]),
              static_cast<float>(p[2 * i + 1])};
      bool ok = st.binary() ? st.code - kBinaryBase <= static_cast<int>(kernels::BinaryKind::PRelu)
                            : st.code >= 0 && st.code <= static_cast<int>(kernels::UnaryKind::Copy);
      for (int k : {st.a, st.binary() ? st.b : 0})
        ok = ok && k >= -static_cast<int>(i);  // an earlier step (or an input: checked in infer)
      LR_CHECK(ok, ModelError, "ElementwiseChain: bad step ", i);
      steps.push_back(st);
    }
    LR_CHECK(steps.size() <= kMaxSteps, ModelError, "ElementwiseChain: more than ", kMaxSteps,
             " steps");
  }
  std::string param_key() const override {
    std::string k;
    for (const Step& s : steps) k += str_cat(s.code, ",", s.a, ",", s.b, ",", s.p0, ",", s.p1, ";");
    return k;
  }
  void infer(InferCtx& ctx) const override {
    std::vector<Shape> shapes;
    const DType dt = ctx.input(0).dtype;
    LR_CHECK(dtype_is_float(dt), ModelError, "ElementwiseChain: dtype ", dtype_name(dt));
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      LR_CHECK(ctx.input(i).dtype == dt, ModelError, "ElementwiseChain: input ", i, " has dtype ",
               dtype_name(ctx.input(i).dtype), ", input 0 ", dtype_name(dt));
      shapes.push_back(ctx.input(i).shape);
    }
    for (const Step& s : steps)
      for (int k : {s.a, s.binary() ? s.b : -1})
        LR_CHECK(k < static_cast<int>(ctx.num_inputs()), ModelError,
                 "ElementwiseChain: operand ", k, " of ", ctx.num_inputs(), " inputs");
    ctx.set_output(0, broadcast_shapes(shapes), dt);
  }
};

// --- NAIVE ---------------------------------------------------------------------

double unary1(kernels::UnaryKind k, double v, float p0, float p1) {
  using K = kernels::UnaryKind;
  kernels::Act a = kernels::Act::kNone;
  if (kernels::unary_activation(k, &a)) return kernels::activate(a, v, p0, p1);
  switch (k) {
    case K::Exp: return std::exp(v);
    case K::Log: return std::log(v);
    case K::Erf: return std::erf(v);
    case K::Sqrt: return std::sqrt(v);
    case K::Reciprocal: return 1.0 / v;
    case K::Neg: return -v;
    case K::Abs: return std::fabs(v);
    case K::Square: return v * v;
    default: return v;
  }
}

double binary1(kernels::BinaryKind k, double a, double b) {
  using K = kernels::BinaryKind;
  switch (k) {
    case K::Add: return a + b;
    case K::Sub: return a - b;
    case K::Mul: return a * b;
    case K::Div: return a / b;
    // As the NAIVE Max/Min: a NaN a wins, then a NaN b; ties return a.
    case K::Max: return a != a ? a : (b != b || a < b ? b : a);
    case K::Min: return a != a ? a : (b != b || b < a ? b : a);
    case K::PRelu: return a < 0 ? b * a : a;
  }
  return a;
}

template <typename T>
void chain_loop(const ChainOp& op, const KernCtx& ctx) {
  using N = Num<T>;
  Tensor& ty = ctx.output(0);
  std::vector<Shape> shapes;
  std::vector<const T*> in;
  for (size_t i = 0; i < ctx.in.size(); ++i) {
    shapes.push_back(ctx.input(i).shape());
    in.push_back(ctx.input(i).ptr<T>());
  }
  BroadcastIndexer ix(ty.shape(), shapes);
  T* y = ty.ptr<T>();
  double v[kMaxSteps];
  const size_t ns = op.steps.size();
  for (int64_t i = 0; i < ix.numel(); ++i) {
    auto operand = [&](int k) {
      return k >= 0 ? static_cast<double>(N::ld(in[k][ix.offset(k, i)])) : v[-1 - k];
    };
    for (size_t s = 0; s < ns; ++s) {
      const Step& st = op.steps[s];
      v[s] = st.binary()
                 ? binary1(static_cast<kernels::BinaryKind>(st.code - kBinaryBase), operand(st.a),
                           operand(st.b))
                 : unary1(static_cast<kernels::UnaryKind>(st.code), operand(st.a), st.p0, st.p1);
    }
    y[i] = N::st(static_cast<typename N::C>(v[ns - 1]));
  }
}

void chain_naive(const ChainOp& op, const KernCtx& ctx) {
  DType dt = ctx.output(0).dtype();
  LR_EW_DISPATCH_FLOAT(dt, "ElementwiseChain", chain_loop<T>(op, ctx));
}

const auto kNaive = naive_algo<ChainOp>(chain_naive);

// --- ELEMWISE_FAST ---------------------------------------------------------------

bool chain_fast_usable(const ChainOp&, const InLayouts& in, const OutLayouts&) {
  if (in.size() > static_cast<size_t>(kernels::BroadcastPlan::kMaxOps)) return false;
  for (const Layout* l : in)
    if (!l || l->dtype != DType::Float32) return false;
  return true;
}

void chain_fast(const ChainOp& op, const KernCtx& ctx, const kernels::EltwiseImpl& k) {
  Tensor& ty = ctx.output(0);
  std::vector<Shape> shapes;
  std::vector<const float*> in;
  for (size_t i = 0; i < ctx.in.size(); ++i) {
    shapes.push_back(ctx.input(i).shape());
    in.push_back(ctx.input(i).ptr<float>());
  }
  kernels::BroadcastPlan plan(ty.shape(), shapes);
  float* y = ty.ptr<float>();
  const size_t ns = op.steps.size();
  double cost = 4.0 * static_cast<double>(shapes.size() + 1);
  for (const Step& st : op.steps)
    cost += st.binary() ? 4.0 : kernels::unary_cost(static_cast<kernels::UnaryKind>(st.code));
  kernels::split_elems(ctx.comp_node, plan.numel, cost, [&](int64_t begin, int64_t end) {
    alignas(64) float buf[kMaxSteps][kBlock];
    plan.for_each_span(begin, end, [&](int64_t yo, const int64_t* off, int64_t len) {
      for (int64_t i0 = 0; i0 < len; i0 += kBlock) {
        const int64_t m = std::min(kBlock, len - i0);
        auto ptr = [&](int o, int64_t* s) -> const float* {
          if (o < 0) {
            *s = 1;
            return buf[-1 - o];
          }
          *s = plan.inner_stride[o];
          return in[o] + off[o] + i0 * plan.inner_stride[o];
        };
        for (size_t s = 0; s < ns; ++s) {
          const Step& st = op.steps[s];
          float* dst = s + 1 == ns ? y + yo + i0 : buf[s];
          int64_t sa = 1, sb = 1;
          const float* a = ptr(st.a, &sa);
          if (st.binary()) {
            const float* b = ptr(st.b, &sb);
            k.binary(static_cast<kernels::BinaryKind>(st.code - kBinaryBase), a, sa, b, sb, dst, m);
          } else if (sa == 0) {  // a unary step of a broadcast value
            float v = *a;
            k.unary(static_cast<kernels::UnaryKind>(st.code), &v, &v, 1, st.p0, st.p1);
            std::fill(dst, dst + m, v);
          } else {
            k.unary(static_cast<kernels::UnaryKind>(st.code), a, dst, m, st.p0, st.p1);
          }
        }
      }
    });
  });
}

const KernelAlgo<ChainOp> kFast("ELEMWISE_FAST", chain_fast_usable, chain_fast);

}  // namespace

void register_op_ElementwiseChain(OpRegistry& r) {
  OpDef d;
  d.type = "ElementwiseChain";
  d.domain = "loadrun";
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<ChainOp>(a); };
  d.algos = {&kNaive, &kFast};
  d.min_inputs = 1;
  r.add(std::move(d));
}

}  // namespace loadrun
