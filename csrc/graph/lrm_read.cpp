// Reader of the .lrm format (layout in graph/lrm.h). The header is checked
// against the file size, the checksum against the bytes, then the records
// are replayed through the Graph API (add_input / add_const / add_opr /
// add_output), which itself refuses unknown operators, bad input counts,
// duplicate or dangling names. Every count, rank, dtype, kind and tensor
// extent is validated before it is used, so corrupt input ends in one
// ModelError (UnsupportedError for a newer version or an unknown operator)
// prefixed with the file name.
//
// A file is mapped (mmap), not read: constants and tensor attributes whose
// bytes sit at 64-byte aligned addresses (every one in a valid file: the
// data section and each tensor in it are 64-aligned, the mapping
// page-aligned) borrow the mapping instead of being copied, so a load holds
// the weights once (the page cache's copy) instead of twice (a read buffer
// and the tensors). Each borrowing tensor holds a share of the mapping,
// which is unmapped when the last one goes; when one goes, the whole pages
// only it covered are dropped (madvise), so weights a compile frees after
// prepacking leave the resident set as copied ones would. The mapping is
// private (MAP_PRIVATE) of a file opened read-only: nothing is ever written
// back, and a pass that edited a constant in place would get its own copy
// of the page. A buffer (lrm_parse) is copied, as is a file mmap refuses.
// Like any mapped file, one truncated or rewritten in place while a model
// loaded from it is alive can change its weights or fault (SIGBUS); the
// writer (lrm_write.cpp) replaces files instead.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <new>

#include "graph/lrm.h"
#include "graph/lrm_wire.h"

namespace loadrun {

namespace {

using lrm::Reader;

uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}
uint32_t get_u32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}

// A file mapped with mmap, unmapped when the last tensor borrowing it goes.
class FileMap {
 public:
  FileMap(void* base, size_t size) : base_(base), size_(size) {}
  ~FileMap() { ::munmap(base_, size_); }
  FileMap(const FileMap&) = delete;
  FileMap& operator=(const FileMap&) = delete;
  const uint8_t* data() const { return static_cast<const uint8_t*>(base_); }

  // [p, p + n) is no longer used: the whole pages inside it leave the
  // resident set (a later touch would read them from the file again).
  static void drop_pages(uint8_t* p, size_t n) {
    const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const uintptr_t b = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
    const uintptr_t e = (reinterpret_cast<uintptr_t>(p) + n) / page * page;
    if (e > b) ::madvise(reinterpret_cast<void*>(b), e - b, MADV_DONTNEED);
  }

 private:
  void* base_;
  size_t size_;
};

class GraphReader {
 public:
  // `map`: the file data lies in, or null (a buffer: tensors copy).
  GraphReader(const uint8_t* data, size_t size, std::shared_ptr<FileMap> map)
      : data_(data), size_(size), map_(std::move(map)) {}

  DType dtype(Reader& r) {
    uint8_t d = r.u8();
    LR_CHECK(d < kNumDTypes, ModelError, "corrupt dtype code ", int(d));
    return static_cast<DType>(d);
  }

  Shape shape(Reader& r, int64_t min_dim) {
    size_t rank = r.count(8, "rank");
    LR_CHECK(rank <= lrm::kMaxRank, ModelError, "corrupt rank ", rank);
    Shape s(rank);
    for (auto& d : s) {
      d = r.i64();
      LR_CHECK(d >= min_dim, ModelError, "corrupt dimension ", d);
    }
    return s;
  }

  Tensor tensor(Reader& r, const std::string& what) {
    DType dt = dtype(r);
    Shape s = shape(r, 0);
    uint64_t off = r.u64(), nbytes = r.u64();
    LR_CHECK(off % kLrmAlign == 0 && off <= size_ && nbytes <= size_ - off, ModelError, what,
             ": bytes [", off, ", +", nbytes, ") lie outside the data section (", size_,
             " bytes) or are not aligned");
    // numel * element size, without overflow: it must come to nbytes exactly.
    uint64_t n = dtype_size(dt);
    bool over = false;
    for (int64_t d : s) {
      if (d != 0 && n > nbytes / static_cast<uint64_t>(d)) over = true;
      else n *= static_cast<uint64_t>(d);
    }
    LR_CHECK(!over && n == nbytes, ModelError, what, ": shape ", shape_str(s), " of ", dtype_name(dt),
             " does not take ", nbytes, " bytes");
    uint8_t* src = const_cast<uint8_t*>(data_ + off);
    if (map_ && nbytes && reinterpret_cast<uintptr_t>(src) % kLrmAlign == 0) {
      // Borrowed: the storage's deleter keeps the mapping alive until the
      // tensor (and every view of it) is gone, then drops its pages.
      std::shared_ptr<FileMap> owner = map_;
      const size_t n = static_cast<size_t>(nbytes);
      std::shared_ptr<uint8_t> bytes(src, [owner, n](uint8_t* q) { FileMap::drop_pages(q, n); });
      return Tensor::view(Layout(s, dt), bytes, 0);
    }
    Tensor t{Layout(s, dt)};
    if (nbytes) std::memcpy(t.raw(), src, nbytes);
    return t;
  }

