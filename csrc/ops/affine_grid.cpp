// AffineGrid (ONNX opset 20): the sampling grid GridSample takes, from a
// batch of affine matrices theta (N, 2, 3) for 2-D or (N, 3, 4) for 3-D and
// size = (N, C, H, W) or (N, C, D, H, W), which must be known at compile
// time. Each output position gets base coordinates in [-1, 1] per dim:
//   align_corners=1: -1 + 2 i / (len - 1)   (1 when len is 1, as ONNX Runtime
//                    gives; the ONNX reference gives -1, PyTorch 0)
//   align_corners=0: -1 + (2 i + 1) / len
// and grid[n, (d,) h, w, :] = theta[n] @ (x, y, (z,) 1), x being the width
// coordinate. float16 computes in float32.
// NAIVE: one small matrix-vector product per output position, in double.
// O(N * prod(size[2:]) * r^2), no workspace.
#include "ops/common.h"

namespace loadrun {

namespace {

struct AffineGridOp final : Op {
  bool align_corners;
  explicit AffineGridOp(const Attrs& a) : align_corners(a.get_int("align_corners", 0) != 0) {}
  std::string param_key() const override { return align_corners ? "ac" : ""; }
  void infer(InferCtx& ctx) const override {
    const Layout& th = ctx.input(0);
    LR_CHECK(dtype_is_compute_float(th.dtype),
             UnsupportedError, "AffineGrid on ", dtype_name(th.dtype),
             ": supported are float16, bfloat16, float32, float64");
    LR_CHECK(ctx.input(1).dtype == DType::Int64 && ctx.input(1).ndim() == 1, ModelError,
             "AffineGrid: size must be a 1-D int64 tensor, got ", ctx.input(1).str());
    std::vector<int64_t> size = ints_of(ctx, 1, "AffineGrid size");
    LR_CHECK(size.size() == 4 || size.size() == 5, ModelError,
             "AffineGrid: size must have 4 (2-D) or 5 (3-D) values, got ", size.size());
    const int64_t r = static_cast<int64_t>(size.size()) - 2;
    LR_CHECK(th.ndim() == 3 && th.shape[0] == size[0] && th.shape[1] == r && th.shape[2] == r + 1,
             ModelError, "AffineGrid: theta must be (N, ", r, ", ", r + 1, ") with N = ", size[0],
             ", got ", shape_str(th.shape));
    for (int64_t v : size) LR_CHECK(v >= 0, ModelError, "AffineGrid: size values must be >= 0");
    Shape os{size[0]};
    os.insert(os.end(), size.begin() + 2, size.end());
    os.push_back(r);
    ctx.set_output(0, os, th.dtype);
  }
};

template <typename T>
void affine_grid_t(const AffineGridOp& op, const KernCtx& ctx) {
  std::vector<int64_t> size = ctx.input(1).to_i64_vector();
  const size_t r = size.size() - 2;
  Shape sp(size.begin() + 2, size.end());
  const int64_t n = size[0], plane = shape_numel(sp);
  const T* th = ctx.input(0).ptr<T>();
  T* y = ctx.output(0).ptr<T>();
  auto base = [&](int64_t i, int64_t len) {
    if (op.align_corners) return len > 1 ? -1.0 + 2.0 * i / static_cast<double>(len - 1) : 1.0;
    return -1.0 + (2.0 * i + 1.0) / static_cast<double>(len);
  };
  std::vector<double> pos(r + 1);
  for (int64_t b = 0; b < n; ++b) {
    const T* t = th + b * static_cast<int64_t>(r * (r + 1));
    for (int64_t p = 0; p < plane; ++p) {
      // pos = (x, y, (z,) 1): the fastest spatial dim first.
      int64_t rem = p;
      for (size_t d = r; d-- > 0;) {
        pos[r - 1 - d] = base(rem % sp[d], sp[d]);
        rem /= sp[d];
      }
      pos[r] = 1.0;
      for (size_t row = 0; row < r; ++row) {
        double acc = 0;
        for (size_t k = 0; k <= r; ++k) acc += static_cast<double>(t[row * (r + 1) + k]) * pos[k];
        int64_t at = (b * plane + p) * static_cast<int64_t>(r) + static_cast<int64_t>(row);
        y[at] = static_cast<T>(acc);
      }
    }
  }
}

void affine_grid_naive(const AffineGridOp& op, const KernCtx& ctx) {
  with_f16_as_f32(ctx, [&](const KernCtx& c) {
    LR_DISPATCH_FLOAT(c.input(0).dtype(), "AffineGrid", affine_grid_t<T>(op, c));
  });
}

const auto kNaive = naive_algo<AffineGridOp>(affine_grid_naive);

}  // namespace

void register_op_AffineGrid(OpRegistry& r) {
  register_simple<AffineGridOp>(r, "AffineGrid", {&kNaive}, 2, 2);
}

}  // namespace loadrun
