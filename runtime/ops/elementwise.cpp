// Element-wise operators of two or more inputs with numpy broadcasting:
// arithmetic (Add Sub Mul Div Mod Pow BitShift), comparisons (Equal Greater
// Less GreaterOrEqual LessOrEqual), logic (And Or Xor Not), variadic
// (Max Min Sum Mean) and Where.
//
// Reference kernels: one function object per operator, computed on
// Element<T>::Value (float for float16/bfloat16), driven by broadcast_binary.
// Integer arithmetic wraps (two's complement); integer Div truncates like C.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime/op_registry.h"
#include "runtime/ops/arity.h"
#include "runtime/ops/broadcast.h"
#include "runtime/ops/element_types.h"
#include "runtime/ops/unary_map.h"

namespace kiln {

namespace {

template <class V>
bool is_nan(V x) {
  if constexpr (std::is_floating_point_v<V>) return std::isnan(x);
  else return false;
}

// Integer Div and Mod reject a zero divisor before computing (it would trap).
template <class T>
void fail_on_zero_divisor(const graph::Node& node, const Tensor& divisor) {
  if constexpr (std::is_integral_v<T>) {
    const T* d = elements<T>(divisor);
    for (int64_t i = 0; i < divisor.size(); ++i)
      if (d[i] == 0) fail(node.describe(), ": integer division by zero (divisor element ", i, ")");
  }
}

// ---- Operators as function objects ----------------------------------------
// kBoolOutput: the result is bool whatever the input type.

struct AddOp {
  static constexpr bool kBoolOutput = false;
  template <class V> V operator()(V a, V b) const { return wrapping_add(a, b); }
};

struct SubOp {
  static constexpr bool kBoolOutput = false;
  template <class V> V operator()(V a, V b) const { return wrapping_sub(a, b); }
};

struct MulOp {
  static constexpr bool kBoolOutput = false;
  template <class V> V operator()(V a, V b) const { return wrapping_mul(a, b); }
};

struct DivOp {
  static constexpr bool kBoolOutput = false;
  template <class T> void check(const graph::Node& node, const Tensor& divisor) const {
    fail_on_zero_divisor<T>(node, divisor);
  }
  template <class V> V operator()(V a, V b) const {
    if constexpr (std::is_integral_v<V> && std::is_signed_v<V>) {
      if (b == -1) return wrapping_neg(a);  // INT_MIN / -1 would trap
    }
    return static_cast<V>(a / b);
  }
};

// fmod = 0: the result takes the sign of the divisor (Python %), integers only.
// fmod = 1: the result takes the sign of the dividend (C fmod / %).
struct ModOp {
  static constexpr bool kBoolOutput = false;
  bool c_fmod;
  explicit ModOp(const graph::Node& node) {
    const int64_t fmod = node.attr_int("fmod", 0);
    if (fmod != 0 && fmod != 1) fail(node.describe(), ": attribute 'fmod' must be 0 or 1, got ", fmod);
    c_fmod = fmod == 1;
  }
  template <class T> void check(const graph::Node& node, const Tensor& divisor) const {
    if (std::is_floating_point_v<typename Element<T>::Value> && !c_fmod)
      fail(node.describe(), ": Mod of ", dtype_name(divisor.dtype()), " needs attribute fmod=1");
    fail_on_zero_divisor<T>(node, divisor);
  }
  template <class V> V operator()(V a, V b) const {
    if constexpr (std::is_floating_point_v<V>) {
      return std::fmod(a, b);
    } else {
      if constexpr (std::is_signed_v<V>) {
        if (b == -1) return V(0);  // INT_MIN % -1 would trap
      }
      V r = static_cast<V>(a % b);
      if constexpr (std::is_signed_v<V>) {
        if (!c_fmod && r != 0 && ((r < 0) != (b < 0))) r = static_cast<V>(r + b);
      }
      return r;
    }
  }
};

struct BitShiftOp {
  static constexpr bool kBoolOutput = false;
  bool left;
  explicit BitShiftOp(const graph::Node& node) {
    const std::string direction = node.attr_string("direction", "");
    if (direction != "LEFT" && direction != "RIGHT")
      fail(node.describe(), ": attribute 'direction' must be \"LEFT\" or \"RIGHT\", got \"", direction, "\"");
    left = direction == "LEFT";
  }
  template <class V> V operator()(V a, V b) const {
    if (b >= std::numeric_limits<V>::digits) return V(0);  // every bit shifted out
    return static_cast<V>(left ? a << b : a >> b);
  }
};

struct EqualOp {
  static constexpr bool kBoolOutput = true;
  template <class V> bool operator()(V a, V b) const { return a == b; }
};
struct GreaterOp {
  static constexpr bool kBoolOutput = true;
  template <class V> bool operator()(V a, V b) const { return a > b; }
};
struct LessOp {
  static constexpr bool kBoolOutput = true;
  template <class V> bool operator()(V a, V b) const { return a < b; }
};
struct GreaterOrEqualOp {
  static constexpr bool kBoolOutput = true;
  template <class V> bool operator()(V a, V b) const { return a >= b; }
};
struct LessOrEqualOp {
  static constexpr bool kBoolOutput = true;
  template <class V> bool operator()(V a, V b) const { return a <= b; }
};

struct AndOp {
  static constexpr bool kBoolOutput = true;
  bool operator()(bool a, bool b) const { return a && b; }
};
struct OrOp {
  static constexpr bool kBoolOutput = true;
  bool operator()(bool a, bool b) const { return a || b; }
};
struct XorOp {
  static constexpr bool kBoolOutput = true;
  bool operator()(bool a, bool b) const { return a != b; }
};

struct NotFunction {
  explicit NotFunction(const graph::Node&) {}
  bool operator()(bool x) const { return !x; }
};

// Max and Min propagate NaN like numpy.maximum / numpy.minimum.
struct MaxOp {
  static constexpr bool kBoolOutput = false;
  template <class V> V operator()(V a, V b) const { return (a > b || is_nan(a)) ? a : b; }
};
struct MinOp {
  static constexpr bool kBoolOutput = false;
  template <class V> V operator()(V a, V b) const { return (a < b || is_nan(a)) ? a : b; }
};

// ---- Pow ------------------------------------------------------------------

// base^exponent in the integers (exponent >= 0 by repeated squaring; a
// negative exponent gives the truncated 1/base^-exponent).
template <class V, class E>
V integer_power(V base, E exponent) {
  if constexpr (std::is_signed_v<E>) {
    if (exponent < 0) {
      if (base == V(1)) return V(1);
      if constexpr (std::is_signed_v<V>) {
        if (base == V(-1)) return (exponent % 2 == 0) ? V(1) : V(-1);
      }
      return V(0);
    }
  }
  auto remaining = static_cast<std::make_unsigned_t<E>>(exponent);
  V result = 1;
  while (remaining != 0) {
    if (remaining & 1u) result = wrapping_mul(result, base);
    base = wrapping_mul(base, base);
    remaining >>= 1;
  }
  return result;
}

// A double converted to an integer type, clamped to its range (NaN -> 0).
template <class V>
V saturating_cast(double x) {
  if (std::isnan(x)) return V(0);
  if (x <= static_cast<double>(std::numeric_limits<V>::lowest())) return std::numeric_limits<V>::lowest();
  if (x >= static_cast<double>(std::numeric_limits<V>::max())) return std::numeric_limits<V>::max();
  return static_cast<V>(x);
}

// Base and exponent of one type.
struct PowSameTypeOp {
  template <class V> V operator()(V base, V exponent) const {
    if constexpr (std::is_floating_point_v<V>) return std::pow(base, exponent);
    else return integer_power(base, exponent);
  }
};

// Exponent given as double (when base or exponent is a float type); the result
// is computed in double and converted to the base type.
struct PowDoubleExponentOp {
  template <class V> V operator()(V base, double exponent) const {
    const double result = std::pow(static_cast<double>(base), exponent);
    if constexpr (std::is_floating_point_v<V>) return static_cast<V>(result);
    else return saturating_cast<V>(result);
  }
};

// Integer base with an integer exponent of another type.
struct PowInt64ExponentOp {
  template <class V> V operator()(V base, int64_t exponent) const { return integer_power(base, exponent); }
};

// Elements of `tensor` (any numeric type) converted to Value.
template <class Value>
std::vector<Value> converted_elements(const Tensor& tensor, const graph::Node& node) {
  std::vector<Value> values(static_cast<size_t>(tensor.size()));
  visit_type_or_fail(NumericTypes{}, tensor.dtype(), node, "exponent", [&]<class E>(TypeTag<E>) {
    const E* in = elements<E>(tensor);
    for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<Value>(Element<E>::load(in[i]));
  });
  return values;
}

// Pow(X, Y): Y may have another numeric type than X (opset 12+); the output
// has X's type.
class PowKernel : public OpKernel {
 public:
  explicit PowKernel(const KernelInit& init) : legacy_(LegacyBroadcast::from_node(init.node())) {
    check_arity(init, 2, 2);
  }

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    const Tensor& base = ctx.required_input(0);
    const Tensor& exponent = ctx.required_input(1);
    const BroadcastLayout layout =
        plan_broadcast(node, {base.shape(), legacy_.operand_shape(node, base.shape(), exponent.shape())});
    Tensor& out = ctx.allocate_output(0, base.dtype(), layout.output_shape);
    if (is_float32_square(base, exponent) && out.size() == base.size()) {
      // x^2, the layer-norm variance: x * x is exactly what pow gives, without its cost.
      const float* x = base.data<float>();
      float* y = out.data<float>();
      parallel_ranges(base.size(), base.size() > kParallelMinElements ? ctx.threads() : 1, 1 << 14,
                      [&](int64_t begin, int64_t end) {
                        for (int64_t i = begin; i < end; ++i) y[i] = x[i] * x[i];
                      });
      return;
    }
    const bool float_math = is_float_type(base.dtype()) || is_float_type(exponent.dtype());
    visit_type_or_fail(NumericTypes{}, base.dtype(), node, "base", [&]<class T>(TypeTag<T>) {
      if (exponent.dtype() == base.dtype()) {
        broadcast_binary(layout, elements<T>(base), elements<T>(exponent), elements<T>(out), PowSameTypeOp{},
                         ctx.threads());
      } else if (float_math) {
        const std::vector<double> e = converted_elements<double>(exponent, node);
        broadcast_binary(layout, elements<T>(base), e.data(), elements<T>(out), PowDoubleExponentOp{},
                         ctx.threads());
      } else if constexpr (std::is_integral_v<T>) {
        const std::vector<int64_t> e = converted_elements<int64_t>(exponent, node);
        broadcast_binary(layout, elements<T>(base), e.data(), elements<T>(out), PowInt64ExponentOp{},
                         ctx.threads());
      }
    });
  }

