// NonMaxSuppression (ONNX opset 11): boxes (B, N, 4), scores (B, C, N), and
// optional scalars max_output_boxes_per_class (int64, absent or empty: 0),
// iou_threshold (absent: 0) and score_threshold (absent: no threshold).
// Per (batch, class): the boxes whose score is > score_threshold, highest
// score first (the lower box index first on ties), are taken greedily; a box
// is dropped when its IoU with an already kept box of that class is > the
// threshold; at most max_output_boxes_per_class are kept. Output
// selected_indices (K, 3) int64 rows [batch, class, box], in that order.
// Boxes are [y1, x1, y2, x2] (any two opposite corners) for
// center_point_box 0, [x_centre, y_centre, width, height] for 1. Boxes with
// no area, or no overlap, never suppress. Arithmetic is in the boxes' dtype
// (float32 or float64), as in ONNX Runtime and the reference.
// K depends on the values: infer computes the whole selection from the
// inputs' values (UnsupportedError when they are not known at compile time);
// the kernel computes it again and checks K.
// NAIVE: a sort per (batch, class), then for each candidate an IoU test
// against every kept box. O(B * C * (N log N + N * K)).
#include <algorithm>
#include <array>
#include <cmath>

#include "ops/common.h"

namespace loadrun {

namespace {

using Selected = std::vector<std::array<int64_t, 3>>;

struct NmsParams {
  int64_t max_out = 0;
  double iou = 0;
  bool has_score = false;
  double score = 0;
};

// Does box a suppress box b (IoU > iou)?
template <typename T>
bool suppresses(const T* a, const T* b, bool center, T iou) {
  T ax0, ax1, ay0, ay1, bx0, bx1, by0, by1;
  if (center) {
    ax0 = a[0] - a[2] / T(2), ax1 = a[0] + a[2] / T(2);
    ay0 = a[1] - a[3] / T(2), ay1 = a[1] + a[3] / T(2);
    bx0 = b[0] - b[2] / T(2), bx1 = b[0] + b[2] / T(2);
    by0 = b[1] - b[3] / T(2), by1 = b[1] + b[3] / T(2);
  } else {
    ax0 = std::min(a[1], a[3]), ax1 = std::max(a[1], a[3]);
    ay0 = std::min(a[0], a[2]), ay1 = std::max(a[0], a[2]);
    bx0 = std::min(b[1], b[3]), bx1 = std::max(b[1], b[3]);
    by0 = std::min(b[0], b[2]), by1 = std::max(b[0], b[2]);
  }
  T ix0 = std::max(ax0, bx0), ix1 = std::min(ax1, bx1);
  if (ix1 <= ix0) return false;
  T iy0 = std::max(ay0, by0), iy1 = std::min(ay1, by1);
  if (iy1 <= iy0) return false;
  T inter = (ix1 - ix0) * (iy1 - iy0);
  T area_a = (ax1 - ax0) * (ay1 - ay0), area_b = (bx1 - bx0) * (by1 - by0);
  T uni = area_a + area_b - inter;
  if (inter <= 0 || area_a <= 0 || area_b <= 0 || uni <= 0) return false;
  return inter / uni > iou;
}

template <typename T>
Selected select_t(const Tensor& boxes, const Tensor& scores, const NmsParams& p, bool center) {
  const int64_t nb = boxes.shape()[0], n = boxes.shape()[1], nc = scores.shape()[1];
  const T* bx = boxes.ptr<T>();
  const T* sc = scores.ptr<T>();
  const T iou = static_cast<T>(p.iou), thr = static_cast<T>(p.score);
  Selected out;
  std::vector<int64_t> cand, kept;
  for (int64_t b = 0; b < nb; ++b) {
    const T* bb = bx + b * n * 4;
    for (int64_t c = 0; c < nc; ++c) {
      const T* s = sc + (b * nc + c) * n;
      cand.clear();
      kept.clear();
      for (int64_t i = 0; i < n; ++i)
        if (!p.has_score || s[i] > thr) cand.push_back(i);
      std::stable_sort(cand.begin(), cand.end(), [&](int64_t i, int64_t j) { return s[i] > s[j]; });
      for (int64_t i : cand) {
        if (static_cast<int64_t>(kept.size()) >= p.max_out) break;
        bool drop = false;
        for (int64_t k : kept) {
          if (suppresses<T>(bb + k * 4, bb + i * 4, center, iou)) {
            drop = true;
            break;
          }
        }
        if (drop) continue;
        kept.push_back(i);
        out.push_back({b, c, i});
      }
    }
  }
  return out;
}

// The thresholds from the optional scalar inputs (absent or empty: defaults).
NmsParams params_of(const Tensor* max_out, const Tensor* iou, const Tensor* score) {
  NmsParams p;
  if (max_out && max_out->numel() > 0) p.max_out = std::max<int64_t>(max_out->get_i64(0), 0);
  if (iou && iou->numel() > 0) p.iou = iou->get_f64(0);
  if (score && score->numel() > 0) {
    p.has_score = true;
    p.score = score->get_f64(0);
  }
  return p;
}

Selected select(const Tensor& boxes, const Tensor& scores, const NmsParams& p, bool center) {
  Selected r;
  LR_DISPATCH_FLOAT(boxes.dtype(), "NonMaxSuppression", r = select_t<T>(boxes, scores, p, center));
  return r;
}

struct NmsOp final : Op {
  bool center;
  explicit NmsOp(const Attrs& a) : center(a.get_int("center_point_box", 0) != 0) {
    int64_t c = a.get_int("center_point_box", 0);
    LR_CHECK(c == 0 || c == 1, ModelError,
             "NonMaxSuppression: center_point_box must be 0 or 1, got ", c);
  }
  std::string param_key() const override { return center ? "c" : ""; }
  void infer(InferCtx& ctx) const override {
    const Layout& b = ctx.input(0);
    const Layout& s = ctx.input(1);
    LR_CHECK(b.dtype == DType::Float32 || b.dtype == DType::Float64, UnsupportedError,
             "NonMaxSuppression on ", dtype_name(b.dtype), ": supported are float32, float64");
    LR_CHECK(s.dtype == b.dtype, ModelError, "NonMaxSuppression: scores are ",
             dtype_name(s.dtype), " but boxes are ", dtype_name(b.dtype));
    LR_CHECK(b.ndim() == 3 && b.shape[2] == 4, ModelError,
             "NonMaxSuppression: boxes must be (batches, boxes, 4), got ", shape_str(b.shape));
    LR_CHECK(s.ndim() == 3 && s.shape[0] == b.shape[0] && s.shape[2] == b.shape[1], ModelError,
             "NonMaxSuppression: scores must be (", b.shape[0], ", classes, ", b.shape[1],
             "), got ", shape_str(s.shape));
    for (size_t i = 2; i < 5; ++i) {
      if (!ctx.has(i)) continue;
      LR_CHECK(ctx.input(i).numel() <= 1, ModelError, "NonMaxSuppression: input ", i,
               " must be a scalar, got ", shape_str(ctx.input(i).shape));
    }
    LR_CHECK(!ctx.has(2) || ctx.input(2).dtype == DType::Int64, ModelError,
             "NonMaxSuppression: max_output_boxes_per_class must be int64");
    // The number of selected boxes depends on every input's value.
    const Tensor& boxes = ctx.value(0, "NonMaxSuppression boxes");
    const Tensor& scores = ctx.value(1, "NonMaxSuppression scores");
    const Tensor* mo =
        ctx.has(2) ? &ctx.value(2, "NonMaxSuppression max_output_boxes_per_class") : nullptr;
    const Tensor* iou = ctx.has(3) ? &ctx.value(3, "NonMaxSuppression iou_threshold") : nullptr;
    const Tensor* sc = ctx.has(4) ? &ctx.value(4, "NonMaxSuppression score_threshold") : nullptr;
    Selected sel = select(boxes, scores, params_of(mo, iou, sc), center);
    ctx.set_output(0, {static_cast<int64_t>(sel.size()), 3}, DType::Int64);
  }
};

void nms_naive(const NmsOp& op, const KernCtx& ctx) {
  auto opt = [&](size_t i) { return ctx.has(i) ? &ctx.input(i) : nullptr; };
  Selected sel = select(ctx.input(0), ctx.input(1), params_of(opt(2), opt(3), opt(4)), op.center);
  Tensor& y = ctx.output(0);
  LR_CHECK(static_cast<int64_t>(sel.size()) * 3 == y.numel(), InputError,
           "NonMaxSuppression selects ", sel.size(), " boxes for these inputs, ", y.numel() / 3,
           " when compiled");
  int64_t* out = y.ptr<int64_t>();
  for (size_t i = 0; i < sel.size(); ++i)
    for (size_t k = 0; k < 3; ++k) out[i * 3 + k] = sel[i][k];
}

const auto kNaive = naive_algo<NmsOp>(nms_naive);

}  // namespace

void register_op_NonMaxSuppression(OpRegistry& r) {
  register_simple<NmsOp>(r, "NonMaxSuppression", {&kNaive}, 2, 5);
}

}  // namespace loadrun
