// BroadcastPlan: NumPy broadcasting of up to kMaxOps operands to an output,
// reduced to "outer runs x one inner run". Dims of size 1 are dropped and
// neighbouring dims merged wherever every operand reads them as one
// contiguous (or one broadcast) block, so the common cases collapse to a
// single loop: same shape (one run, every stride 1), a scalar operand
// (stride 0), a bias over the last dim ([outer] runs, bias stride 1 restarting
// at 0), a per-channel NCHW operand ([N*C] runs of H*W, stride 0 per run).
// for_each_span() then calls f(out_offset, in_offsets, len) per run of
// `inner` elements (each operand's inner stride being inner_stride[k], 0 or
// 1) over a range of output elements, a thread's share
// (kernels/parallel_split.h): its first and last runs may be partial.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/errors.h"
#include "core/tensor.h"
#include "kernels/eltwise.h"
#include "kernels/parallel_split.h"

namespace loadrun {
namespace kernels {

struct BroadcastPlan {
  static constexpr int kMaxOps = 16;
  int nops = 0;
  std::vector<int64_t> dims;                  // collapsed outer dims (the inner dim excluded)
  std::vector<std::vector<int64_t>> strides;  // [op][outer dim], in elements
  int64_t inner = 1;
  int64_t inner_stride[kMaxOps] = {};
  int64_t numel = 0;

  BroadcastPlan(const Shape& out, const std::vector<Shape>& ins) {
    LR_CHECK(ins.size() <= static_cast<size_t>(kMaxOps), InternalError, "BroadcastPlan: ",
             ins.size(), " operands, at most ", kMaxOps);
    nops = static_cast<int>(ins.size());
    numel = shape_numel(out);
    const size_t rank = out.size();
    // Per-operand strides over the output's dims (0 where broadcast).
    std::vector<std::vector<int64_t>> st(ins.size(), std::vector<int64_t>(rank, 0));
    for (size_t k = 0; k < ins.size(); ++k) {
      const Shape& s = ins[k];
      size_t off = rank - s.size();
      int64_t acc = 1;
      for (size_t i = s.size(); i-- > 0;) {
        st[k][off + i] = s[i] == 1 ? 0 : acc;
        acc *= s[i];
      }
    }
    // Keep dims of size > 1, merging a dim into the next kept one when every
    // operand's stride continues across the boundary.
    std::vector<int64_t> d;
    std::vector<std::vector<int64_t>> ss(ins.size());
    for (size_t i = 0; i < rank; ++i) {
      if (out[i] == 1) continue;
      bool merge = !d.empty();
      for (size_t k = 0; merge && k < ins.size(); ++k)
        merge = ss[k].back() == st[k][i] * out[i];
      if (merge) {
        d.back() *= out[i];
        for (size_t k = 0; k < ins.size(); ++k) ss[k].back() = st[k][i];
      } else {
        d.push_back(out[i]);
        for (size_t k = 0; k < ins.size(); ++k) ss[k].push_back(st[k][i]);
      }
    }
    if (d.empty()) {  // a single element
      d.push_back(1);
      for (size_t k = 0; k < ins.size(); ++k) ss[k].push_back(0);
    }
    inner = d.back();
    for (size_t k = 0; k < ins.size(); ++k) {
      // A broadcast inner dim reads one element; a stride-1 one a run.
      inner_stride[k] = ss[k].back() == 0 ? 0 : 1;
      ss[k].pop_back();
    }
    d.pop_back();
    dims = d;
    strides = ss;
  }

  // f(out_offset, in_offsets, len) over the output elements [begin, end),
  // one call per piece of a run (in_offsets already point at the piece).
  template <class F>
  void for_each_span(int64_t begin, int64_t end, F&& f) const {
    if (begin >= end) return;
    const size_t nd = dims.size();
    std::vector<int64_t> idx(nd, 0);
    int64_t off[kMaxOps] = {};
    int64_t run = begin / inner, pos = begin % inner;
    for (size_t d = nd; d-- > 0;) {
      idx[d] = run % dims[d];
      run /= dims[d];
      for (int k = 0; k < nops; ++k) off[k] += idx[d] * strides[k][d];
    }
    for (int k = 0; k < nops; ++k) off[k] += pos * inner_stride[k];
    int64_t out_off = begin;
    for (;;) {
      const int64_t len = std::min(inner - pos, end - out_off);
      f(out_off, static_cast<const int64_t*>(off), len);
      out_off += len;
      if (out_off >= end || nd == 0) return;
      for (int k = 0; k < nops; ++k) off[k] -= pos * inner_stride[k];
      pos = 0;
      size_t d = nd;
      while (d > 0) {
        --d;
        if (++idx[d] < dims[d]) {
          for (int k = 0; k < nops; ++k) off[k] += strides[k][d];
          break;
        }
        for (int k = 0; k < nops; ++k) off[k] -= strides[k][d] * (dims[d] - 1);
        idx[d] = 0;
        if (d == 0) return;
      }
    }
  }
};

// y = a op b (float32) with NumPy broadcasting: one kernel call per run,
// output elements split over cn's threads.
// The same with the plan worked out before (a bound kernel keeps it).
inline void broadcast_binary(const EltwiseImpl& impl, BinaryKind k, const BroadcastPlan& plan,
                             const Tensor& a, const Tensor& b, Tensor& y, CompNode* cn) {
  const float* pa = a.ptr<float>();
  const float* pb = b.ptr<float>();
  float* py = y.ptr<float>();
  const int64_t sa = plan.inner_stride[0], sb = plan.inner_stride[1];
  split_elems(cn, plan.numel, 12, [&](int64_t begin, int64_t end) {
    plan.for_each_span(begin, end, [&](int64_t yo, const int64_t* off, int64_t n) {
      impl.binary(k, pa + off[0], sa, pb + off[1], sb, py + yo, n);
    });
  });
}

inline void broadcast_binary(const EltwiseImpl& impl, BinaryKind k, const Tensor& a,
                             const Tensor& b, Tensor& y, CompNode* cn) {
  broadcast_binary(impl, k, BroadcastPlan(y.shape(), {a.shape(), b.shape()}), a, b, y, cn);
}

}  // namespace kernels
}  // namespace loadrun
