// Pooling (ONNX): MaxPool, AveragePool and LpPool over 1-D, 2-D and 3-D
// windows (kernel_shape, strides, pads, auto_pad, dilations, ceil_mode;
// count_include_pad for AveragePool, p for LpPool), and GlobalMaxPool /
// GlobalAveragePool over all spatial dims of any rank >= 3.
// LpPool gives (sum of |x|^p over the window's taps inside the input)^(1/p).
// MaxPool's optional Indices output (int64) holds, for each output, the
// position of its max (the first one on ties) in X flattened whole, N and C
// included: row-major spatial order for storage_order 0, column-major (first
// spatial dim fastest) for storage_order 1.
// Padding never takes part in a max. For the average, count_include_pad=1
// divides by the taps that fall inside the padded input [-pad_begin,
// in + pad_end) and count_include_pad=0 by the taps inside the input; taps
// that ceil_mode pushes past the end padding count in neither (as ONNX
// Runtime does).
// NAIVE: every output element walks its window (1-D/2-D run as 3-D with
// unit dims). O(numel(Y) * prod(kernel)); global pools O(numel(X)). No
// workspace. float16 and bfloat16 compute in float32.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/fast_algo.h"
#include "kernels/parallel_split.h"
#include "ops/common.h"
#include "ops/spatial.h"

namespace loadrun {

namespace {

enum class PoolKind { Max, Avg, Lp };

struct PoolOp final : Op {
  PoolKind kind;
  SpatialParams sp;
  bool count_include_pad;
  int64_t storage_order;  // MaxPool Indices
  int64_t p;              // LpPool
  PoolOp(const Attrs& a, PoolKind k)
      : kind(k),
        sp(SpatialParams::from_attrs(a)),
        count_include_pad(a.get_int("count_include_pad", 0) != 0),
        storage_order(a.get_int("storage_order", 0)),
        p(k == PoolKind::Lp ? a.get_int("p", 2) : 0) {
    LR_CHECK(!sp.kernel.empty(), ModelError, "kernel_shape attribute is required");
    LR_CHECK(storage_order == 0 || storage_order == 1, ModelError,
             "storage_order must be 0 or 1, got ", storage_order);
    LR_CHECK(k != PoolKind::Lp || p >= 1, ModelError, "LpPool: p must be >= 1, got ", p);
  }
  const char* name() const {
    return kind == PoolKind::Max ? "MaxPool" : kind == PoolKind::Avg ? "AveragePool" : "LpPool";
  }
  std::string param_key() const override {
    return sp.key() + (count_include_pad ? ";cip" : "") + ";so" + std::to_string(storage_order) +
           ";p" + std::to_string(p);
  }

