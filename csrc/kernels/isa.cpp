// ISA level detection (isa.h): CPU features once, LOADRUN_ISA once.
#include "kernels/isa.h"

#include <cstdlib>

#include "core/errors.h"
#include "kernels/cpu_features.h"


namespace loadrun {

namespace {

// Lowest first.
constexpr IsaLevel kAll[] = {IsaLevel::kPortable, IsaLevel::kAvx2,  IsaLevel::kAvx512Emu,
                             IsaLevel::kAvx512,   IsaLevel::kNeon, IsaLevel::kNeonDotprod};

std::string supported_list() {
  std::string s;
  for (IsaLevel l : isa_levels_supported()) s += (s.empty() ? "" : ", ") + std::string(isa_level_name(l));
  return s;
}

IsaLevel choose() {
  const char* env = std::getenv("LOADRUN_ISA");
  if (!env || !*env) return isa_detected();
  IsaLevel l = isa_level_named(env);
  LR_CHECK(isa_supported(l), UnsupportedError, "LOADRUN_ISA=", env,
           ": this CPU or build cannot run that level (available here: ", supported_list(), ")");
  return l;
}

}  // namespace

const char* isa_level_name(IsaLevel level) {
  switch (level) {
    case IsaLevel::kPortable: return "portable";
    case IsaLevel::kAvx2: return "avx2";
    case IsaLevel::kAvx512: return "avx512";
    case IsaLevel::kNeon: return "neon";
    case IsaLevel::kNeonDotprod: return "neon_dotprod";
    case IsaLevel::kAvx512Emu: return "avx512_emu";
  }
  return "?";
}

IsaLevel isa_level_named(const std::string& s) {
  for (IsaLevel l : kAll)
    if (s == isa_level_name(l)) return l;
  LR_THROW(UnsupportedError, "unknown ISA level '", s,
           "' (expected portable, avx2, avx512_emu, avx512, neon or neon_dotprod)");
}

bool isa_supported(IsaLevel level) {
  const CpuFeatures& f = cpu_features();
  (void)f;  // no feature bits matter on other targets
  switch (level) {
    case IsaLevel::kPortable: return true;
#ifdef LOADRUN_X86_KERNELS
    case IsaLevel::kAvx2: return f.avx2 && f.fma && f.f16c;
    case IsaLevel::kAvx512Emu: return f.avx2 && f.fma && f.f16c;
    case IsaLevel::kAvx512: return f.avx2 && f.fma && f.f16c && f.avx512f;
#endif
#if defined(__aarch64__)
    case IsaLevel::kNeon: return true;
    case IsaLevel::kNeonDotprod: return f.asimd_dotprod;
#endif
    default: return false;
  }
}

bool isa_test_level(IsaLevel level) { return level == IsaLevel::kAvx512Emu; }

IsaLevel isa_detected() {
  static const IsaLevel best = [] {
    IsaLevel b = IsaLevel::kPortable;
    for (IsaLevel l : kAll)
      if (isa_supported(l) && !isa_test_level(l)) b = l;  // kAll is ordered: the last is the best
    return b;
  }();
  return best;
}

std::vector<IsaLevel> isa_levels_supported() {
  std::vector<IsaLevel> v;
  for (IsaLevel l : kAll)
    if (isa_supported(l)) v.push_back(l);
  return v;
}

IsaLevel isa_level() {
  // A throwing initialiser leaves the static unset: the next call throws again.
  static const IsaLevel level = choose();
  return level;
}

}  // namespace loadrun
