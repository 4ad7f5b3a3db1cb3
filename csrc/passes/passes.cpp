// The pass pipeline: the order the graph passes run in (see passes.h).
#include "passes/passes.h"

namespace loadrun {

std::shared_ptr<const Graph> optimize_graph(std::shared_ptr<const Graph> g) {
  g = fuse_conv_bn_act(std::move(g));  // first: a Conv takes its activation itself
  g = fuse_elementwise_chains(std::move(g));
  g = drop_unused_constants(std::move(g));  // last: what the fusions replaced
  return g;
}

}  // namespace loadrun