  void infer(InferCtx& ctx) const override {
    LR_CHECK(ctx.out.size() == 1 || (kind == PoolKind::Max && ctx.out.size() == 2), ModelError,
             name(), " has ", kind == PoolKind::Max ? "1 or 2" : "1", " outputs, got ",
             ctx.out.size());
    const Layout& x = ctx.input(0);
    LR_CHECK(x.ndim() >= 3, ModelError, name(), " input must have rank >= 3 (N, C, spatial...), got ",
             shape_str(x.shape));
    LR_CHECK(x.ndim() <= 5, UnsupportedError, name(), " on ", x.ndim() - 2,
             "-D spatial input: only 1-D, 2-D and 3-D pooling is supported");
    if (kind == PoolKind::Avg) {
      LR_CHECK(dtype_is_compute_float(x.dtype), UnsupportedError, "AveragePool on dtype ",
               dtype_name(x.dtype), " is not supported");
    }
    if (kind == PoolKind::Lp) {
      LR_CHECK(dtype_is_compute_float(x.dtype),
               UnsupportedError, "LpPool on dtype ", dtype_name(x.dtype), " is not supported");
    }
    std::vector<int64_t> in(x.shape.begin() + 2, x.shape.end());
    std::vector<int64_t> out = sp.resolve(in, {}, nullptr);
    Shape os{x.shape[0], x.shape[1]};
    os.insert(os.end(), out.begin(), out.end());
    ctx.set_output(0, os, x.dtype);
    if (ctx.out.size() == 2) ctx.set_output(1, os, DType::Int64);
  }
};

struct MaxPoolOp final : Op {
  PoolOp p;
  explicit MaxPoolOp(const Attrs& a) : p(a, PoolKind::Max) {}
  std::string param_key() const override { return p.param_key(); }
  void infer(InferCtx& ctx) const override { p.infer(ctx); }
};

struct AvgPoolOp final : Op {
  PoolOp p;
  explicit AvgPoolOp(const Attrs& a) : p(a, PoolKind::Avg) {}
  std::string param_key() const override { return p.param_key(); }
  void infer(InferCtx& ctx) const override { p.infer(ctx); }
};

struct LpPoolOp final : Op {
  PoolOp p;
  explicit LpPoolOp(const Attrs& a) : p(a, PoolKind::Lp) {}
  std::string param_key() const override { return p.param_key(); }
  void infer(InferCtx& ctx) const override { p.infer(ctx); }
};

// Start of a max: -inf for floats, the smallest value otherwise.
template <typename T>
T lowest() {
  return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                              : std::numeric_limits<T>::lowest();
}

// Geometry of one spatial axis.
struct Axis {
  int64_t in = 1, out = 1, k = 1, s = 1, d = 1, pb = 0, pe = 0;
};

// Up to three axes, leading unit axes for lower ranks.
void pool_axes(const PoolOp& op, const Shape& xs, const Shape& ys, Axis ax[3]) {
  size_t nd = xs.size() - 2;
  std::vector<int64_t> in(xs.begin() + 2, xs.end()), pads;
  op.sp.resolve(in, {}, &pads);
  for (size_t i = 0; i < nd; ++i) {
    Axis& a = ax[3 - nd + i];
    a.in = xs[2 + i];
    a.out = ys[2 + i];
    a.k = op.sp.kernel[i];
    a.s = op.sp.strides.empty() ? 1 : op.sp.strides[i];
    a.d = op.sp.dilations.empty() ? 1 : op.sp.dilations[i];
    a.pb = pads[i];
    a.pe = pads[i + nd];
  }
}

template <typename T>
void pool_naive_t(const PoolOp& op, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  Tensor& yt = ctx.output(0);
  Axis ax[3];
  pool_axes(op, xt.shape(), yt.shape(), ax);
  const Axis &A = ax[0], &B = ax[1], &C = ax[2];
  int64_t planes = xt.shape()[0] * xt.shape()[1];
  int64_t in_plane = A.in * B.in * C.in, out_plane = A.out * B.out * C.out;
  const T* x = xt.ptr<T>();
  T* y = yt.ptr<T>();
  int64_t* ind = ctx.out.size() > 1 ? ctx.output(1).ptr<int64_t>() : nullptr;
  bool is_max = op.kind == PoolKind::Max;
  const double p = static_cast<double>(op.p);
  for (int64_t pl = 0; pl < planes; ++pl) {
    const T* xp = x + pl * in_plane;
    T* yp = y + pl * out_plane;
    for (int64_t o0 = 0; o0 < A.out; ++o0) {
      for (int64_t o1 = 0; o1 < B.out; ++o1) {
        for (int64_t o2 = 0; o2 < C.out; ++o2) {
          T best = lowest<T>();
          int64_t arg = -1;  // spatial position of the max, as (i0, i1, i2) packed
          int64_t b0 = 0, b1 = 0, b2 = 0;
          double sum = 0;
          int64_t inside = 0, padded = 0;
          for (int64_t k0 = 0; k0 < A.k; ++k0) {
            int64_t i0 = o0 * A.s - A.pb + k0 * A.d;
            if (i0 < -A.pb || i0 >= A.in + A.pe) continue;
            bool in0 = i0 >= 0 && i0 < A.in;
            for (int64_t k1 = 0; k1 < B.k; ++k1) {
              int64_t i1 = o1 * B.s - B.pb + k1 * B.d;
              if (i1 < -B.pb || i1 >= B.in + B.pe) continue;
              bool in1 = in0 && i1 >= 0 && i1 < B.in;
              for (int64_t k2 = 0; k2 < C.k; ++k2) {
                int64_t i2 = o2 * C.s - C.pb + k2 * C.d;
                if (i2 < -C.pb || i2 >= C.in + C.pe) continue;
                ++padded;
                if (!in1 || i2 < 0 || i2 >= C.in) continue;
                ++inside;
                T v = xp[(i0 * B.in + i1) * C.in + i2];
                if (v > best || arg < 0) {
                  if (v > best) best = v;
                  arg = 1;
                  b0 = i0, b1 = i1, b2 = i2;
                }
                if (op.kind == PoolKind::Lp) {
                  sum += std::pow(std::fabs(static_cast<double>(v)), p);
                } else {
                  sum += static_cast<double>(v);
                }
              }
            }
          }
          int64_t oi = (o0 * B.out + o1) * C.out + o2;
          T& out = yp[oi];
          if (is_max) {
            out = best;
            if (ind) {
              int64_t pos = op.storage_order == 0 ? (b0 * B.in + b1) * C.in + b2
                                                  : b0 + A.in * (b1 + B.in * b2);
              ind[pl * out_plane + oi] = pl * in_plane + pos;
            }
          } else if (op.kind == PoolKind::Lp) {
            out = static_cast<T>(std::pow(sum, 1.0 / p));
          } else {
            int64_t div = op.count_include_pad ? padded : inside;
            out = div > 0 ? static_cast<T>(sum / static_cast<double>(div)) : T(0);
          }
        }
      }
    }
  }
}

// float16 / bfloat16 run in float32 (with_f16_as_f32: exact for max, one
// rounding for averages).
void max_pool_naive(const MaxPoolOp& op, const KernCtx& ctx) {
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    LR_DISPATCH_NUMERIC(c.input(0).dtype(), "MaxPool", pool_naive_t<T>(op.p, c));
  });
}

