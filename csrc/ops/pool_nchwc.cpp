// PoolNCHWc (domain "loadrun", made by passes/convert_layout.cpp): MaxPool,
// AveragePool, GlobalMaxPool and GlobalAveragePool on 2-D channel-blocked
// float32 tensors [N, Cb, H, W, b] (ops/conv_nchwc.h). Attribute `pool`
// names the ONNX op; the window attributes are that op's (kernel_shape,
// strides, pads / auto_pad, dilations, ceil_mode, count_include_pad), with
// its semantics (ops/pool.cpp); `block` = b. Every lane is pooled, padded
// ones too (pooling never mixes lanes).
// NAIVE: each output element walks its window; the average sums in double.
// POOL_NCHWC_FAST: per output position, the window's valid taps are worked
// out once and each tap is a b-lane max or add (a fixed-length loop the
// compiler vectorises: one vector per tap at b = 4 on SSE/NEON, b = 8 on
// AVX), the (image, block, row) triples split over the threads. Global pools
// fold the plane the same way. O(outputs * taps * b).
#include <algorithm>
#include <limits>

#include "ops/common.h"
#include "ops/conv_nchwc.h"
#include "ops/spatial.h"
#include "runtime/comp_node.h"

namespace loadrun {

namespace {

enum class Kind { Max, Avg, GlobalMax, GlobalAvg };

Kind kind_named(const std::string& s) {
  if (s == "MaxPool") return Kind::Max;
  if (s == "AveragePool") return Kind::Avg;
  if (s == "GlobalMaxPool") return Kind::GlobalMax;
  LR_CHECK(s == "GlobalAveragePool", ModelError, "PoolNCHWc: unknown pool '", s, "'");
  return Kind::GlobalAvg;
}

struct PoolNchwcOp final : Op {
  Kind kind;
  SpatialParams sp;
  bool count_include_pad;
  int64_t block;
  explicit PoolNchwcOp(const Attrs& a)
      : kind(kind_named(a.get_string("pool", ""))),
        sp(SpatialParams::from_attrs(a)),
        count_include_pad(a.get_int("count_include_pad", 0) != 0),
        block(a.get_int(kBlockAttr, 0)) {
    LR_CHECK(block == 4 || block == 8, ModelError, "PoolNCHWc: block must be 4 or 8, got ", block);
    LR_CHECK(global() || sp.kernel.size() == 2, ModelError,
             "PoolNCHWc: a 2-D kernel_shape is required");
  }
  bool global() const { return kind == Kind::GlobalMax || kind == Kind::GlobalAvg; }
  bool is_max() const { return kind == Kind::Max || kind == Kind::GlobalMax; }
  std::string param_key() const override {
    return str_cat(static_cast<int>(kind), ";", sp.key(), count_include_pad ? ";cip" : "", ";b",
                   block);
  }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    LR_CHECK(x.ndim() == 5 && x.shape[4] == block, ModelError, "PoolNCHWc: input must be [N, C/",
             block, ", H, W, ", block, "], got ", shape_str(x.shape));
    LR_CHECK(x.dtype == DType::Float32, UnsupportedError, "PoolNCHWc: float32 only, got ",
             dtype_name(x.dtype));
    Shape s = x.shape;
    if (global()) {
      s[2] = s[3] = 1;
    } else {
      std::vector<int64_t> o = sp.resolve({x.shape[2], x.shape[3]}, {}, nullptr);
      s[2] = o[0];
      s[3] = o[1];
    }
    ctx.set_output(0, s, x.dtype);
  }
};

// One spatial axis of a windowed pool.
struct Axis {
  int64_t in, out, k, s, d, pb, pe;
  // Taps [k0, k1) of output o that fall inside [-pb, in + pe) (for the
  // include-pad count) and [t0, t1) inside the input.
  void taps(int64_t o, int64_t* n_padded, int64_t* t0, int64_t* t1) const {
    int64_t padded = 0, first = -1, last = -1;
    for (int64_t kk = 0; kk < k; ++kk) {
      const int64_t i = o * s - pb + kk * d;
      if (i < -pb || i >= in + pe) continue;
      ++padded;
      if (i < 0 || i >= in) continue;
      if (first < 0) first = kk;
      last = kk;
    }
    *n_padded = padded;
    *t0 = first < 0 ? 0 : first;
    *t1 = first < 0 ? 0 : last + 1;
  }
};

void axes(const PoolNchwcOp& op, const Shape& xs, const Shape& ys, Axis* ah, Axis* aw) {
  std::vector<int64_t> pads;
  op.sp.resolve({xs[2], xs[3]}, {}, &pads);
  auto at = [](const std::vector<int64_t>& v, size_t i) { return v.empty() ? 1 : v[i]; };
  *ah = {xs[2], ys[2], op.sp.kernel[0], at(op.sp.strides, 0), at(op.sp.dilations, 0), pads[0],
         pads[2]};
  *aw = {xs[3], ys[3], op.sp.kernel[1], at(op.sp.strides, 1), at(op.sp.dilations, 1), pads[1],
         pads[3]};
}

void pool_nchwc_naive(const PoolNchwcOp& op, const KernCtx& ctx) {
  const Shape& xs = ctx.input(0).shape();
  const Shape& ys = ctx.output(0).shape();
  const float* x = ctx.input(0).ptr<float>();
  float* y = ctx.output(0).ptr<float>();
  const int64_t planes = xs[0] * xs[1], b = op.block;
  Axis ah, aw;
  if (op.global()) {
    ah = {xs[2], 1, xs[2], 1, 1, 0, 0};
    aw = {xs[3], 1, xs[3], 1, 1, 0, 0};
  } else {
    axes(op, xs, ys, &ah, &aw);
  }
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t oh = 0; oh < ah.out; ++oh)
      for (int64_t ow = 0; ow < aw.out; ++ow)
        for (int64_t l = 0; l < b; ++l) {
          float best = -std::numeric_limits<float>::infinity();
          double sum = 0;
          int64_t inside = 0, padded = 0;
          for (int64_t kh = 0; kh < ah.k; ++kh) {
            const int64_t ih = oh * ah.s - ah.pb + kh * ah.d;
            if (ih < -ah.pb || ih >= ah.in + ah.pe) continue;
            for (int64_t kw = 0; kw < aw.k; ++kw) {
              const int64_t iw = ow * aw.s - aw.pb + kw * aw.d;
              if (iw < -aw.pb || iw >= aw.in + aw.pe) continue;
              ++padded;
              if (ih < 0 || ih >= ah.in || iw < 0 || iw >= aw.in) continue;
              ++inside;
              const float v = x[((pl * ah.in + ih) * aw.in + iw) * b + l];
              if (v > best) best = v;
              sum += v;
            }
          }
          const int64_t div = op.count_include_pad ? padded : inside;
          y[((pl * ah.out + oh) * aw.out + ow) * b + l] =
              op.is_max() ? best : div > 0 ? static_cast<float>(sum / div) : 0.f;
        }
}

