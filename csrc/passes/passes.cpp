// The pass pipeline: the order the graph passes run in (see passes.h).
#include "passes/passes.h"

#include "core/errors.h"

namespace loadrun {

std::shared_ptr<const Graph> optimize_graph(std::shared_ptr<const Graph> g) {
  // Transformer subgraphs first: their parts would otherwise become
  // elementwise chains. GELU before MatMul + bias, which takes it in.
  g = fuse_attention(std::move(g));
  g = fuse_layernorm(std::move(g));
  g = fuse_gelu(std::move(g));
  g = fuse_matmul_bias(std::move(g));
  g = fuse_conv_bn_act(std::move(g));  // before the chains: a Conv takes its activation itself
  g = fuse_elementwise_chains(std::move(g));
  g = drop_unused_constants(std::move(g));  // last: what the fusions replaced
  return g;
}

std::shared_ptr<const Graph> convert_layout(std::shared_ptr<const Graph> g,
                                            const std::string& layout) {
  if (layout.empty()) return g;
  if (layout == "nchw44") return convert_layout_nchwc(std::move(g), 4);
  if (layout == "nchw88") return convert_layout_nchwc(std::move(g), 8);
  throw UnsupportedError(str_cat("layout '", layout,
                                 "' is not supported (supported: nchw44, nchw88)"));
}

}  // namespace loadrun
