// Activations and unary math: Relu LeakyRelu PRelu Sigmoid HardSigmoid
// HardSwish Tanh Elu Selu Celu Softplus Softsign ThresholdedRelu Shrink Clip,
// and Sqrt Exp Log Floor Ceil Round Erf, trigonometric and hyperbolic
// functions, Reciprocal Neg Abs Sign IsNaN IsInf.
//
// Each unary operator is one function object: its constructor reads and
// checks the attributes (session build time), operator() maps one value.
// float16/bfloat16 are computed in float (see element_types.h).
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <type_traits>

#include "runtime/op_registry.h"
#include "runtime/ops/arity.h"
#include "runtime/ops/broadcast.h"
#include "runtime/ops/element_types.h"
#include "runtime/ops/unary_map.h"

namespace kiln {

namespace {

// ---- Activations ----------------------------------------------------------

struct Relu {
  explicit Relu(const graph::Node&) {}
  template <class V> V operator()(V x) const { return x > V(0) ? x : V(0); }
};

struct LeakyRelu {
  float alpha;
  explicit LeakyRelu(const graph::Node& node) : alpha(node.attr_float("alpha", 0.01f)) {}
  template <class V> V operator()(V x) const { return x < V(0) ? static_cast<V>(alpha) * x : x; }
};

struct ThresholdedRelu {
  float alpha;
  explicit ThresholdedRelu(const graph::Node& node) : alpha(node.attr_float("alpha", 1.0f)) {}
  template <class V> V operator()(V x) const { return x > static_cast<V>(alpha) ? x : V(0); }
};

// 1 / (1 + e^-x), written so that neither branch overflows.
struct Sigmoid {
  explicit Sigmoid(const graph::Node&) {}
  template <class V> V operator()(V x) const {
    if (x >= V(0)) return V(1) / (V(1) + std::exp(-x));
    const V e = std::exp(x);
    return e / (V(1) + e);
  }
};

// max(0, min(1, alpha * x + beta))
struct HardSigmoid {
  float alpha, beta;
  explicit HardSigmoid(const graph::Node& node)
      : alpha(node.attr_float("alpha", 0.2f)), beta(node.attr_float("beta", 0.5f)) {}
  template <class V> V operator()(V x) const {
    const V y = static_cast<V>(alpha) * x + static_cast<V>(beta);
    return y < V(0) ? V(0) : (y > V(1) ? V(1) : y);
  }
};

// x * HardSigmoid(x) with alpha = 1/6, beta = 0.5.
struct HardSwish {
  explicit HardSwish(const graph::Node&) {}
  template <class V> V operator()(V x) const {
    const V gate = x / V(6) + V(0.5);
    return x * (gate < V(0) ? V(0) : (gate > V(1) ? V(1) : gate));
  }
};

// x for x >= 0, alpha * (e^x - 1) below.
struct Elu {
  float alpha;
  explicit Elu(const graph::Node& node) : alpha(node.attr_float("alpha", 1.0f)) {}
  template <class V> V operator()(V x) const { return x >= V(0) ? x : static_cast<V>(alpha) * std::expm1(x); }
};

// gamma * x for x > 0, gamma * alpha * (e^x - 1) otherwise.
struct Selu {
  float alpha, gamma;
  explicit Selu(const graph::Node& node)
      : alpha(node.attr_float("alpha", 1.67326319217681884765625f)),
        gamma(node.attr_float("gamma", 1.05070102214813232421875f)) {}
  template <class V> V operator()(V x) const {
    const V g = static_cast<V>(gamma);
    return x > V(0) ? g * x : g * static_cast<V>(alpha) * std::expm1(x);
  }
};

// max(0, x) + min(0, alpha * (e^(x / alpha) - 1))
struct Celu {
  float alpha;
  explicit Celu(const graph::Node& node) : alpha(node.attr_float("alpha", 1.0f)) {
    if (alpha == 0.0f) fail(node.describe(), ": attribute 'alpha' must not be 0");
  }
  template <class V> V operator()(V x) const {
    const V a = static_cast<V>(alpha);
    return x > V(0) ? x : a * std::expm1(x / a);
  }
};

// log(1 + e^x), written so that e^x does not overflow.
struct Softplus {
  explicit Softplus(const graph::Node&) {}
  template <class V> V operator()(V x) const {
    return x > V(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
  }
};

struct Softsign {
  explicit Softsign(const graph::Node&) {}
  template <class V> V operator()(V x) const { return x / (V(1) + std::abs(x)); }
};

// ---- Unary math -----------------------------------------------------------

// Unary math that is one <cmath> call on Element<T>::Value; kFunction is a
// captureless generic lambda (see the registrations).
template <auto kFunction>
struct CMath {
  explicit CMath(const graph::Node&) {}
  template <class V> V operator()(V x) const { return kFunction(x); }
};

struct Reciprocal {
  explicit Reciprocal(const graph::Node&) {}
  template <class V> V operator()(V x) const { return V(1) / x; }
};

// x + bias below -lambd, x - bias above lambd, 0 in between.
struct Shrink {
  float lambd, bias;
  explicit Shrink(const graph::Node& node) : lambd(node.attr_float("lambd", 0.5f)), bias(node.attr_float("bias", 0.0f)) {}
  template <class V> V operator()(V x) const {
    if (x < -static_cast<V>(lambd)) return x + static_cast<V>(bias);
    if (x > static_cast<V>(lambd)) return x - static_cast<V>(bias);
    return V(0);
  }
};

struct IsNaN {
  static constexpr bool kBoolOutput = true;
  explicit IsNaN(const graph::Node&) {}
  template <class V> bool operator()(V x) const { return std::isnan(x); }
};

// Attributes detect_positive / detect_negative (default 1) pick which infinities count.
struct IsInf {
  static constexpr bool kBoolOutput = true;
  bool positive, negative;
  explicit IsInf(const graph::Node& node)
      : positive(node.attr_int("detect_positive", 1) != 0), negative(node.attr_int("detect_negative", 1) != 0) {}
  template <class V> bool operator()(V x) const {
    return std::isinf(x) && (x > V(0) ? positive : negative);
  }
};

struct Neg {
  explicit Neg(const graph::Node&) {}
  template <class V> V operator()(V x) const { return wrapping_neg(x); }
};

struct Abs {
  explicit Abs(const graph::Node&) {}
  template <class V> V operator()(V x) const {
    if constexpr (std::is_floating_point_v<V>) return std::abs(x);
    else if constexpr (std::is_signed_v<V>) return x < V(0) ? wrapping_neg(x) : x;
    else return x;
  }
};

// -1, 0 or 1; NaN stays NaN.
struct Sign {
  explicit Sign(const graph::Node&) {}
  template <class V> V operator()(V x) const {
    if (x > V(0)) return V(1);
    if constexpr (std::is_signed_v<V>) {
      if (x < V(0)) return V(-1);
    }
    return x == V(0) ? V(0) : x;
  }
};

// ---- Clip -----------------------------------------------------------------

// min(max(x, low), high); when low > high every element becomes high, NaN
// stays NaN.
template <class T>
void clip_elements(const T* in, T* out, int64_t n, typename Element<T>::Value low,
                   typename Element<T>::Value high, int threads) {
  using V = typename Element<T>::Value;
  map_elements(in, out, n,
               [low, high](V x) {
                 const V raised = x < low ? low : x;
                 return raised > high ? high : raised;
               },
               threads);
}

// Clip-1/6: bounds from the float attributes min and max; float types.
// Clip-11+: bounds from the optional scalar inputs 1 (min) and 2 (max), of the
// input's type; integer types too (12+). A missing bound does not clip.
class ClipKernel : public OpKernel {
 public:
  explicit ClipKernel(const KernelInit& init) : bounds_from_inputs_(init.opset() >= 11) {
    const graph::Node& node = init.node();
    if (bounds_from_inputs_) {
      check_arity(init, 1, 3);
      for (size_t i : {1, 2}) {
        const Tensor* bound = init.constant_input(i);
        if (bound && bound->size() != 1)
          fail(node.describe(), ": '", i == 1 ? "min" : "max", "' must be a scalar, got shape ",
               shape_to_string(bound->shape()));
      }
    } else {
      check_arity(init, 1, 1);
      if (node.has_attr("min")) min_attr_ = node.attr_float("min", 0.0f);
      if (node.has_attr("max")) max_attr_ = node.attr_float("max", 0.0f);
    }
  }

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    const Tensor& x = ctx.required_input(0);
    if (bounds_from_inputs_) {
      visit_type_or_fail(NumericTypes{}, x.dtype(), node, "input", [&]<class T>(TypeTag<T>) {
        using V = typename Element<T>::Value;
        V low = lowest_value<V>(), high = highest_value<V>();
        if (const Tensor* t = ctx.input(1)) low = bound_value<T>(node, *t, x.dtype(), "min");
        if (const Tensor* t = ctx.input(2)) high = bound_value<T>(node, *t, x.dtype(), "max");
        Tensor& y = ctx.allocate_output(0, x.dtype(), x.shape());
        clip_elements(elements<T>(x), elements<T>(y), x.size(), low, high, ctx.threads());
      });
    } else {
      visit_type_or_fail(FloatTypes{}, x.dtype(), node, "input", [&]<class T>(TypeTag<T>) {
        using V = typename Element<T>::Value;
        const V low = min_attr_ ? static_cast<V>(*min_attr_) : lowest_value<V>();
        const V high = max_attr_ ? static_cast<V>(*max_attr_) : highest_value<V>();
        Tensor& y = ctx.allocate_output(0, x.dtype(), x.shape());
        clip_elements(elements<T>(x), elements<T>(y), x.size(), low, high, ctx.threads());
      });
    }
  }
  bool may_write_over_input(size_t i) const override { return i == 0; }