template <int B, bool Max>
void window(const float* x, int64_t iw, int64_t h0, int64_t h1, int64_t dh, int64_t w0,
            int64_t w1, int64_t dw, float scale, float* y) {
  float acc[B];
  for (int l = 0; l < B; ++l) acc[l] = Max ? -std::numeric_limits<float>::infinity() : 0.f;
  for (int64_t h = h0; h < h1; h += dh) {
    const float* row = x + h * iw * B;
    for (int64_t w = w0; w < w1; w += dw) {
      const float* v = row + w * B;
      for (int l = 0; l < B; ++l) acc[l] = Max ? (v[l] > acc[l] ? v[l] : acc[l]) : acc[l] + v[l];
    }
  }
  for (int l = 0; l < B; ++l) y[l] = Max ? acc[l] : acc[l] * scale;
}

template <int B, bool Max>
void pool_rows(const PoolNchwcOp& op, const Axis& ah, const Axis& aw, const float* x, float* y,
               int64_t begin, int64_t end) {
  for (int64_t t = begin; t < end; ++t) {
    const int64_t pl = t / ah.out, oh = t % ah.out;
    const float* xp = x + pl * ah.in * aw.in * B;
    float* yr = y + (pl * ah.out + oh) * aw.out * B;
    int64_t ph, kh0, kh1;
    ah.taps(oh, &ph, &kh0, &kh1);
    const int64_t h0 = oh * ah.s - ah.pb + kh0 * ah.d, h1 = oh * ah.s - ah.pb + kh1 * ah.d;
    for (int64_t ow = 0; ow < aw.out; ++ow) {
      int64_t pw, kw0, kw1;
      aw.taps(ow, &pw, &kw0, &kw1);
      const int64_t w0 = ow * aw.s - aw.pb + kw0 * aw.d, w1 = ow * aw.s - aw.pb + kw1 * aw.d;
      const int64_t inside = (kh1 - kh0) * (kw1 - kw0);
      const int64_t div = op.count_include_pad ? ph * pw : inside;
      const float scale = div > 0 ? 1.f / static_cast<float>(div) : 0.f;
      window<B, Max>(xp, aw.in, h0, h1, ah.d, w0, w1, aw.d, scale, yr + ow * B);
    }
  }
}

