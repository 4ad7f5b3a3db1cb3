// Dropout. Inference (no training_mode input, or false; or ratio 0): the
// output is the input unchanged and the optional mask is all true (bool, or
// the input's dtype for opset < 10: the importer sets mask_like_input).
// Training (training_mode true, ratio in (0, 1)): each element is kept when
// a uniform draw u in [0, 1) is >= ratio, and y = keep ? x * scale : 0 with
// scale = 1 / (1 - ratio) (computed in the input's dtype, float16/bfloat16 in
// float32); the mask says which were kept. The draws: MT19937 seeded with the
// `seed` attribute (its low 32 bits), one double per element in memory order
// made of two 32-bit outputs as (a >> 5) * 2^26 + (b >> 6), divided by 2^53 --
// the generator and draws of NumPy's RandomState(seed).uniform, which the ONNX
// reference uses, so a seeded Dropout is deterministic and reproduces it.
// Without a seed the generator is seeded from std::random_device on every
// run (ONNX: "a seed is generated randomly"); such a node is never folded.
// NAIVE: one memcpy and a fill of the mask, or in training one pass drawing
// per element. O(n), no workspace.
#include <cstring>
#include <random>

#include "ops/common.h"
#include "ops/element_copy.h"

namespace loadrun {

namespace {

struct DropoutOp final : Op {
  // inference (no training_mode input): y is x
  int alias_input(const std::vector<const Layout*>& in) const override {
    return in.size() > 2 && in[2] ? -1 : 0;
  }
  bool mask_like_input;
  bool has_seed;
  int64_t seed;
  explicit DropoutOp(const Attrs& a)
      : mask_like_input(a.get_int("mask_like_input", 0) != 0),
        has_seed(a.has("seed")),
        seed(a.get_int("seed", 0)) {}
  std::string param_key() const override {
    return str_cat(mask_like_input ? "m1" : "m0", ";", has_seed ? str_cat(seed) : std::string("-"));
  }
  // Unseeded training draws differ run to run: never evaluate at compile time.
  bool foldable() const override { return has_seed; }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    if (ctx.has(1)) {
      LR_CHECK(ctx.input(1).numel() == 1 && dtype_is_float(ctx.input(1).dtype), ModelError,
               "Dropout ratio must be a float scalar, got ", ctx.input(1).str());
    }
    if (ctx.has(2)) {
      LR_CHECK(ctx.input(2).numel() == 1 && ctx.input(2).dtype == DType::Bool, ModelError,
               "Dropout training_mode must be a bool scalar, got ", ctx.input(2).str());
    }
    ctx.set_output(0, x.shape, x.dtype);
    if (ctx.out.size() > 1) ctx.set_output(1, x.shape, mask_like_input ? x.dtype : DType::Bool);
  }
};

// NumPy's legacy random_sample: a 53-bit double from two MT19937 outputs.
double next_double(std::mt19937& g) {
  uint32_t a = static_cast<uint32_t>(g()) >> 5, b = static_cast<uint32_t>(g()) >> 6;
  return (a * 67108864.0 + b) / 9007199254740992.0;
}

template <typename T>
void dropout_train_t(const KernCtx& ctx, double ratio, std::mt19937& g) {
  const Tensor& xt = ctx.input(0);
  const T* x = xt.ptr<T>();
  T* y = ctx.output(0).ptr<T>();
  bool* mask = ctx.out.size() > 1 ? ctx.output(1).ptr<bool>() : nullptr;
  const T scale = T(1) / (T(1) - static_cast<T>(ratio));
  for (int64_t i = 0; i < xt.numel(); ++i) {
    bool keep = next_double(g) >= ratio;
    y[i] = keep ? x[i] * scale : T(0);
    if (mask) mask[i] = keep;
  }
}

void dropout_naive(const DropoutOp& op, const KernCtx& ctx) {
  const Tensor& x = ctx.input(0);
  const bool training = ctx.has(2) && ctx.input(2).numel() == 1 && ctx.input(2).get_i64(0) != 0;
  const double ratio = ctx.has(1) ? ctx.input(1).get_f64(0) : 0.5;
  if (training && ratio != 0.0) {
    LR_CHECK(ratio > 0.0 && ratio < 1.0, InputError, "Dropout ratio must be in [0, 1), got ", ratio);
    LR_CHECK(!op.mask_like_input, UnsupportedError, "Dropout training with a non-bool mask");
    uint32_t s = op.has_seed ? static_cast<uint32_t>(op.seed) : std::random_device{}();
    std::mt19937 g(s);
    with_f16_as_f32(ctx, [&](const KernCtx& c) {
      LR_DISPATCH_FLOAT(c.input(0).dtype(), "Dropout (training)", dropout_train_t<T>(c, ratio, g));
    });
    return;
  }
  Tensor& y = ctx.output(0);
  if (x.nbytes() && x.raw() != y.raw()) std::memcpy(y.raw(), x.raw(), x.nbytes());
  if (ctx.out.size() > 1) {
    Tensor& mask = ctx.output(1);
    Tensor one(Layout({1}, DType::Bool));
    *one.ptr<uint8_t>() = 1;
    uint64_t bytes = 0;  // 1 (true) as the mask's dtype
    scalar_as(one, mask.dtype(), &bytes);
    fill_elements(mask.raw(), &bytes, mask.dtype(), mask.numel());
  }
}

const auto kNaive = naive_algo<DropoutOp>(dropout_naive);

}  // namespace

void register_op_Dropout(OpRegistry& r) { register_simple<DropoutOp>(r, "Dropout", {&kNaive}, 1, 3); }

}  // namespace loadrun
