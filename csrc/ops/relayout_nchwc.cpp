// ToNCHWc and FromNCHWc (domain "loadrun", inserted by the layout passes
// passes/convert_layout*.cpp): the relayouts between NCHW and the
// channel-blocked layout of ops/conv_nchwc.h, for any dtype.
//   ToNCHWc   [N, C, S...] -> [N, ceil(C/b), S..., b]; lanes past C are zero.
//   FromNCHWc [N, ceil(C/b), S..., b] -> [N, C, S...] (attribute `channels`
//             = C); lanes past C are dropped.
// Attribute `block` = b (4 or 8). S... is any number of spatial dims.
// NAIVE: one element at a time through the index arithmetic. RELAYOUT_FAST:
// per (image, channel block), a b x HW transpose of fixed-size elements
// (1, 2, 4 or 8 bytes), the (image, block) pairs split over the threads.
// Both are one pass over memory; a relayout costs what a copy costs.
#include <cstring>

#include "ops/common.h"
#include "ops/conv_nchwc.h"
#include "runtime/comp_node.h"

namespace loadrun {

namespace {

struct RelayoutOp final : Op {
  bool to_blocked;
  int64_t block;
  int64_t channels;  // FromNCHWc: the real channel count
  RelayoutOp(const Attrs& a, bool to)
      : to_blocked(to), block(a.get_int(kBlockAttr, 0)), channels(a.get_int("channels", -1)) {
    LR_CHECK(block >= 1 && block <= 64, ModelError, "block must be in [1, 64], got ", block);
    LR_CHECK(to || channels >= 1, ModelError, "FromNCHWc: attribute channels (>= 1) is required");
  }
  std::string param_key() const override {
    return str_cat(to_blocked ? "to" : "from", block, ",", channels);
  }
  void infer(InferCtx& ctx) const override {
    const Layout& x = ctx.input(0);
    Shape s;
    if (to_blocked) {
      LR_CHECK(x.ndim() >= 2, ModelError, "ToNCHWc: input must be [N, C, ...], got ",
               shape_str(x.shape));
      s = x.shape;
      s[1] = nchwc_blocks(x.shape[1], block);
      s.push_back(block);
    } else {
      LR_CHECK(x.ndim() >= 3 && x.shape.back() == block, ModelError,
               "FromNCHWc: input must be [N, C/", block, ", ..., ", block, "], got ",
               shape_str(x.shape));
      LR_CHECK(x.shape[1] == nchwc_blocks(channels, block), ModelError, "FromNCHWc: ",
               x.shape[1], " channel blocks cannot hold ", channels, " channels");
      s.assign(x.shape.begin(), x.shape.end() - 1);
      s[1] = channels;
    }
    ctx.set_output(0, s, x.dtype);
  }
  // (n, c, hw) of the NCHW side.
  void dims(const KernCtx& ctx, int64_t* n, int64_t* c, int64_t* hw) const {
    const Shape& s = to_blocked ? ctx.input(0).shape() : ctx.output(0).shape();
    *n = s[0];
    *c = s[1];
    *hw = dims_product(s, 2, s.size());
  }
};

struct ToNchwcOp final : Op {
  RelayoutOp r;
  explicit ToNchwcOp(const Attrs& a) : r(a, true) {}
  std::string param_key() const override { return r.param_key(); }
  void infer(InferCtx& ctx) const override { r.infer(ctx); }
};
struct FromNchwcOp final : Op {
  RelayoutOp r;
  explicit FromNchwcOp(const Attrs& a) : r(a, false) {}
  std::string param_key() const override { return r.param_key(); }
  void infer(InferCtx& ctx) const override { r.infer(ctx); }
};

void relayout_naive(const RelayoutOp& op, const KernCtx& ctx) {
  int64_t n, c, hw;
  op.dims(ctx, &n, &c, &hw);
  const int64_t b = op.block, cb = nchwc_blocks(c, b);
  const size_t es = dtype_size(ctx.input(0).dtype());
  const auto* x = static_cast<const uint8_t*>(ctx.input(0).raw());
  auto* y = static_cast<uint8_t*>(ctx.output(0).raw());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < cb * b; ++ch)
      for (int64_t s = 0; s < hw; ++s) {
        const int64_t flat = (i * c + ch) * hw + s;                           // NCHW
        const int64_t blk = ((i * cb + ch / b) * hw + s) * b + ch % b;        // blocked
        if (op.to_blocked) {
          if (ch < c)
            std::memcpy(y + blk * es, x + flat * es, es);
          else
            std::memset(y + blk * es, 0, es);
        } else if (ch < c) {
          std::memcpy(y + flat * es, x + blk * es, es);
        }
      }
}

// One (image, channel block): lanes = the real channels in it.
template <typename E>
void to_block(const E* x, int64_t hw, int64_t b, int64_t lanes, E* y) {
  for (int64_t l = 0; l < lanes; ++l) {
    const E* xr = x + l * hw;
    for (int64_t s = 0; s < hw; ++s) y[s * b + l] = xr[s];
  }
  for (int64_t l = lanes; l < b; ++l)
    for (int64_t s = 0; s < hw; ++s) y[s * b + l] = E(0);
}
template <typename E>
void from_block(const E* x, int64_t hw, int64_t b, int64_t lanes, E* y) {
  for (int64_t l = 0; l < lanes; ++l) {
    E* yr = y + l * hw;
    for (int64_t s = 0; s < hw; ++s) yr[s] = x[s * b + l];
  }
}

template <typename E>
void relayout_t(const RelayoutOp& op, const KernCtx& ctx) {
  int64_t n, c, hw;
  op.dims(ctx, &n, &c, &hw);
  const int64_t b = op.block, cb = nchwc_blocks(c, b);
  const E* x = static_cast<const E*>(ctx.input(0).raw());
  E* y = static_cast<E*>(ctx.output(0).raw());
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(hw * b, 1));
  parallel_for(
      ctx.comp_node, n * cb,
      [&](int64_t begin, int64_t end, int) {
        for (int64_t t = begin; t < end; ++t) {
          const int64_t i = t / cb, k = t % cb;
          const int64_t lanes = std::min(b, c - k * b);
          const E* nchw_x = x + (i * c + k * b) * hw;
          E* nchw_y = y + (i * c + k * b) * hw;
          if (op.to_blocked)
            to_block(nchw_x, hw, b, lanes, y + t * hw * b);
          else
            from_block(x + t * hw * b, hw, b, lanes, nchw_y);
        }
      },
      grain);
}

