#include "fastrun/algo_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/errors.h"
#include "kernels/cpu_features.h"
#include "kernels/isa.h"

namespace loadrun {

const char AlgoCache::kMagic[8] = {'L', 'R', 'F', 'A', 'S', 'T', 'R', 'N'};

namespace {

// Sanity bounds on read: a length past these is corruption, not data.
constexpr uint32_t kMaxString = 1u << 20;
constexpr uint32_t kMaxCount = 1u << 24;
// A cache file larger than this is not read (a real one is a few MiB at most).
constexpr uint64_t kMaxFileBytes = uint64_t{1} << 30;

// The file a cache path stands for: a symlinked cache is read and written at
// its target, so that the link stays a link (a link to a file not made yet
// too). A missing file that is no link resolves to the path itself.
std::string real_path(const std::string& path) {
  std::string p = path;
  for (int depth = 0; depth < 40; ++depth) {
    if (char* r = ::realpath(p.c_str(), nullptr)) {
      std::string s(r);
      std::free(r);
      return s;
    }
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    std::vector<char> buf(static_cast<size_t>(st.st_size > 0 ? st.st_size : 4096) + 1);
    ssize_t n = ::readlink(p.c_str(), buf.data(), buf.size() - 1);
    if (n <= 0) return p;
    std::string target(buf.data(), static_cast<size_t>(n));
    size_t slash = p.rfind('/');
    p = target[0] == '/' || slash == std::string::npos ? target : p.substr(0, slash + 1) + target;
  }
  return p;
}

uint64_t fnv1a(const char* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<uint8_t>(p[i]);
    h *= 1099511628211ull;
  }
  return h;
}

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void f64(double d) {
    uint64_t v;
    std::memcpy(&v, &d, 8);
    u64(v);
  }
  void str(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    out_ += s;
  }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

struct ParseError {
  std::string why;
};

class Reader {
 public:
  Reader(const char* p, size_t n) : p_(p), n_(n) {}
  void need(size_t k) {
    if (n_ - pos_ < k) throw ParseError{"truncated entry"};
  }
  uint8_t u8() {
    need(1);
    return static_cast<uint8_t>(p_[pos_++]);
  }
  uint32_t u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(u8()) << (8 * i);
    return v;
  }
  uint64_t u64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(u8()) << (8 * i);
    return v;
  }
  double f64() {
    uint64_t v = u64();
    double d;
    std::memcpy(&d, &v, 8);
    return d;
  }
  uint32_t count() {
    uint32_t c = u32();
    if (c > kMaxCount) throw ParseError{"implausible count " + std::to_string(c)};
    return c;
  }
  std::string str() {
    uint32_t len = u32();
    if (len > kMaxString) throw ParseError{"implausible string length " + std::to_string(len)};
    need(len);
    std::string s(p_ + pos_, len);
    pos_ += len;
    return s;
  }
  bool done() const { return pos_ == n_; }

 private:
  const char* p_;
  size_t n_;
  size_t pos_ = 0;
};

// Holds an exclusive flock on PATH.lock for its lifetime. The lock file is
// never followed through a symlink (one planted there would be created or
// truncated elsewhere); a lock that cannot be opened is gone without.
class FileLock {
 public:
  explicit FileLock(const std::string& path) {
    std::string lock_path = path + ".lock";
    fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
    struct stat st;
    if (fd_ >= 0 && (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode))) {
      ::close(fd_);
      fd_ = -1;
    }
    if (fd_ < 0) return;  // read-only place: go on without the lock
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~FileLock() {
    if (fd_ >= 0) {
      ::flock(fd_, LOCK_UN);
      ::close(fd_);
    }
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

bool file_exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

bool is_regular(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Moves an invalid cache aside: FILE.bad, or FILE.bad.1, .bad.2 ... if taken.
std::string back_up(const std::string& path) {
  std::string dst = path + ".bad";
  for (int i = 1; file_exists(dst); ++i) dst = path + ".bad." + std::to_string(i);
  if (std::rename(path.c_str(), dst.c_str()) != 0) return {};
  return dst;
}

// Writes FILE.tmp.XXXXXX (created exclusively by mkstemp, so nothing planted
// under a predictable name is followed or truncated) next to FILE and renames
// it over FILE. `path` is the real path (real_path): a symlinked cache is
// replaced at its target and the link stays. An existing file keeps its mode.
void write_atomically(const std::string& path, const std::string& bytes) {
  std::string tmp = path + ".tmp.XXXXXX";
  std::vector<char> name(tmp.begin(), tmp.end());
  name.push_back('\0');
  int fd = ::mkostemp(name.data(), O_CLOEXEC);
  LR_CHECK(fd >= 0, InputError, "fast-run cache ", path, ": cannot write ", tmp, ": ",
           std::strerror(errno));
  tmp.assign(name.data());
  struct stat old;
  ::fchmod(fd, ::stat(path.c_str(), &old) == 0 ? (old.st_mode & 07777) : 0644);
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t w = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      LR_THROW(InputError, "fast-run cache ", path, ": write failed: ", std::strerror(e));
    }
    off += static_cast<size_t>(w);
  }
  ::fsync(fd);
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    LR_THROW(InputError, "fast-run cache ", path, ": cannot replace it: ", std::strerror(e));
  }
}

}  // namespace

