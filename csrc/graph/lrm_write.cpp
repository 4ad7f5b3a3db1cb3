// Writer of the .lrm format (layout in graph/lrm.h). One pass lays the graph
// out as records, giving each tensor (constant or tensor attribute) the
// next 64-byte-aligned offset of the data section; the checksum is then
// taken over the pieces in file order and the file written in one go.
#include <cstdio>
#include <fstream>

#include "graph/lrm.h"
#include "graph/lrm_wire.h"

namespace loadrun {

const char kLrmMagic[8] = {'\x89', 'L', 'R', 'M', '\r', '\n', '\x1a', '\n'};

uint64_t fnv1a64(const uint8_t* p, size_t n, uint64_t h) {
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

namespace {

using lrm::Writer;

size_t align_up(size_t v) { return (v + kLrmAlign - 1) / kLrmAlign * kLrmAlign; }

class GraphWriter {
 public:
  std::vector<const Tensor*> tensors;  // in data order
  std::vector<size_t> offsets;         // in the data section
  size_t data_size = 0;

  void tensor_ref(Writer& w, const Tensor& t, const std::string& what) {
    LR_CHECK(t.numel() == 0 || !t.empty(), ModelError, what,
             ": its bytes were freed (write the graph before a Network frees its weights)");
    LR_CHECK(t.layout().is_contiguous(), ModelError, what, ": not contiguous");
    w.u8(static_cast<uint8_t>(t.dtype()));
    w.count(t.ndim());
    for (int64_t d : t.shape()) w.i64(d);
    size_t off = align_up(data_size);
    w.u64(off);
    w.u64(t.nbytes());
    tensors.push_back(&t);
    offsets.push_back(off);
    data_size = off + t.nbytes();
  }

  void attrs(Writer& w, const Attrs& a, int depth, const std::string& where) {
    w.count(a.all().size());
    for (const auto& kv : a.all()) {
      const AttrValue& v = kv.second;
      w.str(kv.first);
      switch (v.kind) {
        case AttrValue::kInt: w.u8(lrm::kAttrInt); w.i64(v.i); break;
        case AttrValue::kFloat: w.u8(lrm::kAttrFloat); w.f64(v.f); break;
        case AttrValue::kString: w.u8(lrm::kAttrString); w.str(v.s); break;
        case AttrValue::kInts:
          w.u8(lrm::kAttrInts);
          w.count(v.ints.size());
          for (int64_t x : v.ints) w.i64(x);
          break;
        case AttrValue::kFloats:
          w.u8(lrm::kAttrFloats);
          w.count(v.floats.size());
          for (double x : v.floats) w.f64(x);
          break;
        case AttrValue::kStrings:
          w.u8(lrm::kAttrStrings);
          w.count(v.strings.size());
          for (const auto& x : v.strings) w.str(x);
          break;
        case AttrValue::kTensor:
          w.u8(lrm::kAttrTensor);
          tensor_ref(w, v.t, str_cat(where, " attribute '", kv.first, "'"));
          break;
        case AttrValue::kGraph:
          LR_CHECK(v.g, ModelError, where, " attribute '", kv.first, "': no graph");
          w.u8(lrm::kAttrGraph);
          graph(w, *v.g, depth + 1);
          break;
      }
    }
  }

  void node(Writer& w, const Graph& g, const OprNode& n, int depth) {
    const auto& vars = g.vars();
    w.u8(lrm::kRecNode);
    w.str(n.def->type);
    w.str(n.def->domain);
    w.str(n.name);
    w.count(n.inputs.size());
    for (int id : n.inputs) w.str(id < 0 ? std::string() : vars[id].name);
    w.count(n.outputs.size());
    for (int id : n.outputs) w.str(vars[id].name);
    attrs(w, n.attrs, depth, str_cat("node '", n.name, "'"));
  }

  // Records in var-id order, each node just before its first output, so the
  // reader's add_* calls recreate the same ids.
  void graph(Writer& w, const Graph& g, int depth) {
    LR_CHECK(depth <= lrm::kMaxDepth, ModelError, "subgraphs nested more than ", lrm::kMaxDepth,
             " deep");
    const auto& vars = g.vars();
    const auto& oprs = g.oprs();
    size_t n_rec = oprs.size() + g.outputs().size();
    for (const Var& v : vars) n_rec += v.producer < 0 ? 1 : 0;
    w.count(n_rec);
    size_t next = 0;
    for (const Var& v : vars) {
      if (v.producer >= 0) {
        while (next <= static_cast<size_t>(v.producer)) node(w, g, *oprs[next++], depth);
      } else if (v.is_input) {
        w.u8(lrm::kRecInput);
        w.str(v.name);
        w.u8(static_cast<uint8_t>(v.kind));
        w.u8(static_cast<uint8_t>(v.dtype));
        w.count(v.shape.size());
        for (int64_t d : v.shape) w.i64(d);
      } else {
        w.u8(lrm::kRecConst);
        w.str(v.name);
        tensor_ref(w, v.value, str_cat("constant '", v.name, "'"));
      }
    }
    while (next < oprs.size()) node(w, g, *oprs[next++], depth);
    for (int id : g.outputs()) {
      w.u8(lrm::kRecOutput);
      w.str(vars[id].name);
    }
  }
};

void put_u32(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
}
void put_u64(std::string& s, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
}

}  // namespace

std::string lrm_serialize(const Graph& g, const LrmMeta& meta) {
  Writer w;
  GraphWriter gw;
  w.count(meta.size());
  for (const auto& kv : meta) {
    w.str(kv.first);
    w.str(kv.second);
  }
  gw.graph(w, g, 0);
  const std::string& st = w.bytes();
  const size_t data_off = align_up(kLrmHeaderSize + st.size());
  std::string out(data_off + gw.data_size, '\0');
  std::memcpy(&out[0], kLrmMagic, 8);
  put_u32(out, 8, kLrmVersion);
  put_u32(out, 12, kLrmHeaderSize);
  put_u64(out, 16, kLrmHeaderSize);
  put_u64(out, 24, st.size());
  put_u64(out, 32, data_off);
  put_u64(out, 40, gw.data_size);
  put_u64(out, 48, 0);
  std::memcpy(&out[kLrmHeaderSize], st.data(), st.size());
  for (size_t i = 0; i < gw.tensors.size(); ++i)
    if (gw.tensors[i]->nbytes())
      std::memcpy(&out[data_off + gw.offsets[i]], gw.tensors[i]->raw(), gw.tensors[i]->nbytes());
  const uint8_t* p = reinterpret_cast<const uint8_t*>(out.data());
  uint64_t h = fnv1a64(p, 56);
  h = fnv1a64(p + kLrmHeaderSize, out.size() - kLrmHeaderSize, h);
  put_u64(out, 56, h);
  return out;
}

void write_lrm_file(const std::string& path, const Graph& g, const LrmMeta& meta) {
  std::string bytes = lrm_serialize(g, meta);
  // Written next to the target then renamed: a failed write leaves no half file.
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    LR_CHECK(f, InputError, path, ": cannot open for writing");
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) {
      f.close();
      std::remove(tmp.c_str());
      LR_THROW(InputError, path, ": write failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    LR_THROW(InputError, path, ": cannot write (rename failed)");
  }
}

}  // namespace loadrun
