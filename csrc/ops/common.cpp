#include "ops/common.h"

#include <algorithm>

namespace loadrun {

int64_t normalize_axis(int64_t axis, int64_t rank, const char* what) {
  int64_t a = axis < 0 ? axis + rank : axis;
  LR_CHECK(a >= 0 && a < rank, ModelError, what, " ", axis, " is out of range for rank ", rank);
  return a;
}

Shape broadcast_shapes(const std::vector<Shape>& shapes) {
  size_t rank = 0;
  for (const auto& s : shapes) rank = std::max(rank, s.size());
  Shape out(rank, 1);
  for (const auto& s : shapes) {
    size_t off = rank - s.size();
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t& o = out[off + i];
      if (s[i] == o || s[i] == 1) continue;
      LR_CHECK(o == 1, ModelError, "shapes cannot broadcast: ", [&] {
        std::string r;
        for (const auto& x : shapes) r += shape_str(x) + " ";
        return r;
      }());
      o = s[i];
    }
  }
  return out;
}

Shape broadcast_strides(const Shape& in, const Shape& out) {
  Shape st(out.size(), 0);
  Shape cs = contiguous_strides(in);
  size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) st[off + i] = in[i] == 1 ? 0 : cs[i];
  return st;
}

BroadcastIndexer::BroadcastIndexer(const Shape& out_shape, const std::vector<Shape>& in_shapes)
    : out_shape_(out_shape), numel_(shape_numel(out_shape)), trivial_(true) {
  for (const auto& s : in_shapes) {
    strides_.push_back(broadcast_strides(s, out_shape));
    if (s != out_shape) trivial_ = false;
  }
}

int64_t BroadcastIndexer::offset(size_t k, int64_t i) const {
  if (trivial_) return i;
  const Shape& st = strides_[k];
  int64_t off = 0;
  for (size_t d = out_shape_.size(); d-- > 0;) {
    int64_t dim = out_shape_[d];
    off += (i % dim) * st[d];
    i /= dim;
  }
  return off;
}

std::vector<int64_t> ints_of(const InferCtx& ctx, size_t i, const char* what) {
  if (!ctx.has(i)) return {};
  return ctx.value(i, what).to_i64_vector();
}

int64_t dims_product(const Shape& s, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end && i < s.size(); ++i) p *= s[i];
  return p;
}

void run_f16_as_f32(const KernCtx& ctx, const std::function<void(const KernCtx&)>& fn) {
  with_f16_as_f32(ctx, fn);
}

}  // namespace loadrun

namespace loadrun {

void with_f16_as_f32(const KernCtx& ctx, const std::function<void(const KernCtx&)>& fn) {
  bool any = false;
  for (const Tensor* t : ctx.in) any = any || (t && dtype_is_lowp_float(t->dtype()));
  for (const Tensor* t : ctx.out) any = any || (t && dtype_is_lowp_float(t->dtype()));
  if (!any) {
    fn(ctx);
    return;
  }
  KernCtx c = ctx;
  std::vector<Tensor> ins(ctx.in.size()), outs(ctx.out.size());
  for (size_t i = 0; i < ctx.in.size(); ++i) {
    const Tensor* t = ctx.in[i];
    if (!t || !dtype_is_lowp_float(t->dtype())) continue;
    ins[i] = Tensor(Layout(t->shape(), DType::Float32));
    const uint16_t* s = t->ptr<uint16_t>();
    float* d = ins[i].ptr<float>();
    if (t->dtype() == DType::Float16) {
      for (int64_t k = 0; k < t->numel(); ++k) d[k] = half_to_float(s[k]);
    } else {
      for (int64_t k = 0; k < t->numel(); ++k) d[k] = bf16_to_float(s[k]);
    }
    c.in[i] = &ins[i];
  }
  for (size_t i = 0; i < ctx.out.size(); ++i) {
    Tensor* t = ctx.out[i];
    if (!t || !dtype_is_lowp_float(t->dtype())) continue;
    outs[i] = Tensor(Layout(t->shape(), DType::Float32));
    c.out[i] = &outs[i];
  }
  fn(c);
  for (size_t i = 0; i < ctx.out.size(); ++i) {
    Tensor* t = ctx.out[i];
    if (!t || !dtype_is_lowp_float(t->dtype())) continue;
    const float* s = outs[i].ptr<float>();
    uint16_t* d = t->ptr<uint16_t>();
    if (t->dtype() == DType::Float16) {
      for (int64_t k = 0; k < t->numel(); ++k) d[k] = float_to_half(s[k]);
    } else {
      for (int64_t k = 0; k < t->numel(); ++k) d[k] = float_to_bf16(s[k]);
    }
  }
}

void store_f64(Tensor& t, int64_t i, double v) {
  switch (t.dtype()) {
    case DType::Float16: t.ptr<uint16_t>()[i] = float_to_half(static_cast<float>(v)); break;
    case DType::BFloat16: t.ptr<uint16_t>()[i] = float_to_bf16(static_cast<float>(v)); break;
    case DType::Float32: t.ptr<float>()[i] = static_cast<float>(v); break;
    case DType::Float64: t.ptr<double>()[i] = v; break;
    default: LR_THROW(InternalError, "store_f64 on dtype ", dtype_name(t.dtype()));
  }
}

}  // namespace loadrun