template <int B>
void pool_nchwc_fast_b(const PoolNchwcOp& op, const KernCtx& ctx) {
  const Shape& xs = ctx.input(0).shape();
  const Shape& ys = ctx.output(0).shape();
  const float* x = ctx.input(0).ptr<float>();
  float* y = ctx.output(0).ptr<float>();
  Axis ah, aw;
  if (op.global()) {
    ah = {xs[2], 1, xs[2], 1, 1, 0, 0};
    aw = {xs[3], 1, xs[3], 1, 1, 0, 0};
  } else {
    axes(op, xs, ys, &ah, &aw);
  }
  const int64_t rows = xs[0] * xs[1] * ah.out;
  const int64_t work = std::max<int64_t>(1, aw.out * ah.k * aw.k * B);
  parallel_for(
      ctx.comp_node, rows,
      [&](int64_t begin, int64_t end, int) {
        if (op.is_max())
          pool_rows<B, true>(op, ah, aw, x, y, begin, end);
        else
          pool_rows<B, false>(op, ah, aw, x, y, begin, end);
      },
      std::max<int64_t>(1, 16384 / work));
}

void pool_nchwc_fast(const PoolNchwcOp& op, const KernCtx& ctx) {
  if (op.block == 8) return pool_nchwc_fast_b<8>(op, ctx);
  pool_nchwc_fast_b<4>(op, ctx);
}

class PoolFast final : public Algo {
 public:
  const char* name() const override { return "POOL_NCHWC_FAST"; }
  uint32_t attributes() const override { return REPRODUCIBLE; }
  bool usable(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    return in[0] && in[0]->is_contiguous() && in[0]->numel() >= 0 && out[0].is_contiguous();
  }
  void exec(const Op& op, const KernCtx& ctx) const override {
    pool_nchwc_fast(static_cast<const PoolNchwcOp&>(op), ctx);
  }
};

const auto kNaive = naive_algo<PoolNchwcOp>(pool_nchwc_naive);
const PoolFast kFast;

}  // namespace

void register_op_PoolNCHWc(OpRegistry& r) {
  OpDef d;
  d.type = "PoolNCHWc";
  d.domain = "loadrun";
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<PoolNchwcOp>(a); };
  d.algos = {&kNaive, &kFast};
  d.min_inputs = 1;
  d.max_inputs = 1;
  r.add(std::move(d));
}

}  // namespace loadrun
