// Graph passes: rewrites of an imported Graph that a Network applies once,
// when it is built (NetworkOptions::optimize), before any compile. A pass
// never changes what the graph computes beyond float rounding, nor the
// names and order of the graph's inputs and outputs. Graphs are immutable,
// so a pass that changes something returns a new Graph; one that finds
// nothing to do returns its argument.
#pragma once
#include <memory>
#include <string>

#include "graph/graph.h"

namespace loadrun {

// Conv -> BatchNormalization -> activation chains (fuse_conv.cpp).
std::shared_ptr<const Graph> fuse_conv_bn_act(std::shared_ptr<const Graph> g);

// Chains of elementwise float ops into one ElementwiseChain node
// (fuse_elementwise.cpp).
std::shared_ptr<const Graph> fuse_elementwise_chains(std::shared_ptr<const Graph> g);

// Constants no node reads and no output names (drop_constants.cpp).
std::shared_ptr<const Graph> drop_unused_constants(std::shared_ptr<const Graph> g);

// Decomposed GELU (erf and tanh forms) into one Gelu node (fuse_gelu.cpp).
std::shared_ptr<const Graph> fuse_gelu(std::shared_ptr<const Graph> g);

// Decomposed LayerNorm (ReduceMean/Sub/Pow/.../Add) into LayerNormalization
// (fuse_layernorm.cpp).
std::shared_ptr<const Graph> fuse_layernorm(std::shared_ptr<const Graph> g);

// MatMul by a constant matrix + constant bias (+ activation) into one
// FusedMatMul with an SGEMM epilogue (fuse_matmul_bias.cpp).
std::shared_ptr<const Graph> fuse_matmul_bias(std::shared_ptr<const Graph> g);

// The scaled dot-product attention subgraph (with its head transposes) into
// one MultiHeadAttention node (fuse_attention.cpp).
std::shared_ptr<const Graph> fuse_attention(std::shared_ptr<const Graph> g);

// The conv trunk into the channel-blocked layout of block 4 (NCHW44) or 8
// (NCHW88) (convert_layout.cpp); not part of optimize_graph: the network
// applies it when NetworkOptions::layout asks.
std::shared_ptr<const Graph> convert_layout_nchwc(std::shared_ptr<const Graph> g, int64_t block);

// The layout conversion NetworkOptions::layout names: "" (none), "nchw44",
// "nchw88"; UnsupportedError for another name.
std::shared_ptr<const Graph> convert_layout(std::shared_ptr<const Graph> g,
                                            const std::string& layout);

// Every pass, in order.
std::shared_ptr<const Graph> optimize_graph(std::shared_ptr<const Graph> g);

}  // namespace loadrun