void relayout_fast(const RelayoutOp& op, const KernCtx& ctx) {
  switch (dtype_size(ctx.input(0).dtype())) {
    case 1: return relayout_t<uint8_t>(op, ctx);
    case 2: return relayout_t<uint16_t>(op, ctx);
    case 4: return relayout_t<uint32_t>(op, ctx);
    case 8: return relayout_t<uint64_t>(op, ctx);
    default: return relayout_naive(op, ctx);
  }
}

bool relayout_fast_usable(const Layout& x) {
  if (!x.is_contiguous() || x.numel() < 0) return false;
  const size_t es = dtype_size(x.dtype);
  return (es == 1 || es == 2 || es == 4 || es == 8);
}

template <class OpT>
class RelayoutAlgo final : public Algo {
 public:
  RelayoutAlgo(const char* name, uint32_t attrs, void (*fn)(const RelayoutOp&, const KernCtx&),
               bool fast)
      : name_(name), attrs_(attrs), fn_(fn), fast_(fast) {}
  const char* name() const override { return name_; }
  uint32_t attributes() const override { return attrs_; }
  bool usable(const Op& op, const InLayouts& in, const OutLayouts& out) const override {
    return !fast_ || (in[0] && relayout_fast_usable(*in[0]) && out[0].is_contiguous());
  }
  void exec(const Op& op, const KernCtx& ctx) const override {
    fn_(static_cast<const OpT&>(op).r, ctx);
  }

 private:
  const char* name_;
  uint32_t attrs_;
  void (*fn_)(const RelayoutOp&, const KernCtx&);
  bool fast_;
};

const RelayoutAlgo<ToNchwcOp> kToNaive("NAIVE", Algo::NAIVE | Algo::REPRODUCIBLE, relayout_naive,
                                       false);
const RelayoutAlgo<ToNchwcOp> kToFast("RELAYOUT_FAST", Algo::REPRODUCIBLE, relayout_fast, true);
const RelayoutAlgo<FromNchwcOp> kFromNaive("NAIVE", Algo::NAIVE | Algo::REPRODUCIBLE,
                                           relayout_naive, false);
const RelayoutAlgo<FromNchwcOp> kFromFast("RELAYOUT_FAST", Algo::REPRODUCIBLE, relayout_fast,
                                          true);

template <class OpT>
void register_relayout(OpRegistry& r, const char* type, std::vector<const Algo*> algos) {
  OpDef d;
  d.type = type;
  d.domain = "loadrun";
  d.create = [](const Attrs& a) -> std::unique_ptr<Op> { return std::make_unique<OpT>(a); };
  d.algos = std::move(algos);
  d.min_inputs = 1;
  d.max_inputs = 1;
  r.add(std::move(d));
}

}  // namespace

void register_op_ToNCHWc(OpRegistry& r) {
  register_relayout<ToNchwcOp>(r, "ToNCHWc", {&kToNaive, &kToFast});
}
void register_op_FromNCHWc(OpRegistry& r) {
  register_relayout<FromNchwcOp>(r, "FromNCHWc", {&kFromNaive, &kFromFast});
}

}  // namespace loadrun
