// A straight-line program of float32 element-wise operations, evaluated one
// block of elements at a time: kiln's FusedElementwise (docs/fused_ops.md)
// computes a whole group of element-wise nodes in one pass over its output,
// with every intermediate value living in a small block-sized buffer.
//
// Instruction k produces value k; its operands are earlier values. The
// program's result is the last instruction's value. Every op computes in
// float with the formula kiln's own standalone kernel for that ONNX op uses
// (runtime/ops/activation.cpp, elementwise.cpp), so the fused result equals
// the unfused one bit for bit.
//
// The evaluator runs one instruction over the whole block before the next:
// plain loops the compiler vectorizes at the baseline ISA (the transcendental
// ops call <cmath> per element, as the standalone kernels do). A value that
// is the same for every element of the block (a constant, an input that is
// broadcast along the block) stays one scalar until a varying operand meets
// it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln::kernels {

enum class F32ElementwiseOp : uint8_t {
  // Leaves: Input reads input `a` (float32, or bool as 0/1); Constant is p0.
  input,
  constant,
  // Unary on value a. LeakyRelu: alpha p0. HardSigmoid: alpha p0, beta p1.
  // Clip: lo p0, hi p1 (min(max(x, lo), hi); NaN stays NaN).
  relu,
  leaky_relu,
  sigmoid,
  hard_sigmoid,
  hard_swish,
  tanh,
  exp,
  log,
  sqrt,
  reciprocal,
  neg,
  abs,
  erf,
  floor,
  ceil,
  round,  // halves to even
  softplus,
  clip,
  // Binary on values a, b (Max/Min propagate NaN as numpy does).
  add,
  sub,
  mul,
  div,
  pow,
  max,
  min,
  // Where(a, b, c): a != 0 ? b : c.
  where,
};

// The op's name in the program attribute (the ONNX op it computes; "Input",
// "Constant" for the leaves), and back.
const char* f32_elementwise_op_name(F32ElementwiseOp op);
std::optional<F32ElementwiseOp> f32_elementwise_op_from_name(const std::string& name);
// How many value operands the op reads (0 for the leaves).
int f32_elementwise_op_operands(F32ElementwiseOp op);

struct F32ElementwiseInstruction {
  F32ElementwiseOp op = F32ElementwiseOp::constant;
  int32_t a = -1, b = -1, c = -1;  // operand values (instruction indices); Input: a = input index
  float p0 = 0.0f, p1 = 0.0f;
};

// A checked program with its buffer assignment. Build with
// F32ElementwisePlan::make, which returns an error message instead when the
// program is malformed (an operand that is not an earlier value, an input
// index out of range, an empty program).
struct F32ElementwisePlan {
  static constexpr size_t kBlock = 512;  // elements per block

  std::vector<F32ElementwiseInstruction> code;
  std::vector<int32_t> slot;  // per instruction: its block buffer (-1: none needed)
  int32_t slots = 0;
  size_t inputs = 0;

  static std::optional<F32ElementwisePlan> make(std::vector<F32ElementwiseInstruction> code, size_t inputs,
                                                std::string* error);
  // Floats of scratch one block evaluation needs.
  size_t scratch_floats() const { return static_cast<size_t>(slots) * kBlock; }
};

// One input as a block sees it: `data` points at the block's first element.
// When `varies` is false every element of the block is data[0].
struct F32ElementwiseOperand {
  const void* data = nullptr;
  bool is_bool = false;  // bool (one byte, 0 or 1) instead of float32
  bool varies = true;
};

// out[j] = program(inputs at j) for j < n (n <= kBlock). `scratch` holds
// plan.scratch_floats() floats. out must not overlap an input other than at
// the same element.
void f32_elementwise_program_block(const F32ElementwisePlan& plan, const F32ElementwiseOperand* inputs, size_t n,
                                   float* out, float* scratch);

// The reference twin: one element, one instruction at a time, straight from
// the ONNX definitions in float. `inputs[k]` is input k's value at the element.
float f32_elementwise_program_reference(const std::vector<F32ElementwiseInstruction>& code, const float* inputs);

}  // namespace kiln::kernels
