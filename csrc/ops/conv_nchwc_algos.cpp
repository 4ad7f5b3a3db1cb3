// The fast algorithms of ConvNCHWc (ops/conv_nchwc.h), in the order the
// heuristic tries them after NAIVE.
#include "ops/conv_nchwc.h"

namespace loadrun {

std::vector<const Algo*> conv_nchwc_fast_algos() { return {}; }

}  // namespace loadrun
