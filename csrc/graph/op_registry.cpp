#include "graph/op_registry.h"

#include "core/errors.h"

namespace loadrun {

#define LR_OP(NAME) void register_op_##NAME(OpRegistry&);
#include "ops/ops.inc"
#undef LR_OP

OpRegistry::OpRegistry() {
#define LR_OP(NAME) register_op_##NAME(*this);
#include "ops/ops.inc"
#undef LR_OP
}

OpRegistry& OpRegistry::get() {
  static OpRegistry r;
  return r;
}

void OpRegistry::add(OpDef def) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& d : defs_) {
    LR_CHECK(!(d->type == def.type && d->domain == def.domain), InternalError,
             "operator ", def.domain.empty() ? "" : def.domain + "::", def.type,
             " is registered twice");
  }
  defs_.push_back(std::make_unique<OpDef>(std::move(def)));
}

void OpRegistry::add_algo(const std::string& domain, const std::string& type, const Algo* algo) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& d : defs_) {
    if (d->type == type && d->domain == domain) {
      d->algos.push_back(algo);
      return;
    }
  }
  LR_THROW(InternalError, "add_algo: operator ", type, " is not registered");
}

const OpDef* OpRegistry::find(const std::string& domain, const std::string& type) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& d : defs_) {
    if (d->type == type && d->domain == domain) return d.get();
  }
  return nullptr;
}

std::vector<const OpDef*> OpRegistry::all() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const OpDef*> r;
  for (auto& d : defs_) r.push_back(d.get());
  return r;
}

}  // namespace loadrun
