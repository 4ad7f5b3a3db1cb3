// AlgoCache: the persistent fast-run cache. For each category (backend, CPU
// model, ISA level, fast-run version, thread count) it maps a key (operator
// type, parameter bytes, input/output layouts, weight preprocess on/off) to
// every profiled candidate, sorted by measured time, with its workspace and
// attributes.
//
// File format (all integers little-endian):
//   8 bytes magic "LRFASTRN", u32 format version (kFormatVersion),
//   u64 payload length, payload, u64 FNV-1a checksum of the payload.
//   payload = u32 n_categories, then per category: str name, u32 n_entries,
//   then per entry: str op_type, str params, u32 n_in, str in_layout..,
//   u32 n_out, str out_layout.., u8 weight_preprocess, u32 n_candidates,
//   then per candidate: str algo, u32 attributes, f64 time (s), u64 workspace.
//   str = u32 length + bytes.
// Saving takes an exclusive flock on FILE.lock (never through a symlink),
// re-reads FILE, merges what is in memory over it, writes an exclusively
// created FILE.tmp.XXXXXX (mkstemp) and renames it over FILE: two processes
// sharing one cache lose nothing, a reader never sees half a file, and
// nothing planted under a predictable name is written through. A symlinked
// FILE is updated at its target (the link stays). Only regular files are read
// (a FIFO or a device is not a cache). A file that is not a valid cache is moved aside (FILE.bad, .bad.1 ...)
// before anything is written over it.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace loadrun {

struct CacheKey {
  std::string op_type;
  std::string params;  // Op::param_key() bytes
  std::vector<std::string> in_layouts, out_layouts;
  bool weight_preprocess = false;
  std::string bytes() const;  // a unique, ordered encoding (the map key)
};

struct CacheCandidate {
  std::string algo;
  uint32_t attributes = 0;
  double time_s = 0;
  uint64_t workspace = 0;
};

struct CacheEntry {
  CacheKey key;
  std::vector<CacheCandidate> candidates;  // sorted by time, then workspace
};

class AlgoCache {
 public:
  static constexpr uint32_t kFormatVersion = 1;
  // Version 2: one X_FAST algorithm per operator instead of X_AVX2 and
  // X_PORTABLE, and the ISA level named portable/avx2/avx512/neon/neon_dotprod
  // (isa.h; was avx2_fma). Entries of another version are another category,
  // so an old cache is never read as a new one.
  static constexpr uint32_t kFastRunVersion = 2;
  static const char kMagic[8];

  // This machine's category at `threads` threads (an algorithm's time
  // depends on them): "backend=cpu;cpu=BRAND;isa=LEVEL;fastrun=N;threads=T".
  static std::string this_category(int threads = 1);
  // A category as read from a file: one written before the thread count was
  // part of it was profiled on one thread, so ";threads=1" is appended to a
  // CPU category that lacks it (other text is returned unchanged).
  static std::string with_thread_count(const std::string& category);

  const CacheEntry* find(const std::string& category, const CacheKey& key) const;
  // Adds or updates an entry: candidates of the same algo name are replaced by
  // the new ones, others kept; the list is re-sorted.
  void put(const std::string& category, const CacheKey& key,
           const std::vector<CacheCandidate>& candidates);
  // Merges every entry of `other` into this one (other's timings win).
  void merge(const AlgoCache& other);
  size_t size() const;
  bool empty() const { return size() == 0; }
  const std::map<std::string, std::map<std::string, CacheEntry>>& categories() const {
    return cats_;
  }

  // Serialisation. parse() returns false and says why in *why when the bytes
  // are not a valid cache (this cache is then left empty).
  std::string serialize() const;
  bool parse(const std::string& bytes, std::string* why);

  // Reads FILE. Returns kMissing / kOk / kInvalid (why in *why); on kInvalid
  // the cache is empty.
  enum class ReadStatus { kOk, kMissing, kInvalid };
  ReadStatus read_file(const std::string& path, std::string* why);
  // Reads FILE under the lock; when it is invalid and backup_invalid is set,
  // moves it aside (*backup names where). Returns the status of the read.
  ReadStatus load(const std::string& path, bool backup_invalid, std::string* why,
                  std::string* backup);
  // Locks, merges this cache over what FILE holds now, writes atomically.
  // An invalid FILE is moved aside first (*backup, *why say so). Throws
  // InputError when the file cannot be written.
  void save(const std::string& path, std::string* why = nullptr, std::string* backup = nullptr);
  // Writes exactly this cache to FILE (temp file + rename, under the lock).
  void write_file(const std::string& path) const;

 private:
  std::map<std::string, std::map<std::string, CacheEntry>> cats_;
};

void sort_candidates(std::vector<CacheCandidate>* c);

// `loadrun cache merge`: reads every input (InputError when one is missing or
// not a valid cache), merges them in order (later inputs win on the same algo)
// and writes the result to `out` atomically. Returns the merged cache.
AlgoCache merge_cache_files(const std::vector<std::string>& inputs, const std::string& out);

}  // namespace loadrun
