// The elementwise unary family shared by unary.cpp (math functions) and
// activation.cpp (activations): each op is one row of a table, a UnarySpec
// naming its scalar function, its parameters and which integer behaviour (if
// any) it has. One generic op class and NAIVE kernel (in unary.cpp) run them.
#pragma once
#include <string>

#include "ops/common.h"

namespace loadrun {

// Parameters of a unary op, read from its attributes once at load time.
struct UnaryParams {
  double alpha = 0, beta = 0, gamma = 0;
  int mode = 0;  // op-specific switch (Gelu approximate, IsInf detect bits)
};

// What an op does on integer inputs (ONNX allows integers for a few ops).
enum class UnaryInt { None, Relu, Neg, Abs, Sign };

struct UnarySpec {
  const char* type;
  // The scalar function, computed in double for every float dtype (float16
  // and float32 inputs are widened, the result rounded back). For bool-output
  // ops (IsNaN, IsInf) a nonzero result means true.
  double (*fn)(double x, const UnaryParams& p);
  // Reads the attributes; nullptr means "no attributes".
  UnaryParams (*parse)(const Attrs& a);
  UnaryInt int_kind = UnaryInt::None;
  bool bool_out = false;
};

void register_unary(OpRegistry& r, const UnarySpec& spec);

}  // namespace loadrun
