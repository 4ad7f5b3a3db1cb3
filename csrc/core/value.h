// Value: what a graph var holds when it is not (only) a tensor. ONNX types a
// var as a tensor, a sequence of tensors, or an optional of either; loadrun
// keeps tensors in the plan's arena and every other kind in a Value the plan
// owns per var. Values never enter the arena: the ops that read or make them
// are inferred and sized at run time (see runtime/network.h).
//
// The tensors a Value holds are owned and never written after they are put
// there, so Values share them freely: inserting into a sequence copies the
// new element only, and passing a sequence along (Identity, Loop's carried
// values, If's outputs) copies no element.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace loadrun {

enum class ValueKind : uint8_t { kTensor, kSequence, kOptionalTensor, kOptionalSequence };

const char* value_kind_name(ValueKind k);  // "tensor", "sequence", "optional(tensor)"...
inline bool is_optional(ValueKind k) {
  return k == ValueKind::kOptionalTensor || k == ValueKind::kOptionalSequence;
}
// The kind an optional holds (a tensor or a sequence); other kinds: themselves.
inline ValueKind content_kind(ValueKind k) {
  return k == ValueKind::kOptionalTensor    ? ValueKind::kTensor
         : k == ValueKind::kOptionalSequence ? ValueKind::kSequence
                                             : k;
}
inline ValueKind optional_of(ValueKind k) {
  return k == ValueKind::kSequence ? ValueKind::kOptionalSequence : ValueKind::kOptionalTensor;
}

struct Value {
  ValueKind kind = ValueKind::kTensor;
  Tensor tensor;               // kTensor, and a present kOptionalTensor
  std::vector<Tensor> items;   // kSequence, and a present kOptionalSequence
  bool present = true;         // optionals: false is "no value" (None)
  DType elem = DType::Float32; // the element dtype (an empty sequence has one too)

  static Value of_tensor(const Tensor& t);
  static Value sequence(DType elem, std::vector<Tensor> items);
  static Value none(ValueKind optional_kind, DType elem);
  bool is_tensor() const { return kind == ValueKind::kTensor; }
  // A tensor-kind view of this value for an input of kind `want` (a present
  // optional read as its content, a content wrapped as a present optional);
  // InputError naming `what` when the kinds do not fit.
  Value as_kind(ValueKind want, const std::string& what) const;
  std::string str() const;  // "sequence of 3 float32 tensors", "optional(tensor): none"...
};

}  // namespace loadrun
