// Elementwise binary arithmetic: Add, Sub, Mul, Div, Pow, Mod, PRelu and
// BitShift, with
// NumPy multidirectional broadcasting (PRelu: the slope broadcasts to X).
// NAIVE: one pass over the output; a BroadcastIndexer maps each output index
// to the element each operand reads. O(n * rank), no workspace.
// Semantics: integers wrap on overflow; integer Div truncates toward zero
// (as C++ and ONNX Runtime do); Mod follows the divisor's sign unless fmod=1
// (then the dividend's, like C fmod), for integers and floats alike (opset
// 28: fmod=0 on floats is a - floor(a / b) * b, a zero result taking b's
// sign, x mod +-inf giving x when the signs agree and b otherwise); integer
// division or modulo by zero gives 0 rather than trapping. Pow's exponent
// may have another dtype; the result has the base's. float16 computes in
// float32. BitShift shifts by the second operand's amount, on any integer
// dtype (opset 28 admits signed ones): a right shift of a signed value is
// arithmetic, a left shift drops the bits pushed past the top; amounts that
// are negative or >= the bit width give what the sign fill alone gives (-1
// for a right shift of a negative value, else 0).
#include <cmath>
#include <limits>

#include "kernels/broadcast_plan.h"
#include "kernels/fast_algo.h"
#include "ops/elementwise.h"