void avg_pool_naive(const AvgPoolOp& op, const KernCtx& ctx) {
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    LR_DISPATCH_FLOAT(c.input(0).dtype(), "AveragePool", pool_naive_t<T>(op.p, c));
  });
}

void lp_pool_naive(const LpPoolOp& op, const KernCtx& ctx) {
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    LR_DISPATCH_FLOAT(c.input(0).dtype(), "LpPool", pool_naive_t<T>(op.p, c));
  });
}

// Global pools: one value per (n, c) plane.
struct GlobalPoolOp final : Op {
  PoolKind kind;
  GlobalPoolOp(const Attrs&, PoolKind k) : kind(k) {}
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    const char* nm = kind == PoolKind::Max ? "GlobalMaxPool" : "GlobalAveragePool";
    LR_CHECK(x.ndim() >= 3, ModelError, nm, " input must have rank >= 3 (N, C, spatial...), got ",
             shape_str(x.shape));
    if (kind == PoolKind::Avg) {
      LR_CHECK(dtype_is_compute_float(x.dtype), UnsupportedError, nm, " on dtype ", dtype_name(x.dtype),
               " is not supported");
    }
    Shape os(x.ndim(), 1);
    os[0] = x.shape[0];
    os[1] = x.shape[1];
    ctx.set_output(0, os, x.dtype);
  }
};

struct GlobalMaxPoolOp final : Op {
  GlobalPoolOp p;
  explicit GlobalMaxPoolOp(const Attrs& a) : p(a, PoolKind::Max) {}
  void infer(InferCtx& ctx) const override { p.infer(ctx); }
};

struct GlobalAvgPoolOp final : Op {
  GlobalPoolOp p;
  explicit GlobalAvgPoolOp(const Attrs& a) : p(a, PoolKind::Avg) {}
  void infer(InferCtx& ctx) const override { p.infer(ctx); }
};

template <typename T>
void global_pool_naive_t(PoolKind kind, const KernCtx& ctx) {
  const Tensor& xt = ctx.input(0);
  const Shape& s = xt.shape();
  int64_t planes = s[0] * s[1], plane = dims_product(s, 2, s.size());
  const T* x = xt.ptr<T>();
  T* y = ctx.output(0).ptr<T>();
  for (int64_t p = 0; p < planes; ++p) {
    const T* xp = x + p * plane;
    if (kind == PoolKind::Max) {
      T best = lowest<T>();
      for (int64_t i = 0; i < plane; ++i)
        if (xp[i] > best) best = xp[i];
      y[p] = best;
    } else {
      double sum = 0;
      for (int64_t i = 0; i < plane; ++i) sum += static_cast<double>(xp[i]);
      y[p] = plane > 0 ? static_cast<T>(sum / static_cast<double>(plane)) : T(0);
    }
  }
}

void global_max_naive(const GlobalMaxPoolOp&, const KernCtx& ctx) {
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    LR_DISPATCH_NUMERIC(c.input(0).dtype(), "GlobalMaxPool", global_pool_naive_t<T>(PoolKind::Max, c));
  });
}

void global_avg_naive(const GlobalAvgPoolOp&, const KernCtx& ctx) {
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    LR_DISPATCH_FLOAT(c.input(0).dtype(), "GlobalAveragePool",
                      global_pool_naive_t<T>(PoolKind::Avg, c));
  });
}

const auto kMaxNaive = naive_algo<MaxPoolOp>(max_pool_naive);
const auto kAvgNaive = naive_algo<AvgPoolOp>(avg_pool_naive);
const auto kLpNaive = naive_algo<LpPoolOp>(lp_pool_naive);
const auto kGlobalMaxNaive = naive_algo<GlobalMaxPoolOp>(global_max_naive);
const auto kGlobalAvgNaive = naive_algo<GlobalAvgPoolOp>(global_avg_naive);

