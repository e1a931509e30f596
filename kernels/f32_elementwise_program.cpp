// The block evaluator of kernels/f32_elementwise_program.h. Each instruction
// is one loop over the block; the switch on the op sits outside the loop, so
// the loops of the arithmetic ops are plain float loops the compiler
// vectorizes.
#include "kernels/f32_elementwise_program.h"

#include <algorithm>
#include <cmath>

namespace kiln::kernels {

namespace {

struct OpInfo {
  F32ElementwiseOp op;
  const char* name;
  int operands;
};

constexpr OpInfo kOps[] = {
    {F32ElementwiseOp::input, "Input", 0},         {F32ElementwiseOp::constant, "Constant", 0},
    {F32ElementwiseOp::relu, "Relu", 1},           {F32ElementwiseOp::leaky_relu, "LeakyRelu", 1},
    {F32ElementwiseOp::sigmoid, "Sigmoid", 1},     {F32ElementwiseOp::hard_sigmoid, "HardSigmoid", 1},
    {F32ElementwiseOp::hard_swish, "HardSwish", 1}, {F32ElementwiseOp::tanh, "Tanh", 1},
    {F32ElementwiseOp::exp, "Exp", 1},             {F32ElementwiseOp::log, "Log", 1},
    {F32ElementwiseOp::sqrt, "Sqrt", 1},           {F32ElementwiseOp::reciprocal, "Reciprocal", 1},
    {F32ElementwiseOp::neg, "Neg", 1},             {F32ElementwiseOp::abs, "Abs", 1},
    {F32ElementwiseOp::erf, "Erf", 1},             {F32ElementwiseOp::floor, "Floor", 1},
    {F32ElementwiseOp::ceil, "Ceil", 1},           {F32ElementwiseOp::round, "Round", 1},
    {F32ElementwiseOp::softplus, "Softplus", 1},   {F32ElementwiseOp::clip, "Clip", 1},
    {F32ElementwiseOp::add, "Add", 2},             {F32ElementwiseOp::sub, "Sub", 2},
    {F32ElementwiseOp::mul, "Mul", 2},             {F32ElementwiseOp::div, "Div", 2},
    {F32ElementwiseOp::pow, "Pow", 2},             {F32ElementwiseOp::max, "Max", 2},
    {F32ElementwiseOp::min, "Min", 2},             {F32ElementwiseOp::where, "Where", 3},
};

const OpInfo& info(F32ElementwiseOp op) {
  for (const OpInfo& i : kOps)
    if (i.op == op) return i;
  return kOps[1];  // unreachable for a valid enum value
}

// A value during one block: a buffer of the block's elements, or one scalar
// shared by all of them. No member initializers: the per-block array of
// values is written before it is read, and zeroing it would cost a block's
// worth of stores.
struct Value {
  const float* p;
  float s;
  bool scalar;
  float at(size_t j) const { return scalar ? s : p[j]; }
};

// The per-element formulas, as the standalone kernels write them.
struct Sigmoid {
  float operator()(float x) const {
    if (x >= 0.0f) return 1.0f / (1.0f + std::exp(-x));
    const float e = std::exp(x);
    return e / (1.0f + e);
  }
};
struct Softplus {
  float operator()(float x) const { return x > 0.0f ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
};

template <class F>
Value unary(const Value& a, float* dst, size_t n, F f) {
  if (a.scalar) return Value{nullptr, f(a.s), true};
  const float* x = a.p;
  for (size_t j = 0; j < n; ++j) dst[j] = f(x[j]);
  return Value{dst, 0.0f, false};
}

template <class F>
Value binary(const Value& a, const Value& b, float* dst, size_t n, F f) {
  if (a.scalar && b.scalar) return Value{nullptr, f(a.s, b.s), true};
  if (a.scalar) {
    const float x = a.s;
    const float* y = b.p;
    for (size_t j = 0; j < n; ++j) dst[j] = f(x, y[j]);
  } else if (b.scalar) {
    const float* x = a.p;
    const float y = b.s;
    for (size_t j = 0; j < n; ++j) dst[j] = f(x[j], y);
  } else {
    const float* x = a.p;
    const float* y = b.p;
    for (size_t j = 0; j < n; ++j) dst[j] = f(x[j], y[j]);
  }
  return Value{dst, 0.0f, false};
}

Value evaluate(const F32ElementwiseInstruction& in, const Value* values, const F32ElementwiseOperand* inputs,
               float* dst, size_t n) {
  const float p0 = in.p0, p1 = in.p1;
  // (Input's `a` is an input index, not a value.)
  const Value& a = values[in.a < 0 || in.op == F32ElementwiseOp::input ? 0 : in.a];
  const Value& b = values[in.b < 0 ? 0 : in.b];
  switch (in.op) {
    case F32ElementwiseOp::input: {
      const F32ElementwiseOperand& operand = inputs[in.a];
      if (!operand.is_bool) {
        const float* data = static_cast<const float*>(operand.data);
        return operand.varies ? Value{data, 0.0f, false} : Value{nullptr, data[0], true};
      }
      const uint8_t* flags = static_cast<const uint8_t*>(operand.data);
      if (!operand.varies) return Value{nullptr, flags[0] ? 1.0f : 0.0f, true};
      for (size_t j = 0; j < n; ++j) dst[j] = flags[j] ? 1.0f : 0.0f;
      return Value{dst, 0.0f, false};
    }
    case F32ElementwiseOp::constant: return Value{nullptr, p0, true};
    case F32ElementwiseOp::relu: return unary(a, dst, n, [](float x) { return x > 0.0f ? x : 0.0f; });
    case F32ElementwiseOp::leaky_relu: return unary(a, dst, n, [p0](float x) { return x < 0.0f ? p0 * x : x; });
    case F32ElementwiseOp::sigmoid: return unary(a, dst, n, Sigmoid{});
    case F32ElementwiseOp::hard_sigmoid:
      return unary(a, dst, n, [p0, p1](float x) {
        const float y = p0 * x + p1;
        return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
      });
    case F32ElementwiseOp::hard_swish:
      return unary(a, dst, n, [](float x) {
        const float gate = x / 6.0f + 0.5f;
        return x * (gate < 0.0f ? 0.0f : (gate > 1.0f ? 1.0f : gate));
      });
    case F32ElementwiseOp::tanh: return unary(a, dst, n, [](float x) { return std::tanh(x); });
    case F32ElementwiseOp::exp: return unary(a, dst, n, [](float x) { return std::exp(x); });
    case F32ElementwiseOp::log: return unary(a, dst, n, [](float x) { return std::log(x); });
    case F32ElementwiseOp::sqrt: return unary(a, dst, n, [](float x) { return std::sqrt(x); });
    case F32ElementwiseOp::reciprocal: return unary(a, dst, n, [](float x) { return 1.0f / x; });
    case F32ElementwiseOp::neg: return unary(a, dst, n, [](float x) { return -x; });
    case F32ElementwiseOp::abs: return unary(a, dst, n, [](float x) { return std::abs(x); });
    case F32ElementwiseOp::erf: return unary(a, dst, n, [](float x) { return std::erf(x); });
    case F32ElementwiseOp::floor: return unary(a, dst, n, [](float x) { return std::floor(x); });
    case F32ElementwiseOp::ceil: return unary(a, dst, n, [](float x) { return std::ceil(x); });
    case F32ElementwiseOp::round: return unary(a, dst, n, [](float x) { return std::nearbyint(x); });
    case F32ElementwiseOp::softplus: return unary(a, dst, n, Softplus{});
    case F32ElementwiseOp::clip:
      return unary(a, dst, n, [p0, p1](float x) {
        const float raised = x < p0 ? p0 : x;
        return raised > p1 ? p1 : raised;
      });
    case F32ElementwiseOp::add: return binary(a, b, dst, n, [](float x, float y) { return x + y; });
    case F32ElementwiseOp::sub: return binary(a, b, dst, n, [](float x, float y) { return x - y; });
    case F32ElementwiseOp::mul: return binary(a, b, dst, n, [](float x, float y) { return x * y; });
    case F32ElementwiseOp::div: return binary(a, b, dst, n, [](float x, float y) { return x / y; });
    case F32ElementwiseOp::pow:
      // x^2 (layer norms, GELU's tanh form) is the correctly rounded square
      // either way; the multiply vectorizes.
      if (b.scalar && b.s == 2.0f) return unary(a, dst, n, [](float x) { return x * x; });
      return binary(a, b, dst, n, [](float x, float y) { return std::pow(x, y); });
    case F32ElementwiseOp::max:
      return binary(a, b, dst, n, [](float x, float y) { return (x > y || std::isnan(x)) ? x : y; });
    case F32ElementwiseOp::min:
      return binary(a, b, dst, n, [](float x, float y) { return (x < y || std::isnan(x)) ? x : y; });
    case F32ElementwiseOp::where: {
      const Value& c = values[in.c];
      if (a.scalar) return a.s != 0.0f ? b : c;
      for (size_t j = 0; j < n; ++j) dst[j] = a.p[j] != 0.0f ? b.at(j) : c.at(j);
      return Value{dst, 0.0f, false};
    }
  }
  return Value{};
}

}  // namespace

const char* f32_elementwise_op_name(F32ElementwiseOp op) { return info(op).name; }

std::optional<F32ElementwiseOp> f32_elementwise_op_from_name(const std::string& name) {
  for (const OpInfo& i : kOps)
    if (name == i.name) return i.op;
  return std::nullopt;
}

int f32_elementwise_op_operands(F32ElementwiseOp op) { return info(op).operands; }

std::optional<F32ElementwisePlan> F32ElementwisePlan::make(std::vector<F32ElementwiseInstruction> code,
                                                           size_t inputs, std::string* error) {
  auto reject = [&](std::string message) -> std::optional<F32ElementwisePlan> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  if (code.empty()) return reject("the program is empty");
  const int32_t count = static_cast<int32_t>(code.size());
  std::vector<int32_t> last_use(code.size(), -1);
  for (int32_t k = 0; k < count; ++k) {
    const F32ElementwiseInstruction& in = code[static_cast<size_t>(k)];
    if (in.op == F32ElementwiseOp::input) {
      if (in.a < 0 || static_cast<size_t>(in.a) >= inputs)
        return reject("instruction " + std::to_string(k) + " reads input " + std::to_string(in.a) + " of " +
                      std::to_string(inputs));
      continue;
    }
    const int operands = f32_elementwise_op_operands(in.op);
    const int32_t args[3] = {in.a, in.b, in.c};
    for (int i = 0; i < 3; ++i) {
      if (i >= operands) continue;
      if (args[i] < 0 || args[i] >= k)
        return reject("instruction " + std::to_string(k) + " (" + f32_elementwise_op_name(in.op) +
                      ") reads value " + std::to_string(args[i]) + ", which is not an earlier instruction");
      last_use[static_cast<size_t>(args[i])] = k;
    }
  }
  // Buffers: each instruction that may produce a varying value gets one,
  // freed after its last reader; the last instruction writes to the output.
  F32ElementwisePlan plan;
  plan.inputs = inputs;
  plan.slot.assign(code.size(), -1);
  std::vector<int32_t> free_slots;
  for (int32_t k = 0; k < count; ++k) {
    // Operands whose last reader is k give their buffer back first: an
    // element-wise loop may write over its own operand.
    const F32ElementwiseInstruction& in = code[static_cast<size_t>(k)];
    const int32_t args[3] = {in.a, in.b, in.c};
    if (in.op != F32ElementwiseOp::input)
      for (int i = 0; i < f32_elementwise_op_operands(in.op); ++i) {
        const size_t v = static_cast<size_t>(args[i]);
        if (last_use[v] == k && plan.slot[v] >= 0 &&
            std::find(free_slots.begin(), free_slots.end(), plan.slot[v]) == free_slots.end())
          free_slots.push_back(plan.slot[v]);
      }
    if (in.op == F32ElementwiseOp::constant || k == count - 1) continue;
    if (free_slots.empty()) {
      plan.slot[static_cast<size_t>(k)] = plan.slots++;
    } else {
      plan.slot[static_cast<size_t>(k)] = free_slots.back();
      free_slots.pop_back();
    }
  }
  plan.code = std::move(code);
  return plan;
}

void f32_elementwise_program_block(const F32ElementwisePlan& plan, const F32ElementwiseOperand* inputs, size_t n,
                                   float* out, float* scratch) {
  constexpr size_t kMaxInstructions = 256;
  Value values[kMaxInstructions];
  std::vector<Value> heap;
  Value* v = values;
  if (plan.code.size() > kMaxInstructions) {
    heap.resize(plan.code.size());
    v = heap.data();
  }
  const size_t last = plan.code.size() - 1;
  for (size_t k = 0; k <= last; ++k) {
    float* dst = k == last ? out : (plan.slot[k] >= 0 ? scratch + static_cast<size_t>(plan.slot[k]) * F32ElementwisePlan::kBlock : nullptr);
    v[k] = evaluate(plan.code[k], v, inputs, dst, n);
  }
  const Value& result = v[last];
  if (result.scalar) {
    std::fill(out, out + n, result.s);
  } else if (result.p != out) {
    std::copy(result.p, result.p + n, out);
  }
}

}  // namespace kiln::kernels