  Attrs attrs(Reader& r, int depth, const std::string& where) {
    Attrs a;
    size_t n = r.count(5, "attribute");
    for (size_t i = 0; i < n; ++i) {
      std::string name = r.str();
      LR_CHECK(!a.has(name), ModelError, where, ": attribute '", name, "' appears twice");
      AttrValue v;
      uint8_t tag = r.u8();
      switch (tag) {
        case lrm::kAttrInt: v.kind = AttrValue::kInt; v.i = r.i64(); break;
        case lrm::kAttrFloat: v.kind = AttrValue::kFloat; v.f = r.f64(); break;
        case lrm::kAttrString: v.kind = AttrValue::kString; v.s = r.str(); break;
        case lrm::kAttrInts: {
          v.kind = AttrValue::kInts;
          v.ints.resize(r.count(8, "attribute list"));
          for (auto& x : v.ints) x = r.i64();
          break;
        }
        case lrm::kAttrFloats: {
          v.kind = AttrValue::kFloats;
          v.floats.resize(r.count(8, "attribute list"));
          for (auto& x : v.floats) x = r.f64();
          break;
        }
        case lrm::kAttrStrings: {
          v.kind = AttrValue::kStrings;
          v.strings.resize(r.count(4, "attribute list"));
          for (auto& x : v.strings) x = r.str();
          break;
        }
        case lrm::kAttrTensor:
          v.kind = AttrValue::kTensor;
          v.t = tensor(r, str_cat(where, " attribute '", name, "'"));
          break;
        case lrm::kAttrGraph:
          v.kind = AttrValue::kGraph;
          v.g = graph(r, depth + 1);
          break;
        default:
          LR_THROW(ModelError, where, ": attribute '", name, "' has a corrupt kind code ", int(tag));
      }
      a.set(name, std::move(v));
    }
    return a;
  }

  std::shared_ptr<Graph> graph(Reader& r, int depth) {
    LR_CHECK(depth <= lrm::kMaxDepth, ModelError, "subgraphs nested more than ", lrm::kMaxDepth,
             " deep");
    auto g = std::make_shared<Graph>();
    size_t n = r.count(5, "record");
    for (size_t i = 0; i < n; ++i) {
      uint8_t tag = r.u8();
      switch (tag) {
        case lrm::kRecInput: {
          std::string name = r.str();
          uint8_t kind = r.u8();
          LR_CHECK(kind <= static_cast<uint8_t>(ValueKind::kOptionalSequence), ModelError,
                   "input '", name, "': corrupt value kind ", int(kind));
          DType dt = dtype(r);
          Shape s = shape(r, -1);
          g->add_input(name, dt, s, static_cast<ValueKind>(kind));
          break;
        }
        case lrm::kRecConst: {
          std::string name = r.str();
          g->add_const(name, tensor(r, str_cat("constant '", name, "'")));
          break;
        }
        case lrm::kRecNode: {
          std::string type = r.str(), domain = r.str(), name = r.str();
          std::vector<std::string> ins(r.count(4, "node input")), outs;
          for (auto& s : ins) s = r.str();
          outs.resize(r.count(4, "node output"));
          for (auto& s : outs) s = r.str();
          Attrs a = attrs(r, depth, str_cat("node '", name, "'"));
          g->add_opr(type, domain, name, a, ins, outs);
          break;
        }
        case lrm::kRecOutput:
          g->add_output(r.str());
          break;
        default:
          LR_THROW(ModelError, "corrupt record tag ", int(tag), " at structure offset ", r.pos() - 1);
      }
    }
    LR_CHECK(!g->outputs().empty(), ModelError, "a graph has no outputs");
    return g;
  }

 private:
  const uint8_t* data_;  // the data section
  size_t size_;
  std::shared_ptr<FileMap> map_;
};