// --- fast algorithm (POOL_FAST, on kernel_table()), float32, 1-D and 2-D
// windows without dilation, Y only. Per output row, each kernel tap that
// lands inside the input updates a whole run of outputs at once
// (row_max_tap / row_sum_tap: contiguous for stride 1, even elements for
// stride 2), the run's bounds solved per tap so no padding test is left in
// the inner loop. Max ignores NaN as NAIVE does (identical results);
// AveragePool sums in float (NAIVE in double) and divides by the separable
// count rows(oh) * cols(ow) of the same taps NAIVE counts.
// Global pools: one vectorised sum / max per plane. Output rows (global:
// planes) are split over the step's threads.

bool pool_fast_usable_p(const PoolOp& op, const InLayouts& in, const OutLayouts& out) {
  if (in[0]->dtype != DType::Float32 || out.size() != 1) return false;
  if (in[0]->ndim() != 3 && in[0]->ndim() != 4) return false;
  for (int64_t d : op.sp.dilations)
    if (d != 1) return false;
  return true;
}
bool max_pool_fast_usable(const MaxPoolOp& op, const InLayouts& in, const OutLayouts& out) {
  return pool_fast_usable_p(op.p, in, out);
}
bool avg_pool_fast_usable(const AvgPoolOp& op, const InLayouts& in, const OutLayouts& out) {
  return pool_fast_usable_p(op.p, in, out);
}

// Outputs o in [lo, hi) whose tap k reads an input index inside [0, n).
void tap_range(const Axis& a, int64_t k, int64_t* lo, int64_t* hi) {
  // i = o * s - pb + k in [0, n)  <=>  o >= (pb - k) / s  and  o <= (n - 1 + pb - k) / s.
  int64_t num_lo = a.pb - k, num_hi = a.in - 1 + a.pb - k;
  int64_t l = num_lo <= 0 ? 0 : (num_lo + a.s - 1) / a.s;
  int64_t h = num_hi < 0 ? -1 : num_hi / a.s;
  *lo = std::max<int64_t>(l, 0);
  *hi = std::min<int64_t>(h + 1, a.out);
}

// Taps of output o counted by NAIVE's average: inside the padded input
// (count_include_pad) or inside the input.
int64_t tap_count(const Axis& a, int64_t o, bool include_pad) {
  int64_t c = 0;
  for (int64_t k = 0; k < a.k; ++k) {
    int64_t i = o * a.s - a.pb + k;
    if (i < -a.pb || i >= a.in + a.pe) continue;
    if (include_pad || (i >= 0 && i < a.in)) ++c;
  }
  return c;
}

void pool_fast(const PoolOp& op, const KernCtx& ctx, const kernels::EltwiseImpl& impl) {
  const Tensor& xt = ctx.input(0);
  Tensor& yt = ctx.output(0);
  Axis ax[3];
  pool_axes(op, xt.shape(), yt.shape(), ax);
  const Axis &H = ax[1], &W = ax[2];
  const bool is_max = op.kind == PoolKind::Max;
  const int64_t planes = xt.shape()[0] * xt.shape()[1];
  const float* x = xt.ptr<float>();
  float* y = yt.ptr<float>();
  std::vector<int64_t> wlo(W.k), whi(W.k);
  for (int64_t k = 0; k < W.k; ++k) tap_range(W, k, &wlo[k], &whi[k]);
  std::vector<float> col_cnt, row_cnt;
  if (!is_max) {
    for (int64_t o = 0; o < W.out; ++o)
      col_cnt.push_back(static_cast<float>(tap_count(W, o, op.count_include_pad)));
    for (int64_t o = 0; o < H.out; ++o)
      row_cnt.push_back(static_cast<float>(tap_count(H, o, op.count_include_pad)));
  }
  const float init = is_max ? -std::numeric_limits<float>::infinity() : 0.f;
  // Items: output rows of every plane, independent of each other.
  const double row_bytes = 4.0 * static_cast<double>(W.out) * static_cast<double>(1 + H.k * W.k);
  kernels::split_items(ctx.comp_node, planes * H.out, row_bytes, [&](int64_t begin, int64_t end, int) {
    // Copies, not the captured references, so that they stay in registers
    // across the kernel calls.
    const Axis h = H, w = W;
    const int64_t* tap_lo = wlo.data();
    const int64_t* tap_hi = whi.data();
    const auto tap = is_max ? impl.row_max_tap : impl.row_sum_tap;
    int64_t oh = begin % h.out;
    const float* xp = x + (begin / h.out) * h.in * w.in;
    for (int64_t r = begin; r < end; ++r, ++oh) {
      if (oh == h.out) {  // the next plane
        oh = 0;
        xp += h.in * w.in;
      }
      float* yr = y + r * w.out;
      std::fill(yr, yr + w.out, init);
      for (int64_t kh = 0; kh < h.k; ++kh) {
        const int64_t ih = oh * h.s - h.pb + kh;
        if (ih < 0 || ih >= h.in) continue;
        const float* xr = xp + ih * w.in;
        for (int64_t kw = 0; kw < w.k; ++kw) {
          const int64_t lo = tap_lo[kw], hi = tap_hi[kw];
          if (lo < hi) tap(yr + lo, xr + lo * w.s - w.pb + kw, w.s, hi - lo);
        }
      }
      if (!is_max) {
        const float rc = row_cnt[oh];
        for (int64_t ow = 0; ow < w.out; ++ow) {
          const float d = rc * col_cnt[ow];
          yr[ow] = d > 0.f ? yr[ow] / d : 0.f;
        }
      }
    }
  });
}