 private:
  static bool is_float_type(DataType type) {
    return visit_type(FloatTypes{}, type, []<class T>(TypeTag<T>) {});
  }

  // A float32 base raised to a one-element float32 exponent equal to 2.
  static bool is_float32_square(const Tensor& base, const Tensor& exponent) {
    return base.dtype() == DataType::kFloat32 && exponent.dtype() == DataType::kFloat32 && exponent.size() == 1 &&
           exponent.data<float>()[0] == 2.0f;
  }

  LegacyBroadcast legacy_;
};

// ---- Binary operators -----------------------------------------------------

template <class Op>
Op make_op(const graph::Node& node) {
  if constexpr (std::is_constructible_v<Op, const graph::Node&>) return Op(node);
  else return Op{};
}

// Op(A, B) for two inputs of one type in Types, broadcast; the output has that
// type, or bool when Op::kBoolOutput.
template <class Op, class Types>
class BinaryKernel : public OpKernel {
 public:
  explicit BinaryKernel(const KernelInit& init)
      : op_(make_op<Op>(init.node())), legacy_(LegacyBroadcast::from_node(init.node())) {
    check_arity(init, 2, 2);
  }

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    const Tensor& a = ctx.required_input(0);
    const Tensor& b = ctx.required_input(1);
    if (a.dtype() != b.dtype())
      fail(node.describe(), ": inputs have different types (", dtype_name(a.dtype()), " and ",
           dtype_name(b.dtype()), ")");
    const BroadcastLayout layout = plan_broadcast(node, {a.shape(), legacy_.operand_shape(node, a.shape(), b.shape())});
    visit_type_or_fail(Types{}, a.dtype(), node, "input", [&]<class T>(TypeTag<T>) {
      using Out = std::conditional_t<Op::kBoolOutput, bool, T>;
      if constexpr (requires { op_.template check<T>(node, b); }) op_.template check<T>(node, b);
      Tensor& out = ctx.allocate_output(0, data_type_of<Out>(), layout.output_shape);
      broadcast_binary(layout, elements<T>(a), elements<T>(b), elements<Out>(out), op_, ctx.threads());
    });
  }
  // broadcast_binary reads a[i] and b[i] before it writes out[i]; an input
  // of the output's shape walks the output index for index.
  bool may_write_over_input(size_t i) const override { return i < 2; }