std::string CacheKey::bytes() const {
  Writer w;
  w.str(op_type);
  w.str(params);
  w.u32(static_cast<uint32_t>(in_layouts.size()));
  for (const auto& l : in_layouts) w.str(l);
  w.u32(static_cast<uint32_t>(out_layouts.size()));
  for (const auto& l : out_layouts) w.str(l);
  w.u8(weight_preprocess ? 1 : 0);
  return std::move(w.out());
}

void sort_candidates(std::vector<CacheCandidate>* c) {
  std::stable_sort(c->begin(), c->end(), [](const CacheCandidate& a, const CacheCandidate& b) {
    if (a.time_s != b.time_s) return a.time_s < b.time_s;
    return a.workspace < b.workspace;
  });
}

std::string AlgoCache::this_category(int threads) {
  const CpuFeatures& f = cpu_features();
  return str_cat("backend=cpu;cpu=", f.brand.empty() ? "unknown" : f.brand,
                 ";isa=", isa_level_name(), ";fastrun=", kFastRunVersion,
                 ";threads=", threads < 1 ? 1 : threads);
}

std::string AlgoCache::with_thread_count(const std::string& category) {
  static const std::string kCpu = "backend=cpu;", kThreads = ";threads=";
  if (category.compare(0, kCpu.size(), kCpu) != 0) return category;
  if (category.find(kThreads) != std::string::npos) return category;
  return category + kThreads + "1";
}

const CacheEntry* AlgoCache::find(const std::string& category, const CacheKey& key) const {
  auto c = cats_.find(category);
  if (c == cats_.end()) return nullptr;
  auto e = c->second.find(key.bytes());
  return e == c->second.end() ? nullptr : &e->second;
}

void AlgoCache::put(const std::string& category, const CacheKey& key,
                    const std::vector<CacheCandidate>& candidates) {
  CacheEntry& e = cats_[category][key.bytes()];
  e.key = key;
  for (const auto& c : candidates) {
    auto same = std::find_if(e.candidates.begin(), e.candidates.end(),
                             [&](const CacheCandidate& o) { return o.algo == c.algo; });
    if (same != e.candidates.end()) {
      *same = c;
    } else {
      e.candidates.push_back(c);
    }
  }
  sort_candidates(&e.candidates);
}

void AlgoCache::merge(const AlgoCache& other) {
  for (const auto& cat : other.cats_)
    for (const auto& kv : cat.second) put(cat.first, kv.second.key, kv.second.candidates);
}

size_t AlgoCache::size() const {
  size_t n = 0;
  for (const auto& c : cats_) n += c.second.size();
  return n;
}

std::string AlgoCache::serialize() const {
  Writer p;
  p.u32(static_cast<uint32_t>(cats_.size()));
  for (const auto& cat : cats_) {
    p.str(cat.first);
    p.u32(static_cast<uint32_t>(cat.second.size()));
    for (const auto& kv : cat.second) {
      const CacheEntry& e = kv.second;
      p.out() += e.key.bytes();
      p.u32(static_cast<uint32_t>(e.candidates.size()));
      for (const auto& c : e.candidates) {
        p.str(c.algo);
        p.u32(c.attributes);
        p.f64(c.time_s);
        p.u64(c.workspace);
      }
    }
  }
  Writer f;
  f.out().append(kMagic, 8);
  f.u32(kFormatVersion);
  f.u64(p.out().size());
  f.out() += p.out();
  f.u64(fnv1a(p.out().data(), p.out().size()));
  return std::move(f.out());
}

