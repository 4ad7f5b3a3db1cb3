#include "graph/attrs.h"

#include "core/errors.h"

namespace loadrun {

const AttrValue* Attrs::find(const std::string& name, AttrValue::Kind kind) const {
  auto it = map_.find(name);
  if (it == map_.end()) return nullptr;
  const AttrValue& v = it->second;
  // Accept an int where a float is asked, and a scalar where a list is.
  bool ok = v.kind == kind || (kind == AttrValue::kFloat && v.kind == AttrValue::kInt) ||
            (kind == AttrValue::kInts && v.kind == AttrValue::kInt) ||
            (kind == AttrValue::kFloats && (v.kind == AttrValue::kFloat || v.kind == AttrValue::kInts));
  LR_CHECK(ok, ModelError, "attribute '", name, "' has the wrong type");
  return &v;
}

int64_t Attrs::get_int(const std::string& name, int64_t def) const {
  const AttrValue* v = find(name, AttrValue::kInt);
  return v ? v->i : def;
}

double Attrs::get_float(const std::string& name, double def) const {
  const AttrValue* v = find(name, AttrValue::kFloat);
  if (!v) return def;
  return v->kind == AttrValue::kInt ? static_cast<double>(v->i) : v->f;
}

std::string Attrs::get_string(const std::string& name, const std::string& def) const {
  const AttrValue* v = find(name, AttrValue::kString);
  return v ? v->s : def;
}

std::vector<int64_t> Attrs::get_ints(const std::string& name, const std::vector<int64_t>& def) const {
  const AttrValue* v = find(name, AttrValue::kInts);
  if (!v) return def;
  if (v->kind == AttrValue::kInt) return {v->i};
  return v->ints;
}

std::vector<double> Attrs::get_floats(const std::string& name, const std::vector<double>& def) const {
  const AttrValue* v = find(name, AttrValue::kFloats);
  if (!v) return def;
  if (v->kind == AttrValue::kFloat) return {v->f};
  if (v->kind == AttrValue::kInts) return std::vector<double>(v->ints.begin(), v->ints.end());
  return v->floats;
}

std::vector<std::string> Attrs::get_strings(const std::string& name,
                                            const std::vector<std::string>& def) const {
  auto it = map_.find(name);
  if (it == map_.end()) return def;
  const AttrValue& v = it->second;
  if (v.kind == AttrValue::kStrings) return v.strings;
  if (v.kind == AttrValue::kString) return {v.s};
  // An empty list arrives without an element type.
  bool empty = (v.kind == AttrValue::kInts && v.ints.empty()) ||
               (v.kind == AttrValue::kFloats && v.floats.empty());
  LR_CHECK(empty, ModelError, "attribute '", name, "' has the wrong type");
  return {};
}

int64_t Attrs::require_int(const std::string& name) const {
  const AttrValue* v = find(name, AttrValue::kInt);
  LR_CHECK(v, ModelError, "required attribute '", name, "' is missing");
  return v->i;
}

const Tensor& Attrs::require_tensor(const std::string& name) const {
  const AttrValue* v = find(name, AttrValue::kTensor);
  LR_CHECK(v, ModelError, "required tensor attribute '", name, "' is missing");
  return v->t;
}

std::shared_ptr<Graph> Attrs::get_graph(const std::string& name) const {
  const AttrValue* v = find(name, AttrValue::kGraph);
  return v ? v->g : nullptr;
}

std::shared_ptr<Graph> Attrs::require_graph(const std::string& name) const {
  const AttrValue* v = find(name, AttrValue::kGraph);
  LR_CHECK(v && v->g, ModelError, "required graph attribute '", name, "' is missing");
  return v->g;
}

}  // namespace loadrun
