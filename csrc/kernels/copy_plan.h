// CopyPlan: a strided copy (dst contiguous in out_shape, src at an offset
// with any per-dim strides: 0 for a broadcast dim, negative for a reversed
// slice) reduced to "outer runs x one inner run". Size-1 dims are dropped and
// each dim merged into the next when the source stride continues across
// them (src_stride[d] == src_stride[d + 1] * out[d + 1]), so a slice that
// keeps whole rows becomes a few long memcpy runs, an Expand of a bias a
// run per row, a broadcast of a scalar one fill. The outer dims are walked
// with an odometer (no division per element, as strided_copy's NAIVE loop
// does). Each run is one memcpy (inner stride 1), one fill (0) or a strided
// word loop; runs of up to 16 bytes copy as words, not through memcpy.
// Cost O(n) + O(runs); good for every data-movement op whose source is a
// strided view of one tensor (Slice, Expand, Concat blocks, Gather rows).
// fast_strided_copy splits the output elements over a CompNode's threads
// (for_each_span walks one range; parallel_split.h).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/tensor.h"
#include "kernels/parallel_split.h"

namespace loadrun {
namespace kernels {

struct CopyPlan {
  std::vector<int64_t> dims;     // outer dims (collapsed), the inner one excluded
  std::vector<int64_t> strides;  // source strides of the outer dims, in elements
  int64_t inner = 1;             // elements per run
  int64_t inner_stride = 1;      // source stride inside a run: 1, 0 or other
  int64_t numel = 0;

  CopyPlan(const Shape& out, const Shape& src_strides) {
    numel = shape_numel(out);
    std::vector<int64_t> d, s;
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i] == 1) continue;
      if (!d.empty() && s.back() == src_strides[i] * out[i]) {
        d.back() *= out[i];
        s.back() = src_strides[i];
      } else {
        d.push_back(out[i]);
        s.push_back(src_strides[i]);
      }
    }
    if (d.empty()) {
      d.push_back(1);
      s.push_back(1);
    }
    inner = d.back();
    inner_stride = s.back();
    d.pop_back();
    s.pop_back();
    dims = d;
    strides = s;
  }

  // f(dst_offset, src_offset, len) over the output elements [begin, end),
  // one call per piece of a run (src_offset already at the piece).
  template <class F>
  void for_each_span(int64_t begin, int64_t end, F&& f) const {
    if (begin >= end) return;
    const size_t nd = dims.size();
    std::vector<int64_t> idx(nd, 0);
    int64_t run = begin / inner, pos = begin % inner;
    int64_t src = pos * inner_stride;
    for (size_t d = nd; d-- > 0;) {
      idx[d] = run % dims[d];
      run /= dims[d];
      src += idx[d] * strides[d];
    }
    int64_t dst = begin;
    for (;;) {
      const int64_t len = std::min(inner - pos, end - dst);
      f(dst, src, len);
      dst += len;
      if (dst >= end || nd == 0) return;
      src -= pos * inner_stride;
      pos = 0;
      size_t d = nd;
      for (;;) {
        if (d == 0) return;
        --d;
        if (++idx[d] < dims[d]) {
          src += strides[d];
          break;
        }
        src -= strides[d] * (dims[d] - 1);
        idx[d] = 0;
      }
    }
  }
};

// One run of n words of type W: dst[i] = src[i * stride].
template <typename W>
inline void copy_run(W* dst, const W* src, int64_t stride, int64_t n) {
  if (stride == 1) {
    if (n * static_cast<int64_t>(sizeof(W)) <= 16) {
      for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
    } else {
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(W));
    }
  } else if (stride == 0) {
    const W v = *src;
    for (int64_t i = 0; i < n; ++i) dst[i] = v;
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i] = src[i * stride];
  }
}

// dst (contiguous, out_shape) = src[offset + sum_d idx_d * src_strides[d]],
// elements of elem_size bytes (1, 2, 4 or 8). Same result as strided_copy.
// The output elements are split over cn's threads (null: the caller's).
inline void fast_strided_copy(void* dst, const void* src, size_t elem_size, const Shape& out_shape,
                              const Shape& src_strides, int64_t offset, CompNode* cn) {
  CopyPlan plan(out_shape, src_strides);
  auto run = [&](auto tag) {
    using W = decltype(tag);
    W* y = static_cast<W*>(dst);
    const W* x = static_cast<const W*>(src) + offset;
    const int64_t st = plan.inner_stride;
    // Short runs cost their loop overhead as much as their bytes.
    const double bytes = 2.0 * sizeof(W) + 16.0 / static_cast<double>(plan.inner);
    split_elems(cn, plan.numel, bytes, [&](int64_t begin, int64_t end) {
      plan.for_each_span(begin, end,
                         [&](int64_t yo, int64_t xo, int64_t n) { copy_run(y + yo, x + xo, st, n); });
    });
  };
  switch (elem_size) {
    case 1: run(uint8_t{}); break;
    case 2: run(uint16_t{}); break;
    case 4: run(uint32_t{}); break;
    default: run(uint64_t{}); break;
  }
}

}  // namespace kernels
}  // namespace loadrun