LrmModel parse(const uint8_t* p, size_t size, const std::shared_ptr<FileMap>& map) {
  LR_CHECK(size >= kLrmHeaderSize, ModelError, "not a .lrm model: ", size,
           " bytes, shorter than the header (", kLrmHeaderSize, ")");
  LR_CHECK(std::memcmp(p, kLrmMagic, 8) == 0, ModelError, "not a .lrm model (wrong magic bytes)");
  uint32_t version = get_u32(p + 8);
  LR_CHECK(version != 0, ModelError, "corrupt header: format version 0");
  LR_CHECK(version <= kLrmVersion, UnsupportedError, "written in .lrm format version ", version,
           ", this loadrun reads up to version ", kLrmVersion, " (upgrade loadrun)");
  LR_CHECK(get_u32(p + 12) == kLrmHeaderSize && get_u64(p + 16) == kLrmHeaderSize, ModelError,
           "corrupt header (header size ", get_u32(p + 12), ", structure offset ", get_u64(p + 16), ")");
  const uint64_t st_size = get_u64(p + 24), data_off = get_u64(p + 32), data_size = get_u64(p + 40);
  LR_CHECK(data_off <= size && data_size <= size - data_off && data_off % kLrmAlign == 0 &&
               st_size <= data_off - kLrmHeaderSize && data_off >= kLrmHeaderSize,
           ModelError, "corrupt header: sections (structure ", st_size, " bytes, data ", data_size,
           " bytes at ", data_off, ") do not fit the file's ", size, " bytes");
  LR_CHECK(data_off + data_size == size, ModelError, "truncated or padded: the header says ",
           data_off + data_size, " bytes, the file has ", size);
  LR_CHECK(get_u64(p + 48) == 0, UnsupportedError, "uses format flags ", get_u64(p + 48),
           " this loadrun does not know");
  uint64_t h = fnv1a64(p, 56);
  h = fnv1a64(p + kLrmHeaderSize, size - kLrmHeaderSize, h);
  LR_CHECK(h == get_u64(p + 56), ModelError, "checksum mismatch: the file is corrupt");

  Reader r(p + kLrmHeaderSize, st_size);
  LrmModel m;
  size_t n_meta = r.count(8, "metadata");
  for (size_t i = 0; i < n_meta; ++i) {
    std::string k = r.str();
    m.meta.emplace_back(k, r.str());
  }
  GraphReader gr(p + data_off, data_size, map);
  m.graph = gr.graph(r, 0);
  LR_CHECK(r.left() == 0, ModelError, "corrupt structure: ", r.left(), " bytes after the graph");
  return m;
}

LrmModel parse_as(const uint8_t* data, size_t size, const std::shared_ptr<FileMap>& map,
                  const std::string& what) {
  try {
    return with_context(what + ": ", [&] { return parse(data, size, map); });
  } catch (const std::bad_alloc&) {
    LR_THROW(ResourceError, what, ": out of memory reading the model");
  }
}

// The copying path, for a file mmap refuses.
LrmModel read_copy(const std::string& path, size_t size) {
  std::ifstream f(path, std::ios::binary);
  LR_CHECK(f, ModelError, path, ": cannot open");
  std::vector<uint8_t> buf(size);
  if (!buf.empty()) f.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
  LR_CHECK(f && static_cast<size_t>(f.gcount()) == buf.size(), ModelError, path,
           ": cannot read (changed while reading?)");
  return parse_as(buf.data(), buf.size(), nullptr, path);
}

}  // namespace

LrmModel lrm_parse(const uint8_t* data, size_t size, const std::string& what) {
  return parse_as(data, size, nullptr, what);
}

LrmModel read_lrm_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    LR_CHECK(errno != ENOENT, ModelError, "model file not found: ", path);
    LR_THROW(ModelError, path, ": cannot read (", std::strerror(errno), ")");
  }
  struct stat st;
  const int stat_rc = ::fstat(fd, &st);
  const int stat_errno = errno;
  if (stat_rc != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    LR_CHECK(stat_rc == 0, ModelError, path, ": cannot read (", std::strerror(stat_errno), ")");
    LR_THROW(ModelError, path, ": not a regular file");
  }
  const size_t size = static_cast<size_t>(st.st_size);
  // Too short for a header: no mapping needed to say so (mmap refuses 0 bytes).
  if (size < kLrmHeaderSize) {
    ::close(fd);
    return read_copy(path, size);
  }
  void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  ::close(fd);  // the mapping keeps the file
  if (base == MAP_FAILED) return read_copy(path, size);
  auto map = std::make_shared<FileMap>(base, size);
  return parse_as(map->data(), size, map, path);
}

}  // namespace loadrun