 private:
  Op op_;
  LegacyBroadcast legacy_;
};

// ---- Variadic operators ---------------------------------------------------

// Op folded over 1..N inputs of one type, all broadcast to one output:
// out = in0, then out = Op(out, in_k). With kMean the sum is divided by N.
template <class Op, class Types, bool kMean = false>
class VariadicKernel : public OpKernel {
 public:
  explicit VariadicKernel(const KernelInit& init) {
    check_arity(init, 1, std::numeric_limits<size_t>::max());
    for (size_t i = 0; i < init.num_inputs(); ++i)
      if (!init.has_input(i)) fail(init.node().describe(), ": input ", i, " is omitted");
  }

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    std::vector<const Tensor*> inputs;
    std::vector<Shape> shapes;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      inputs.push_back(&ctx.required_input(i));
      shapes.push_back(inputs.back()->shape());
      if (inputs[i]->dtype() != inputs[0]->dtype())
        fail(node.describe(), ": input ", i, " has type ", dtype_name(inputs[i]->dtype()), ", input 0 has ",
             dtype_name(inputs[0]->dtype()));
    }
    const Shape out_shape = broadcast_shapes(node, shapes);
    visit_type_or_fail(Types{}, inputs[0]->dtype(), node, "input", [&]<class T>(TypeTag<T>) {
      Tensor& out = ctx.allocate_output(0, inputs[0]->dtype(), out_shape);
      T* result = elements<T>(out);
      broadcast_copy(plan_broadcast(node, {out_shape, shapes[0]}), 1, elements<T>(*inputs[0]), result,
                     ctx.threads());
      for (size_t k = 1; k < inputs.size(); ++k)
        broadcast_binary(plan_broadcast(node, {out_shape, shapes[k]}), static_cast<const T*>(result),
                         elements<T>(*inputs[k]), result, Op{}, ctx.threads());
      if constexpr (kMean) {
        using V = typename Element<T>::Value;
        const V count = static_cast<V>(inputs.size());
        map_elements(static_cast<const T*>(result), result, out.size(), [count](V x) { return x / count; },
                     ctx.threads());
      }
    });
  }
};

