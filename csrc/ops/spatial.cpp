#include "ops/spatial.h"

#include <algorithm>

#include "core/errors.h"

namespace loadrun {

SpatialParams SpatialParams::from_attrs(const Attrs& a) {
  SpatialParams p;
  p.kernel = a.get_ints("kernel_shape");
  p.strides = a.get_ints("strides");
  p.dilations = a.get_ints("dilations");
  p.pads = a.get_ints("pads");
  p.auto_pad = a.get_string("auto_pad", "NOTSET");
  p.ceil_mode = a.get_int("ceil_mode", 0) != 0;
  LR_CHECK(p.auto_pad == "NOTSET" || p.auto_pad == "SAME_UPPER" || p.auto_pad == "SAME_LOWER" ||
               p.auto_pad == "VALID",
           ModelError, "auto_pad '", p.auto_pad, "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
  return p;
}

std::vector<int64_t> SpatialParams::resolve(const std::vector<int64_t>& in,
                                            const std::vector<int64_t>& kernel_dims,
                                            std::vector<int64_t>* pads_out) const {
  size_t n = in.size();
  const std::vector<int64_t>& k = kernel_dims.empty() ? kernel : kernel_dims;
  LR_CHECK(k.size() == n, ModelError, "kernel has ", k.size(), " dims, input has ", n,
           " spatial dims");
  LR_CHECK(strides.empty() || strides.size() == n, ModelError, "strides has ", strides.size(),
           " values, expected ", n);
  LR_CHECK(dilations.empty() || dilations.size() == n, ModelError, "dilations has ",
           dilations.size(), " values, expected ", n);
  LR_CHECK(pads.empty() || pads.size() == 2 * n, ModelError, "pads has ", pads.size(),
           " values, expected ", 2 * n);
  std::vector<int64_t> out(n), pd(2 * n, 0);
  for (size_t i = 0; i < n; ++i) {
    int64_t s = strides.empty() ? 1 : strides[i];
    int64_t d = dilations.empty() ? 1 : dilations[i];
    LR_CHECK(s > 0 && d > 0 && k[i] > 0, ModelError, "kernel, strides and dilations must be positive");
    int64_t ek = (k[i] - 1) * d + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      out[i] = (in[i] + s - 1) / s;
      int64_t total = std::max<int64_t>(0, (out[i] - 1) * s + ek - in[i]);
      int64_t small = total / 2, big = total - small;
      pd[i] = auto_pad == "SAME_UPPER" ? small : big;
      pd[i + n] = auto_pad == "SAME_UPPER" ? big : small;
      continue;
    }
    if (auto_pad == "NOTSET" && !pads.empty()) {
      pd[i] = pads[i];
      pd[i + n] = pads[i + n];
    }
    int64_t span = in[i] + pd[i] + pd[i + n] - ek;
    LR_CHECK(span >= 0, ModelError, "window of ", ek, " does not fit input of ", in[i],
             " with pads ", pd[i], "+", pd[i + n]);
    if (ceil_mode) {
      out[i] = (span + s - 1) / s + 1;
      // The last window must start inside the input or the begin padding.
      if ((out[i] - 1) * s >= in[i] + pd[i]) --out[i];
    } else {
      out[i] = span / s + 1;
    }
  }
  if (pads_out) *pads_out = pd;
  return out;
}

std::string SpatialParams::key() const {
  std::string r;
  auto put = [&](const char* name, const std::vector<int64_t>& v) {
    r += name;
    for (int64_t x : v) r += "," + std::to_string(x);
    r += ";";
  };
  put("k", kernel);
  put("s", strides);
  put("d", dilations);
  put("p", pads);
  r += auto_pad + (ceil_mode ? ";ceil" : "");
  return r;
}

}  // namespace loadrun
