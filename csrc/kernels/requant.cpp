// The portable requantisation row (requant.h): one element at a time, in
// the same double arithmetic as ops/qlinear_requant.h. The reference the ISA
// rows are tested against.
#include <algorithm>
#include <cmath>

#include "kernels/requant.h"

namespace loadrun {
namespace kernels {

void requant_row4_portable(const int32_t* acc, int64_t npix, const int32_t* s, bool s_per_lane,
                           const Requant4& q, uint8_t* out) {
  for (int64_t p = 0; p < npix; ++p)
    for (int l = 0; l < 4; ++l) {
      uint32_t a = static_cast<uint32_t>(acc[p * 4 + l]) + static_cast<uint32_t>(q.bias[l]);
      if (s)
        a -= static_cast<uint32_t>(q.wz[l]) *
             static_cast<uint32_t>(s_per_lane ? s[p * 4 + l] : s[p]);
      const double prod = static_cast<double>(static_cast<int32_t>(a)) * q.mult[l];
      const double v = std::clamp(std::nearbyint(prod + q.yzp), q.lo, q.hi);
      out[p * 4 + l] = q.out_signed ? static_cast<uint8_t>(static_cast<int8_t>(v))
                                    : static_cast<uint8_t>(v);
    }
}

}  // namespace kernels
}  // namespace loadrun