// ---- Where ----------------------------------------------------------------

// Where(condition, X, Y): X where condition is true, else Y; three-way
// broadcasting, any element type (it only moves elements, so it dispatches on
// the element size).
class WhereKernel : public OpKernel {
 public:
  explicit WhereKernel(const KernelInit& init) { check_arity(init, 3, 3); }

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    const Tensor& condition = ctx.required_input(0);
    const Tensor& x = ctx.required_input(1);
    const Tensor& y = ctx.required_input(2);
    if (condition.dtype() != DataType::kBool)
      fail(node.describe(), ": condition must be bool, got ", dtype_name(condition.dtype()));
    if (x.dtype() != y.dtype())
      fail(node.describe(), ": X and Y have different types (", dtype_name(x.dtype()), " and ",
           dtype_name(y.dtype()), ")");
    const BroadcastLayout layout = plan_broadcast(node, {condition.shape(), x.shape(), y.shape()});
    Tensor& out = ctx.allocate_output(0, x.dtype(), layout.output_shape);
    visit_type_or_fail(UnsignedIntTypes{}, unsigned_type_of_size(element_size(x.dtype())), node, "X",
                       [&]<class Bits>(TypeTag<Bits>) {
                         select(layout, elements<bool>(condition), static_cast<const Bits*>(x.raw()),
                                static_cast<const Bits*>(y.raw()), static_cast<Bits*>(out.raw()), ctx.threads());
                       });
  }

 private:
  static DataType unsigned_type_of_size(size_t bytes) {
    switch (bytes) {
      case 1: return DataType::kUInt8;
      case 2: return DataType::kUInt16;
      case 4: return DataType::kUInt32;
      case 8: return DataType::kUInt64;
      default: return DataType::kUndefined;
    }
  }

  template <class Bits>
  static void select(const BroadcastLayout& layout, const bool* condition, const Bits* x, const Bits* y, Bits* out,
                     int threads) {
    const int64_t sc = layout.inner_strides[0], sx = layout.inner_strides[1], sy = layout.inner_strides[2];
    for_each_broadcast_segment(layout, threads, [&](const int64_t* in, int64_t out_offset, int64_t count) {
      const bool* c_run = condition + in[0];
      const Bits* x_run = x + in[1];
      const Bits* y_run = y + in[2];
      Bits* out_run = out + out_offset;
      if (sc && sx && sy) {
        for (int64_t i = 0; i < count; ++i) out_run[i] = c_run[i] ? x_run[i] : y_run[i];
      } else {
        for (int64_t i = 0; i < count; ++i) out_run[i] = c_run[i * sc] ? x_run[i * sx] : y_run[i * sy];
      }
    });
  }
};

}  // namespace