void max_pool_fast(const MaxPoolOp& op, const KernCtx& ctx, const kernels::EltwiseImpl& impl) {
  pool_fast(op.p, ctx, impl);
}
void avg_pool_fast(const AvgPoolOp& op, const KernCtx& ctx, const kernels::EltwiseImpl& impl) {
  pool_fast(op.p, ctx, impl);
}

template <class OpT>
bool global_fast_usable(const OpT&, const InLayouts& in, const OutLayouts&) {
  return in[0]->dtype == DType::Float32;
}

template <PoolKind K, class OpT>
void global_fast(const OpT&, const KernCtx& ctx, const kernels::EltwiseImpl& impl) {
  const Tensor& xt = ctx.input(0);
  const Shape& s = xt.shape();
  const int64_t planes = s[0] * s[1], plane = dims_product(s, 2, s.size());
  const float* x = xt.ptr<float>();
  float* y = ctx.output(0).ptr<float>();
  kernels::split_items(ctx.comp_node, planes, 4.0 * static_cast<double>(plane),
                       [&](int64_t begin, int64_t end, int) {
    // locals stay in registers across the kernel calls
    const auto max_fn = impl.max;
    const auto sum_fn = impl.sum;
    const float* xs = x;
    float* ys = y;
    const int64_t len = plane;
    for (int64_t p = begin; p < end; ++p) {
      if (K == PoolKind::Max) {
        ys[p] = max_fn(xs + p * len, len);
      } else {
        ys[p] = len > 0 ? sum_fn(xs + p * len, len) / static_cast<float>(len) : 0.f;
      }
    }
  });
}

const KernelAlgo<MaxPoolOp> kMaxFast("POOL_FAST", max_pool_fast_usable, max_pool_fast);
const KernelAlgo<AvgPoolOp> kAvgFast("POOL_FAST", avg_pool_fast_usable, avg_pool_fast);
const KernelAlgo<GlobalMaxPoolOp> kGlobalMaxFast("POOL_FAST",
                                                     global_fast_usable<GlobalMaxPoolOp>,
                                                     global_fast<PoolKind::Max, GlobalMaxPoolOp>);
const KernelAlgo<GlobalAvgPoolOp> kGlobalAvgFast("POOL_FAST",
                                                     global_fast_usable<GlobalAvgPoolOp>,
                                                     global_fast<PoolKind::Avg, GlobalAvgPoolOp>);

}  // namespace

void register_op_MaxPool(OpRegistry& r) { register_simple<MaxPoolOp>(r, "MaxPool", {&kMaxNaive, &kMaxFast}, 1, 1); }
void register_op_AveragePool(OpRegistry& r) {
  register_simple<AvgPoolOp>(r, "AveragePool", {&kAvgNaive, &kAvgFast}, 1, 1);
}
void register_op_LpPool(OpRegistry& r) {
  register_simple<LpPoolOp>(r, "LpPool", {&kLpNaive}, 1, 1);
}
void register_op_GlobalMaxPool(OpRegistry& r) {
  register_simple<GlobalMaxPoolOp>(r, "GlobalMaxPool", {&kGlobalMaxNaive, &kGlobalMaxFast}, 1, 1);
}
void register_op_GlobalAveragePool(OpRegistry& r) {
  register_simple<GlobalAvgPoolOp>(r, "GlobalAveragePool", {&kGlobalAvgNaive, &kGlobalAvgFast}, 1, 1);
}

}  // namespace loadrun
