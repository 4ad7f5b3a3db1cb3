// Splitting a kernel's independent items (output elements, rows, planes)
// over a CompNode's threads (runtime/comp_node.h). A parallel_for costs a
// few microseconds, so a range must hold enough work to pay for it: the
// grain is chosen from an estimate of the bytes each item moves (reads plus
// writes; compute-heavy items count a multiple of that), aiming at
// kRangeBytes per range, so a small tensor stays on one thread and a large
// one splits into one range per thread. Element ranges start on multiples
// of kElemAlign, so two threads never write the same cache line of a
// float32 output and a vector kernel sees the same 8-wide blocks whatever
// the split. The split never changes what an item computes, only which
// thread does it: results are bit-identical at every thread count.
#pragma once
#include <algorithm>
#include <cstdint>

#include "runtime/comp_node.h"

namespace loadrun {
namespace kernels {

// Work a range should hold (bytes of traffic, or their equivalent in time).
constexpr int64_t kRangeBytes = 64 * 1024;
// Element ranges start at multiples of this (64 bytes of float32).
constexpr int64_t kElemAlign = 16;

// Items per range for items of about `bytes` each.
inline int64_t grain_for(double bytes) {
  if (!(bytes > 0)) return kRangeBytes;
  const double g = static_cast<double>(kRangeBytes) / bytes;
  return g < 1 ? 1 : g > 1e15 ? static_cast<int64_t>(1e15) : static_cast<int64_t>(g);
}

// fn(begin, end, tid) over ranges of [0, n) items of about `bytes` each
// (inline on the caller when cn is null or the work is one range).
template <class F>
void split_items(CompNode* cn, int64_t n, double bytes, F&& fn) {
  if (n <= 0) return;
  const int64_t grain = grain_for(bytes);
  if (!cn || cn->num_threads() <= 1 || n <= grain) {
    fn(int64_t{0}, n, 0);
    return;
  }
  cn->parallel_for(n, [&](int64_t b, int64_t e, int tid) { fn(b, e, tid); }, grain);
}

// fn(begin, end) over ranges of [0, n) elements of about `bytes` each, every
// range but the last a multiple of kElemAlign long.
template <class F>
void split_elems(CompNode* cn, int64_t n, double bytes, F&& fn) {
  if (n <= 0) return;
  const int64_t blocks = (n + kElemAlign - 1) / kElemAlign;
  split_items(cn, blocks, bytes * kElemAlign, [&](int64_t b, int64_t e, int) {
    fn(b * kElemAlign, std::min(e * kElemAlign, n));
  });
}

}  // namespace kernels
}  // namespace loadrun
