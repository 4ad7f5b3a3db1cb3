#include "core/value.h"

#include "core/errors.h"

namespace loadrun {

const char* value_kind_name(ValueKind k) {
  switch (k) {
    case ValueKind::kTensor: return "tensor";
    case ValueKind::kSequence: return "sequence";
    case ValueKind::kOptionalTensor: return "optional(tensor)";
    case ValueKind::kOptionalSequence: return "optional(sequence)";
  }
  return "?";
}

Value Value::of_tensor(const Tensor& t) {
  Value v;
  v.tensor = t;
  v.elem = t.dtype();
  return v;
}

Value Value::sequence(DType elem, std::vector<Tensor> items) {
  Value v;
  v.kind = ValueKind::kSequence;
  v.elem = elem;
  v.items = std::move(items);
  return v;
}

Value Value::none(ValueKind optional_kind, DType elem) {
  Value v;
  v.kind = optional_kind;
  v.present = false;
  v.elem = elem;
  return v;
}

Value Value::as_kind(ValueKind want, const std::string& what) const {
  if (kind == want) return *this;
  if (is_optional(want) && content_kind(want) == kind) {  // wrap: a present optional
    Value v = *this;
    v.kind = want;
    v.present = true;
    return v;
  }
  if (is_optional(kind) && content_kind(kind) == want) {  // unwrap a present optional
    LR_CHECK(present, InputError, what, ": an optional without a value is given where a ",
             value_kind_name(want), " is expected");
    Value v = *this;
    v.kind = want;
    return v;
  }
  LR_THROW(InputError, what, ": expected a ", value_kind_name(want), ", got a ",
           value_kind_name(kind));
}

std::string Value::str() const {
  if (is_optional(kind) && !present) return str_cat(value_kind_name(kind), ": none");
  if (content_kind(kind) == ValueKind::kTensor) return tensor.layout().str();
  return str_cat(value_kind_name(kind), " of ", items.size(), " ", dtype_name(elem), " tensors");
}

}  // namespace loadrun