namespace loadrun {

namespace {

enum class BinKind { Add, Sub, Mul, Div, Pow, Mod, PRelu, BitShift };

const char* kind_name(BinKind k) {
  switch (k) {
    case BinKind::Add: return "Add";
    case BinKind::Sub: return "Sub";
    case BinKind::Mul: return "Mul";
    case BinKind::Div: return "Div";
    case BinKind::Pow: return "Pow";
    case BinKind::Mod: return "Mod";
    case BinKind::PRelu: return "PRelu";
    case BinKind::BitShift: return "BitShift";
  }
  return "?";
}

struct BinaryOp final : Op {
  // the operand that is not broadcast (the planner checks it has the output's layout)
  int inplace_input(const std::vector<const Layout*>& in) const override {
    if (in.size() != 2 || !in[0] || !in[1]) return -1;
    return in[0]->numel() >= in[1]->numel() ? 0 : 1;
  }
  BinKind kind;
  bool fmod;  // Mod: fmod attribute; BitShift: true for direction LEFT
  BinaryOp(BinKind k, const Attrs& a) : kind(k), fmod(a.get_int("fmod", 0) != 0) {
    LR_CHECK(k != BinKind::Mod || a.get_int("fmod", 0) == 0 || a.get_int("fmod", 0) == 1,
             ModelError, "Mod: fmod must be 0 or 1, got ", a.get_int("fmod", 0));
    if (k == BinKind::BitShift) {
      LR_CHECK(a.has("direction"), ModelError, "BitShift: the direction attribute is required");
      std::string dir = a.get_string("direction", "");
      LR_CHECK(dir == "LEFT" || dir == "RIGHT", ModelError,
               "BitShift: direction must be \"LEFT\" or \"RIGHT\", got \"", dir, "\"");
      fmod = dir == "LEFT";
    }
  }
  std::string param_key() const override { return str_cat(static_cast<int>(kind), ";", fmod); }
  void infer(InferCtx& ctx) const override {
    const Layout& a = ctx.input(0);
    const Layout& b = ctx.input(1);
    const char* name = kind_name(kind);
    LR_CHECK(a.dtype != DType::Bool && b.dtype != DType::Bool, UnsupportedError, name,
             ": bool operands are not supported");
    if (kind != BinKind::Pow) {
      LR_CHECK(a.dtype == b.dtype, ModelError, name, ": both inputs must have the same dtype, got ",
               dtype_name(a.dtype), " and ", dtype_name(b.dtype));
    }
    if (kind == BinKind::BitShift) {
      LR_CHECK(!dtype_is_float(a.dtype), ModelError, "BitShift: inputs must be integers, got ",
               dtype_name(a.dtype));
    }
    if (kind == BinKind::PRelu) {
      // The slope broadcasts to X; the output is X's shape.
      LR_CHECK(b.ndim() <= a.ndim() && broadcast_shapes({a.shape, b.shape}) == a.shape, ModelError,
               "PRelu: slope of shape ", shape_str(b.shape),
               " does not broadcast to the input's shape ", shape_str(a.shape));
      ctx.set_output(0, a.shape, a.dtype);
      return;
    }
    ctx.set_output(0, broadcast_shapes({a.shape, b.shape}), a.dtype);
  }
};

// --- scalar functions, on compute values ----------------------------------

template <typename C>
C div_c(C a, C b) {
  if constexpr (std::is_integral_v<C>) {
    if (b == 0) return C(0);
    if constexpr (std::is_signed_v<C>) {
      if (b == C(-1)) return sub_wrap<C>(C(0), a);  // min / -1 would overflow
    }
    return static_cast<C>(a / b);
  } else {
    return a / b;
  }
}

template <typename C>
C mod_c(C a, C b, bool fmod) {
  if constexpr (std::is_integral_v<C>) {
    if (b == 0) return C(0);
    if constexpr (std::is_signed_v<C>) {
      if (b == C(-1)) return C(0);  // min % -1 would overflow
      C r = static_cast<C>(a % b);
      if (!fmod && r != 0 && ((r < 0) != (b < 0))) r = static_cast<C>(r + b);
      return r;
    } else {
      return static_cast<C>(a % b);
    }
  } else {
    C r = std::fmod(a, b);
    if (fmod) return r;
    // floor semantics: the result takes the divisor's sign.
    if (r == C(0)) return std::copysign(C(0), b);
    if ((r < C(0)) != (b < C(0))) r += b;
    return r;
  }
}

// Shift x by y bits (LEFT when `left`); see the header for out-of-range y.
template <typename C>
C shift_c(C x, C y, bool left) {
  constexpr int bits = static_cast<int>(sizeof(C) * 8);
  using U = std::make_unsigned_t<C>;
  bool neg = false;
  if constexpr (std::is_signed_v<C>) neg = x < 0;
  bool out_of_range = y >= C(bits);
  if constexpr (std::is_signed_v<C>) out_of_range = out_of_range || y < 0;
  if (out_of_range) return (!left && neg) ? static_cast<C>(~U(0)) : C(0);
  int n = static_cast<int>(y);
  if (left) return static_cast<C>(static_cast<U>(static_cast<U>(x) << n));
  if (neg) return static_cast<C>(~static_cast<U>(static_cast<U>(~static_cast<U>(x)) >> n));
  return static_cast<C>(static_cast<U>(x) >> n);
}

// Integer power by squaring (exact, wrapping).
template <typename CA, typename CB>
CA ipow(CA x, CB e) {
  if constexpr (std::is_signed_v<CB>) {
    if (e < 0) {
      if (x == CA(1)) return CA(1);
      if constexpr (std::is_signed_v<CA>) {
        if (x == CA(-1)) return (e & 1) ? CA(-1) : CA(1);
      }
      return CA(0);  // |x| > 1 truncates to 0; 0 to a negative power is undefined
    }
  }
  CA r = 1;
  CA base = x;
  uint64_t n = static_cast<uint64_t>(e);
  while (n) {
    if (n & 1) r = mul_wrap(r, base);
    base = mul_wrap(base, base);
    n >>= 1;
  }
  return r;
}

template <typename A, typename B>
A pow_s(A a, B b) {
  using CA = typename Num<A>::C;
  using CB = typename Num<B>::C;
  CA x = Num<A>::ld(a);
  CB e = Num<B>::ld(b);
  if constexpr (std::is_integral_v<CA>) {
    if constexpr (std::is_integral_v<CB>) {
      return ipow(x, e);
    } else {
      return sat_cast<CA>(std::pow(static_cast<double>(x), static_cast<double>(e)));
    }
  } else {
    return Num<A>::st(static_cast<CA>(std::pow(static_cast<double>(x), static_cast<double>(e))));
  }
}

template <typename T>
T binary_s(BinKind k, bool fmod, T a, T b) {
  using N = Num<T>;
  using C = typename N::C;
  C x = N::ld(a), y = N::ld(b);
  switch (k) {
    case BinKind::Add: return N::st(add_wrap(x, y));
    case BinKind::Sub: return N::st(sub_wrap(x, y));
    case BinKind::Mul: return N::st(mul_wrap(x, y));
    case BinKind::Div: return N::st(div_c(x, y));
    case BinKind::Mod: return N::st(mod_c(x, y, fmod));
    case BinKind::PRelu:
      if constexpr (std::is_unsigned_v<C>) {
        return a;
      } else {
        return x < C(0) ? N::st(mul_wrap(y, x)) : a;
      }
    case BinKind::Pow: return pow_s<T, T>(a, b);
    case BinKind::BitShift:
      if constexpr (std::is_integral_v<C>) {
        return shift_c(x, y, fmod);
      } else {
        return a;  // infer admits integers only
      }
  }
  return a;
}

// --- loops -----------------------------------------------------------------

template <typename A, typename B, typename F>
void binary_loop(const KernCtx& ctx, F f) {
  const Tensor& ta = ctx.input(0);
  const Tensor& tb = ctx.input(1);
  Tensor& ty = ctx.output(0);
  BroadcastIndexer ix(ty.shape(), {ta.shape(), tb.shape()});
  const A* a = ta.ptr<A>();
  const B* b = tb.ptr<B>();
  A* y = ty.ptr<A>();
  int64_t n = ix.numel();
  for (int64_t i = 0; i < n; ++i) y[i] = f(a[ix.offset(0, i)], b[ix.offset(1, i)]);
}

void binary_naive(const BinaryOp& op, const KernCtx& ctx) {
  DType da = ctx.input(0).dtype();
  const char* name = kind_name(op.kind);
  if (op.kind == BinKind::Pow) {
    DType db = ctx.input(1).dtype();
    LR_EW_DISPATCH_NUMERIC(da, name, using A = T;
                           LR_EW_DISPATCH_NUMERIC(db, name, binary_loop<A, T>(ctx, pow_s<A, T>)));
    return;
  }
  BinKind k = op.kind;
  bool fm = op.fmod;
  LR_EW_DISPATCH_NUMERIC(da, name, binary_loop<T, T>(ctx, [k, fm](T a, T b) {
    return binary_s<T>(k, fm, a, b);
  }));
}

const auto kNaive = naive_algo<BinaryOp>(binary_naive);

// --- fast algorithm (ELEMWISE_FAST, on kernel_table()): float32 Add, Sub,
// Mul, Div and PRelu with any broadcast (kernels/broadcast_plan.h collapses it to runs
// of one kernel call), and Pow with a scalar float32 exponent: 2 squares,
// 0.5 takes the square root (pow's -0 -> +0 and -inf -> +inf kept), 1
// copies; other exponents run the NAIVE loop. Results equal NAIVE's bit for
// bit (the same correctly rounded IEEE operations). The output elements are
// split over the step's threads (kernels/parallel_split.h).

bool binary_fast_usable(const BinaryOp& op, const InLayouts& in, const OutLayouts&) {
  if (in[0]->dtype != DType::Float32 || in[1]->dtype != DType::Float32) return false;
  switch (op.kind) {
    case BinKind::Add:
    case BinKind::Sub:
    case BinKind::Mul:
    case BinKind::Div:
    case BinKind::PRelu: return true;
    case BinKind::Pow: return in[1]->numel() == 1 && broadcast_shapes({in[0]->shape, in[1]->shape}) == in[0]->shape;
    default: return false;
  }
}

kernels::BinaryKind fast_kind(BinKind k) {
  using K = kernels::BinaryKind;
  return k == BinKind::Add     ? K::Add
         : k == BinKind::Sub   ? K::Sub
         : k == BinKind::Mul   ? K::Mul
         : k == BinKind::PRelu ? K::PRelu
                               : K::Div;
}

void binary_fast(const BinaryOp& op, const KernCtx& ctx, const kernels::EltwiseImpl& impl) {
  const Tensor& a = ctx.input(0);
  Tensor& y = ctx.output(0);
  if (op.kind == BinKind::Pow) {
    const float e = ctx.input(1).ptr<float>()[0];
    if (e != 2.f && e != 1.f && e != 0.5f) return binary_naive(op, ctx);
    const float* x = a.ptr<float>();
    float* yp = y.ptr<float>();
    kernels::split_elems(ctx.comp_node, a.numel(), 8, [&](int64_t b, int64_t end) {
      const int64_t n = end - b;
      if (e == 2.f) {
        impl.unary(kernels::UnaryKind::Square, x + b, yp + b, n, 0, 0);
      } else if (e == 1.f) {
        impl.unary(kernels::UnaryKind::Copy, x + b, yp + b, n, 0, 0);
      } else {
        impl.unary(kernels::UnaryKind::Sqrt, x + b, yp + b, n, 0, 0);
        const float inf = std::numeric_limits<float>::infinity();
        for (int64_t i = b; i < end; ++i) yp[i] = x[i] == -inf ? inf : yp[i] + 0.f;
      }
    });
    return;
  }
  kernels::broadcast_binary(impl, fast_kind(op.kind), a, ctx.input(1), y, ctx.comp_node);
}

// ELEMWISE_FAST, bound (Algo::bind): the broadcast plan is worked out once
// per step, so a run is the kernel calls alone (no allocation; a chain of
// tiny Adds costs the calls). exec (profiling, a call without bind) plans
// per call.
class BinaryFastAlgo final : public Algo {
 public:
  const char* name() const override { return "ELEMWISE_FAST"; }
  uint32_t attributes() const override { return REPRODUCIBLE; }
  bool usable(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    for (const Layout* l : in)
      if (l && l->numel() < 0) return false;
    return binary_fast_usable(static_cast<const BinaryOp&>(op), in, out);
  }
  void exec(const Op& op, const KernCtx& ctx) const override {
    binary_fast(static_cast<const BinaryOp&>(op), ctx, kernels::kernel_table().eltwise);
  }
  BoundKernel bind(const Op& op, const InLayouts& in, const OutLayouts& out,
                   CompNode& cn) const override {
    BoundKernel k = Algo::bind(op, in, out, cn);
    const auto& b = static_cast<const BinaryOp&>(op);
    if (b.kind == BinKind::Pow || in.size() != 2 || !in[0] || !in[1] || out.size() != 1) return k;
    struct Params {
      kernels::BroadcastPlan plan;
      kernels::BinaryKind kind;
    };
    k.params = std::make_shared<Params>(
        Params{kernels::BroadcastPlan(out[0].shape, {in[0]->shape, in[1]->shape}), fast_kind(b.kind)});
    k.fn = [](const BoundKernel& bk, const KernCtx& ctx) {
      const auto& p = *static_cast<const Params*>(bk.params.get());
      kernels::broadcast_binary(kernels::kernel_table().eltwise, p.kind, p.plan, ctx.input(0),
                                ctx.input(1), ctx.output(0), ctx.comp_node);
    };
    return k;
  }
};

const BinaryFastAlgo kFast;

void reg(OpRegistry& r, BinKind k) {
  OpDef d;
  d.type = kind_name(k);
  d.create = [k](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<BinaryOp>(k, a); };
  d.algos = {&kNaive, &kFast};
  d.min_inputs = d.max_inputs = 2;
  r.add(std::move(d));
}

}  // namespace

void register_op_Add(OpRegistry& r) { reg(r, BinKind::Add); }
void register_op_Sub(OpRegistry& r) { reg(r, BinKind::Sub); }
void register_op_Mul(OpRegistry& r) { reg(r, BinKind::Mul); }
void register_op_Div(OpRegistry& r) { reg(r, BinKind::Div); }
void register_op_Pow(OpRegistry& r) { reg(r, BinKind::Pow); }
void register_op_Mod(OpRegistry& r) { reg(r, BinKind::Mod); }
void register_op_PRelu(OpRegistry& r) { reg(r, BinKind::PRelu); }
void register_op_BitShift(OpRegistry& r) { reg(r, BinKind::BitShift); }

}  // namespace loadrun