void register_elementwise_ops(OpRegistry& registry) {
  // Numpy-broadcasting ops from opset `numpy` on; the records before it carry
  // no kBroadcasting trait, since their inputs broadcast another way.
  auto broadcasting = [&](const char* op_type, KernelFactory kernel, graph::ShapeRule shape, int since, int numpy) {
    if (since < numpy) registry.add(op_type, kernel, shape, graph::kNoTraits, since, numpy - 1);
    registry.add(op_type, kernel, shape, graph::kBroadcasting, std::max(since, numpy));
  };
  // Opsets before 7 broadcast B to A by the `broadcast`/`axis` attributes
  // (LegacyBroadcast); 7 on use numpy broadcasting. Later versions only add
  // types (and Pow's mixed-type exponent at 12).
  const graph::ShapeRule same_type = shape_rules::broadcast, to_bool = shape_rules::broadcast_bool;
  broadcasting("Add", make_kernel<BinaryKernel<AddOp, NumericTypes>>, same_type, 1, 7);
  broadcasting("Sub", make_kernel<BinaryKernel<SubOp, NumericTypes>>, same_type, 1, 7);
  broadcasting("Mul", make_kernel<BinaryKernel<MulOp, NumericTypes>>, same_type, 1, 7);
  broadcasting("Div", make_kernel<BinaryKernel<DivOp, NumericTypes>>, same_type, 1, 7);
  broadcasting("Mod", make_kernel<BinaryKernel<ModOp, NumericTypes>>, same_type, 10, 7);
  broadcasting("Pow", make_kernel<PowKernel>, same_type, 1, 7);
  broadcasting("BitShift", make_kernel<BinaryKernel<BitShiftOp, UnsignedIntTypes>>, same_type, 11, 7);

  broadcasting("Equal", make_kernel<BinaryKernel<EqualOp, NumericAndBoolTypes>>, to_bool, 1, 7);
  broadcasting("Greater", make_kernel<BinaryKernel<GreaterOp, NumericTypes>>, to_bool, 1, 7);
  broadcasting("Less", make_kernel<BinaryKernel<LessOp, NumericTypes>>, to_bool, 1, 7);
  broadcasting("GreaterOrEqual", make_kernel<BinaryKernel<GreaterOrEqualOp, NumericTypes>>, to_bool, 12, 7);
  broadcasting("LessOrEqual", make_kernel<BinaryKernel<LessOrEqualOp, NumericTypes>>, to_bool, 12, 7);

  broadcasting("And", make_kernel<BinaryKernel<AndOp, BoolTypes>>, to_bool, 1, 7);
  broadcasting("Or", make_kernel<BinaryKernel<OrOp, BoolTypes>>, to_bool, 1, 7);
  broadcasting("Xor", make_kernel<BinaryKernel<XorOp, BoolTypes>>, to_bool, 1, 7);
  registry.add("Not", make_kernel<UnaryKernel<NotFunction, BoolTypes>>,
               shape_rules::same_as_input, graph::kElementwise);

  // Before opset 8 the inputs had equal shapes, which broadcasting covers;
  // version 1 only adds the legacy `consumed_inputs` hint. (A rewrite that
  // gives an input a new rank is valid only from 8 on, hence the cut.)
  broadcasting("Max", make_kernel<VariadicKernel<MaxOp, NumericTypes>>, same_type, 1, 8);
  broadcasting("Min", make_kernel<VariadicKernel<MinOp, NumericTypes>>, same_type, 1, 8);
  broadcasting("Sum", make_kernel<VariadicKernel<AddOp, NumericTypes>>, same_type, 1, 8);
  broadcasting("Mean", make_kernel<VariadicKernel<AddOp, FloatTypes, /*kMean=*/true>>, same_type, 1, 8);

  registry.add("Where", make_kernel<WhereKernel>, shape_rules::where, graph::kBroadcasting, 9);
}

}  // namespace kiln
