// The native .lrm model format: a core Graph (inputs, constants, nodes with
// their attributes -- subgraphs of If/Loop/Scan included, recursively --
// and outputs) serialised by the core itself, so a model loads in C++ with
// no Python and no ONNX parser (lr_run --model, the aarch64 CI step).
//
// Layout (all integers little-endian):
//   [0, 64)        header: magic "\x89LRM\r\n\x1a\n", u32 version, u32 header
//                  size (64), u64 structure offset (64) and size, u64 data
//                  offset (a multiple of 64) and size, u64 flags (0), u64
//                  checksum: FNV-1a 64 of header bytes [0, 56) followed by
//                  every byte after the header.
//   structure      u32 metadata count, (string key, string value)*, then the
//                  graph as records in the order the importer made them
//                  (input, constant, node, output), so a read rebuilds the
//                  same var ids. Strings are u32 length + bytes.
//   data           constant and tensor-attribute bytes, each at a multiple of
//                  64 from the data offset (itself a multiple of 64):
//                  read_lrm_file maps the file and uses the weights in place
//                  (lrm_read.cpp).
// The graph is the importer's, before any graph pass: a load runs the same
// passes as a load from ONNX. Metadata is opaque to the core (the Python
// layer keeps the opset, the producer and the inputs' dim names there).
//
// Reading checks everything before trusting it -- size, magic, version,
// checksum, every count and size against the bytes left, dtypes, kinds,
// tensor extents, nesting depth -- and reports bad input as one ModelError
// (UnsupportedError for a newer version or an unknown operator) that names
// the file, never a crash.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"

namespace loadrun {

constexpr uint32_t kLrmVersion = 1;
constexpr size_t kLrmHeaderSize = 64;
constexpr size_t kLrmAlign = 64;
extern const char kLrmMagic[8];

using LrmMeta = std::vector<std::pair<std::string, std::string>>;

struct LrmModel {
  std::shared_ptr<Graph> graph;
  LrmMeta meta;
};

// The file's bytes. Throws ModelError when a constant's bytes were freed
// (a graph a Network has compiled with free_weights) or are not contiguous.
std::string lrm_serialize(const Graph& g, const LrmMeta& meta);
void write_lrm_file(const std::string& path, const Graph& g, const LrmMeta& meta);

// `what` names the source in errors (the file name). lrm_parse copies the
// tensors out of `data`; read_lrm_file maps the file and its tensors borrow
// the mapping (kept alive by them), falling back to a copy where mmap fails.
LrmModel lrm_parse(const uint8_t* data, size_t size, const std::string& what);
LrmModel read_lrm_file(const std::string& path);

// FNV-1a 64 over a byte range, continuing from `h`.
uint64_t fnv1a64(const uint8_t* p, size_t n, uint64_t h = 0xcbf29ce484222325ull);

}  // namespace loadrun
