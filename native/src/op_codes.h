// The one table of operation codes shared by the addon and TypeScript. C++ expands these
// X-macros into enums (below); src/backend/op-codes.ts reads this file and parses the same
// lines, so neither side can drift from the other. One entry per line: X(name, code).
#pragma once

// Post-op activations of conv and matmul (tfjs's fused activation names).
#define SENET_ACTIVATIONS(X) \
  X(linear, 0)               \
  X(relu, 1)                 \
  X(relu6, 2)                \
  X(leakyrelu, 3)            \
  X(elu, 4)                  \
  X(sigmoid, 5)

// Operations of binary(): c = a op b, b broadcast.
#define SENET_BINARY_OPS(X) \
  X(add, 0)                 \
  X(sub, 1)                 \
  X(mul, 2)                 \
  X(div, 3)                 \
  X(max, 4)                 \
  X(min, 5)

// Unary operations of eltwise().
#define SENET_ELTWISE_OPS(X) \
  X(relu, 0)                 \
  X(sigmoid, 1)              \
  X(tanh, 2)                 \
  X(exp, 3)                  \
  X(square, 4)

// Reductions of reduce().
#define SENET_REDUCE_OPS(X) \
  X(sum, 0)                 \
  X(mean, 1)                \
  X(max, 2)                 \
  X(min, 3)

namespace senet {

#define SENET_ENUM_ENTRY(name, code) name = code,
#define SENET_COUNT_ENTRY(name, code) +1
enum class Activation { SENET_ACTIVATIONS(SENET_ENUM_ENTRY) };
enum class BinaryOp { SENET_BINARY_OPS(SENET_ENUM_ENTRY) };
enum class EltwiseOp { SENET_ELTWISE_OPS(SENET_ENUM_ENTRY) };
enum class ReduceOp { SENET_REDUCE_OPS(SENET_ENUM_ENTRY) };
// Number of codes of each table (codes run 0 .. count - 1).
constexpr int kActivationCount = 0 SENET_ACTIVATIONS(SENET_COUNT_ENTRY);
constexpr int kBinaryOpCount = 0 SENET_BINARY_OPS(SENET_COUNT_ENTRY);
constexpr int kEltwiseOpCount = 0 SENET_ELTWISE_OPS(SENET_COUNT_ENTRY);
constexpr int kReduceOpCount = 0 SENET_REDUCE_OPS(SENET_COUNT_ENTRY);
#undef SENET_ENUM_ENTRY
#undef SENET_COUNT_ENTRY

}  // namespace senet