bool AlgoCache::parse(const std::string& bytes, std::string* why) {
  cats_.clear();
  auto fail = [&](const std::string& w) {
    cats_.clear();
    if (why) *why = w;
    return false;
  };
  if (bytes.size() < 8 || std::memcmp(bytes.data(), kMagic, 8) != 0)
    return fail("not a loadrun fast-run cache (no LRFASTRN magic)");
  if (bytes.size() < 20) return fail("truncated header");
  Reader h(bytes.data() + 8, 12);
  uint32_t version = h.u32();
  uint64_t len = h.u64();
  if (version != kFormatVersion)
    return fail(str_cat("cache format version ", version, ", this loadrun reads version ",
                        kFormatVersion));
  if (bytes.size() - 20 < len || bytes.size() - 20 - len < 8)
    return fail(str_cat("truncated: ", bytes.size(), " bytes, header says ", 28 + len));
  if (bytes.size() - 20 - len > 8) return fail("trailing bytes after the checksum");
  const char* payload = bytes.data() + 20;
  Reader t(payload + len, 8);
  if (t.u64() != fnv1a(payload, len)) return fail("checksum mismatch (corrupt file)");
  try {
    Reader r(payload, len);
    uint32_t ncat = r.count();
    for (uint32_t i = 0; i < ncat; ++i) {
      std::string cat = r.str();
      uint32_t n = r.count();
      for (uint32_t j = 0; j < n; ++j) {
        CacheEntry e;
        e.key.op_type = r.str();
        e.key.params = r.str();
        uint32_t nin = r.count();
        for (uint32_t k = 0; k < nin; ++k) e.key.in_layouts.push_back(r.str());
        uint32_t nout = r.count();
        for (uint32_t k = 0; k < nout; ++k) e.key.out_layouts.push_back(r.str());
        e.key.weight_preprocess = r.u8() != 0;
        uint32_t nc = r.count();
        for (uint32_t k = 0; k < nc; ++k) {
          CacheCandidate c;
          c.algo = r.str();
          c.attributes = r.u32();
          c.time_s = r.f64();
          c.workspace = r.u64();
          e.candidates.push_back(std::move(c));
        }
        sort_candidates(&e.candidates);
        cats_[with_thread_count(cat)][e.key.bytes()] = std::move(e);
      }
    }
    if (!r.done()) return fail("trailing bytes in the payload");
  } catch (const ParseError& e) {
    return fail(e.why);
  }
  return true;
}

// Only a regular file is read (a FIFO would block, /dev/zero never end),
// and at most kMaxFileBytes of it.
AlgoCache::ReadStatus AlgoCache::read_file(const std::string& path, std::string* why) {
  cats_.clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return ReadStatus::kMissing;
    if (why) *why = str_cat("cannot read it: ", std::strerror(errno));
    return ReadStatus::kInvalid;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    if (why) *why = "not a regular file";
    return ReadStatus::kInvalid;
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxFileBytes) {
    ::close(fd);
    if (why) *why = str_cat("file of ", st.st_size, " bytes, more than a cache holds (", kMaxFileBytes, ")");
    return ReadStatus::kInvalid;
  }
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t r = ::read(fd, &bytes[off], bytes.size() - off);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r < 0) {
      int e = errno;
      ::close(fd);
      if (why) *why = str_cat("read error: ", std::strerror(e));
      return ReadStatus::kInvalid;
    }
    if (r == 0) break;  // shrank meanwhile: parse says what is wrong
    off += static_cast<size_t>(r);
  }
  ::close(fd);
  bytes.resize(off);
  return parse(bytes, why) ? ReadStatus::kOk : ReadStatus::kInvalid;
}

AlgoCache::ReadStatus AlgoCache::load(const std::string& path, bool backup_invalid,
                                      std::string* why, std::string* backup) {
  if (!backup_invalid) return read_file(path, why);  // writers rename whole files: no lock needed
  const std::string real = real_path(path);
  FileLock lock(real);
  ReadStatus s = read_file(real, why);
  if (s == ReadStatus::kInvalid && backup && is_regular(real)) *backup = back_up(real);
  return s;
}

void AlgoCache::save(const std::string& path, std::string* why, std::string* backup) {
  const std::string real = real_path(path);
  LR_CHECK(!file_exists(real) || is_regular(real), InputError, "fast-run cache ", path,
           ": not a regular file");
  FileLock lock(real);
  AlgoCache disk;
  std::string w;
  ReadStatus s = disk.read_file(real, &w);
  if (s == ReadStatus::kInvalid) {
    std::string b = back_up(real);
    if (why) *why = w;
    if (backup) *backup = b;
  }
  disk.merge(*this);
  write_atomically(real, disk.serialize());
  *this = std::move(disk);  // now holds what the other writers added too
}

void AlgoCache::write_file(const std::string& path) const {
  const std::string real = real_path(path);
  LR_CHECK(!file_exists(real) || is_regular(real), InputError, "fast-run cache ", path,
           ": not a regular file");
  FileLock lock(real);
  write_atomically(real, serialize());
}

AlgoCache merge_cache_files(const std::vector<std::string>& inputs, const std::string& out) {
  AlgoCache merged;
  for (const std::string& path : inputs) {
    AlgoCache c;
    std::string why;
    auto st = c.read_file(path, &why);
    LR_CHECK(st != AlgoCache::ReadStatus::kMissing, InputError, path, ": no such file");
    LR_CHECK(st == AlgoCache::ReadStatus::kOk, InputError, path, ": ", why);
    merged.merge(c);
  }
  merged.write_file(out);
  return merged;
}

}  // namespace loadrun
