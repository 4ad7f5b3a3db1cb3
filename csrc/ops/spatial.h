// Window geometry shared by Conv, ConvTranspose and the pools: kernel,
// strides, dilations, explicit pads or auto_pad, resolved per input size.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "graph/attrs.h"

namespace loadrun {

struct SpatialParams {
  std::vector<int64_t> kernel;     // may be empty until the weight is seen
  std::vector<int64_t> strides;    // empty = all 1
  std::vector<int64_t> dilations;  // empty = all 1
  std::vector<int64_t> pads;       // begins then ends; empty = all 0
  std::string auto_pad = "NOTSET";
  bool ceil_mode = false;

  static SpatialParams from_attrs(const Attrs& a);
  // Fills pads (for auto_pad) and returns output sizes for `in` spatial dims.
  // `kernel_dims` overrides `kernel` when non-empty (Conv reads it from W).
  std::vector<int64_t> resolve(const std::vector<int64_t>& in,
                               const std::vector<int64_t>& kernel_dims,
                               std::vector<int64_t>* pads_out) const;
  std::string key() const;
};

}  // namespace loadrun