 private:
  template <class V> static V lowest_value() {
    if constexpr (std::numeric_limits<V>::has_infinity) return -std::numeric_limits<V>::infinity();
    else return std::numeric_limits<V>::lowest();
  }
  template <class V> static V highest_value() {
    if constexpr (std::numeric_limits<V>::has_infinity) return std::numeric_limits<V>::infinity();
    else return std::numeric_limits<V>::max();
  }

  // The single element of a min/max input, which must have the input's type.
  template <class T>
  static typename Element<T>::Value bound_value(const graph::Node& node, const Tensor& bound, DataType type,
                                                const char* name) {
    if (bound.dtype() != type)
      fail(node.describe(), ": '", name, "' has type ", dtype_name(bound.dtype()), ", input has ", dtype_name(type));
    if (bound.size() != 1)
      fail(node.describe(), ": '", name, "' must be a scalar, got shape ", shape_to_string(bound.shape()));
    return Element<T>::load(elements<T>(bound)[0]);
  }

  bool bounds_from_inputs_;
  std::optional<float> min_attr_, max_attr_;
};

// ---- PRelu ----------------------------------------------------------------

struct PReluOp {
  template <class V> V operator()(V x, V slope) const { return x < V(0) ? slope * x : x; }
};

// PRelu(X, slope): slope broadcasts to X's shape (unidirectionally: the output
// has X's shape). Before opset 7 a 1-D slope of X.dim(1) elements holds one
// value per channel (dimension 1), as Caffe-style exporters wrote it.
class PReluKernel : public OpKernel {
 public:
  explicit PReluKernel(const KernelInit& init) : per_channel_slope_(init.opset() < 7) { check_arity(init, 2, 2); }

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    const Tensor& x = ctx.required_input(0);
    const Tensor& slope = ctx.required_input(1);
    if (slope.dtype() != x.dtype())
      fail(node.describe(), ": slope has type ", dtype_name(slope.dtype()), ", X has ", dtype_name(x.dtype()));
    Shape slope_shape = slope.shape();
    if (per_channel_slope_ && slope.rank() == 1 && x.rank() >= 2 && slope.dim(0) == x.dim(1) && slope.size() > 1) {
      slope_shape.resize(x.rank() - 1, 1);  // [C] -> [C, 1, ..., 1]
    }
    const BroadcastLayout layout = plan_broadcast(node, {x.shape(), slope_shape});
    if (layout.output_shape != x.shape())
      fail(node.describe(), ": slope of shape ", shape_to_string(slope.shape()),
           " does not broadcast to X of shape ", shape_to_string(x.shape()));
    visit_type_or_fail(SignedTypes{}, x.dtype(), node, "input", [&]<class T>(TypeTag<T>) {
      Tensor& y = ctx.allocate_output(0, x.dtype(), x.shape());
      broadcast_binary(layout, elements<T>(x), elements<T>(slope), elements<T>(y), PReluOp{}, ctx.threads());
    });
  }

 private:
  bool per_channel_slope_;
};

template <class Function, class Types>
KernelFactory unary() {
  return make_kernel<UnaryKernel<Function, Types>>;
}

}  // namespace

void register_activation_ops(OpRegistry& registry) {
  // One input element in, one output element out (other inputs are scalar
  // parameters): the input's shape and type.
  auto elementwise = [&](const char* op_type, KernelFactory kernel, int since) {
    registry.add(op_type, kernel, shape_rules::same_as_input, graph::kElementwise, since);
  };
  // Opset-1 versions differ only by the legacy `consumed_inputs` hint, which
  // kiln ignores, so these register from 1. PRelu before 7 had a per-channel
  // slope rule; Clip switches from attributes to inputs at 11.
  elementwise("Relu", unary<Relu, SignedTypes>(), 1);
  elementwise("LeakyRelu", unary<LeakyRelu, FloatTypes>(), 1);
  elementwise("ThresholdedRelu", unary<ThresholdedRelu, FloatTypes>(), 10);
  // The slope broadcasts to X numpy-style from opset 7 (before: by position).
  registry.add("PRelu", make_kernel<PReluKernel>, shape_rules::same_as_input, graph::kNoTraits, 1, 6);
  registry.add("PRelu", make_kernel<PReluKernel>, shape_rules::same_as_input, graph::kBroadcasting, 7);
  elementwise("Sigmoid", unary<Sigmoid, FloatTypes>(), 1);
  elementwise("HardSigmoid", unary<HardSigmoid, FloatTypes>(), 1);
  elementwise("HardSwish", unary<HardSwish, FloatTypes>(), 14);
  elementwise("Tanh", unary<CMath<[](auto x) { return std::tanh(x); }>, FloatTypes>(), 1);
  elementwise("Elu", unary<Elu, FloatTypes>(), 1);
  elementwise("Selu", unary<Selu, FloatTypes>(), 1);
  elementwise("Celu", unary<Celu, FloatTypes>(), 12);
  elementwise("Softplus", unary<Softplus, FloatTypes>(), 1);
  elementwise("Softsign", unary<Softsign, FloatTypes>(), 1);
  elementwise("Shrink", unary<Shrink, FloatTypes>(), 9);
  elementwise("Clip", make_kernel<ClipKernel>, 1);

  elementwise("Sqrt", unary<CMath<[](auto x) { return std::sqrt(x); }>, FloatTypes>(), 1);
  elementwise("Exp", unary<CMath<[](auto x) { return std::exp(x); }>, FloatTypes>(), 1);
  elementwise("Log", unary<CMath<[](auto x) { return std::log(x); }>, FloatTypes>(), 1);
  elementwise("Floor", unary<CMath<[](auto x) { return std::floor(x); }>, FloatTypes>(), 1);
  elementwise("Ceil", unary<CMath<[](auto x) { return std::ceil(x); }>, FloatTypes>(), 1);
  // Halves round to even: nearbyint in the default rounding mode.
  elementwise("Round", unary<CMath<[](auto x) { return std::nearbyint(x); }>, FloatTypes>(), 11);
  elementwise("Erf", unary<CMath<[](auto x) { return std::erf(x); }>, FloatTypes>(), 9);
  elementwise("Sin", unary<CMath<[](auto x) { return std::sin(x); }>, FloatTypes>(), 7);
  elementwise("Cos", unary<CMath<[](auto x) { return std::cos(x); }>, FloatTypes>(), 7);
  elementwise("Tan", unary<CMath<[](auto x) { return std::tan(x); }>, FloatTypes>(), 7);
  elementwise("Asin", unary<CMath<[](auto x) { return std::asin(x); }>, FloatTypes>(), 7);
  elementwise("Acos", unary<CMath<[](auto x) { return std::acos(x); }>, FloatTypes>(), 7);
  elementwise("Atan", unary<CMath<[](auto x) { return std::atan(x); }>, FloatTypes>(), 7);
  elementwise("Sinh", unary<CMath<[](auto x) { return std::sinh(x); }>, FloatTypes>(), 9);
  elementwise("Cosh", unary<CMath<[](auto x) { return std::cosh(x); }>, FloatTypes>(), 9);
  elementwise("Asinh", unary<CMath<[](auto x) { return std::asinh(x); }>, FloatTypes>(), 9);
  elementwise("Acosh", unary<CMath<[](auto x) { return std::acosh(x); }>, FloatTypes>(), 9);
  elementwise("Atanh", unary<CMath<[](auto x) { return std::atanh(x); }>, FloatTypes>(), 9);
  elementwise("Reciprocal", unary<Reciprocal, FloatTypes>(), 1);
  elementwise("Neg", unary<Neg, SignedTypes>(), 1);
  elementwise("Abs", unary<Abs, NumericTypes>(), 1);
  elementwise("Sign", unary<Sign, NumericTypes>(), 9);
  registry.add("IsNaN", unary<IsNaN, FloatTypes>(), shape_rules::same_shape_bool, graph::kElementwise, 9);
  registry.add("IsInf", unary<IsInf, FloatTypes>(), shape_rules::same_shape_bool, graph::kElementwise, 10);
}

}  // namespace kiln
