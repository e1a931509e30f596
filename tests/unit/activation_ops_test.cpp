// Activations and unary math: hand-checked values, attributes, types, Clip in
// both forms, PRelu's one-way broadcasting, and errors.
//
// Tolerance: piecewise-linear results are exact (==). Results of libm
// functions (exp, tanh, erf, ...) are compared to constants computed in
// double precision with kTranscendentalTolerance = 2e-6 absolute; every such
// value here has magnitude below 8, where that is more than 8 float ulp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "tests/unit/error_test_util.h"
#include "tests/unit/op_test_util.h"
#include "tests/unit/typed_values_util.h"

namespace kiln::testing {
namespace {

constexpr float kTranscendentalTolerance = 2e-6f;

// Runs a one-output op on float32 values and returns the float32 result.
std::vector<float> run_floats(const graph::Node& node, const std::vector<float>& x) {
  const Shape shape{static_cast<int64_t>(x.size())};
  const Tensor out = run_op(node, {Tensor::from_floats(shape, x)}).at(0);
  EXPECT_EQ(out.dtype(), DataType::kFloat32);
  EXPECT_EQ(out.shape(), shape);
  return to_floats(out);
}

std::vector<float> run_floats(const std::string& op, const std::vector<float>& x, int64_t opset = 17) {
  return run_floats(make_node(op, 1, 1, opset), x);
}

void expect_near_all(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isinf(want[i])) EXPECT_EQ(got[i], want[i]) << what << " element " << i;
    else EXPECT_NEAR(got[i], want[i], kTranscendentalTolerance) << what << " element " << i;
  }
}

const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

// ---- Piecewise-linear activations -------------------------------------------

TEST(ActivationOps, Relu) {
  EXPECT_EQ(run_floats("Relu", {-1, 0, 2.5f, -kInf, kInf}), (std::vector<float>{0, 0, 2.5f, 0, kInf}));
  EXPECT_EQ(run_floats("Relu", {-3, 4}, 6), (std::vector<float>{0, 4}));
  const Tensor ints = run_op(make_node("Relu", 1), {tensor_of<int32_t>({3}, {-7, 0, 9})}).at(0);
  EXPECT_EQ(values_of<int32_t>(ints), (std::vector<int32_t>{0, 0, 9}));
  const Tensor i8 = run_op(make_node("Relu", 1), {tensor_of<int8_t>({2}, {-128, 127})}).at(0);
  EXPECT_EQ(values_of<int8_t>(i8), (std::vector<int8_t>{0, 127}));
}

TEST(ActivationOps, LeakyReluDefaultAndAlpha) {
  EXPECT_EQ(run_floats("LeakyRelu", {-100, 0, 3}), (std::vector<float>{-1, 0, 3}));
  graph::Node node = make_node("LeakyRelu", 1);
  node.attrs["alpha"] = float_attr(0.5f);
  EXPECT_EQ(run_floats(node, {-2, 2}), (std::vector<float>{-1, 2}));
}

TEST(ActivationOps, ThresholdedRelu) {
  EXPECT_EQ(run_floats("ThresholdedRelu", {1, 1.5f, -2}), (std::vector<float>{0, 1.5f, 0}));
  graph::Node node = make_node("ThresholdedRelu", 1);
  node.attrs["alpha"] = float_attr(-3.0f);
  EXPECT_EQ(run_floats(node, {-4, -2, 0}), (std::vector<float>{0, -2, 0}));
}

TEST(ActivationOps, HardSigmoidDefaultAndAttributes) {
  EXPECT_EQ(run_floats("HardSigmoid", {-3, 0, 1, 3}), (std::vector<float>{0, 0.5f, 0.2f * 1 + 0.5f, 1}));
  graph::Node node = make_node("HardSigmoid", 1, 1, 6);
  node.attrs["alpha"] = float_attr(0.5f);
  node.attrs["beta"] = float_attr(0.25f);
  EXPECT_EQ(run_floats(node, {-1, 0.5f, 2}), (std::vector<float>{0, 0.5f, 1}));
}

TEST(ActivationOps, HardSwish) {
  const std::vector<float> got = run_floats("HardSwish", {-4, -3, 0, 1, 3, 6});
  const std::vector<float> want{0, 0, 0, 1.0f * (1.0f / 6 + 0.5f), 3, 6};
  expect_near_all(got, want, "HardSwish");
  EXPECT_EQ(got[0], 0.0f);
  EXPECT_EQ(got[5], 6.0f);
}

TEST(ActivationOps, PReluSlopeBroadcastsToX) {
  const Tensor x = Tensor::from_floats({2, 3}, {-1, -2, 3, -4, 5, -6});
  const Tensor per_column = Tensor::from_floats({3}, {0.5f, 0.25f, 2});
  EXPECT_EQ(to_floats(run_op(make_node("PRelu", 2), {x, per_column}).at(0)),
            (std::vector<float>{-0.5f, -0.5f, 3, -2, 5, -12}));
  const Tensor per_row = Tensor::from_floats({2, 1}, {0.5f, 0.25f});
  EXPECT_EQ(to_floats(run_op(make_node("PRelu", 2, 1, 7), {x, per_row}).at(0)),
            (std::vector<float>{-0.5f, -1, 3, -1, 5, -1.5f}));
  const Tensor shared = Tensor::from_floats({1}, {0.1f});
  EXPECT_EQ(to_floats(run_op(make_node("PRelu", 2), {x, shared}).at(0)),
            (std::vector<float>{-0.1f, -0.2f, 3, -0.4f, 5, -0.6f}));
  // Channel slope [C,1,1] on NCHW.
  const Tensor nchw = Tensor::from_floats({1, 2, 1, 2}, {-1, 1, -1, 1});
  const Tensor channel = Tensor::from_floats({2, 1, 1}, {3, 5});
  EXPECT_EQ(to_floats(run_op(make_node("PRelu", 2), {nchw, channel}).at(0)), (std::vector<float>{-3, 1, -5, 1}));
  const Tensor ints = run_op(make_node("PRelu", 2), {tensor_of<int64_t>({2}, {-3, 3}), tensor_of<int64_t>({1}, {2})}).at(0);
  EXPECT_EQ(values_of<int64_t>(ints), (std::vector<int64_t>{-6, 3}));
}

TEST(ActivationOps, PReluSlopeMustNotGrowX) {
  const Tensor x = Tensor::from_floats({2, 3}, {-1, -2, 3, -4, 5, -6});
  const std::string grows = error_of(make_node("PRelu", 2), {x, Tensor::from_floats({2, 2, 3}, std::vector<float>(12, 1))});
  EXPECT_TRUE(contains(grows, "PRelu_under_test"));
  EXPECT_TRUE(contains(grows, "2x2x3"));
  const std::string incompatible = error_of(make_node("PRelu", 2), {x, Tensor::from_floats({2}, {1, 1})});
  EXPECT_TRUE(contains(incompatible, "2x3, 2"));
}

TEST(ActivationOps, PReluBeforeOpset7HasPerChannelSlope) {
  const Tensor x = Tensor::from_floats({1, 3, 2}, {-1, 1, -1, 1, -2, 2});
  const Tensor slope = Tensor::from_floats({3}, {0.5f, 2, 3});
  EXPECT_EQ(to_floats(run_op(make_node("PRelu", 2, 1, 6), {x, slope}).at(0)),
            (std::vector<float>{-0.5f, 1, -2, 1, -6, 2}));
  // From opset 7 the same slope is aligned at the right and does not fit.
  EXPECT_THROW(run_op(make_node("PRelu", 2, 1, 7), {x, slope}), Error);
}

// ---- Smooth activations -----------------------------------------------------

TEST(ActivationOps, Sigmoid) {
  const std::vector<float> got = run_floats("Sigmoid", {0, std::log(3.0f), -std::log(3.0f), 100, -100, -kInf});
  expect_near_all(got, {0.5f, 0.75f, 0.25f, 1, 0, 0}, "Sigmoid");
  EXPECT_GT(got[4], 0.0f);  // e^-100 / (1 + e^-100), a float denormal, not a rounding to 0 from 1 - 1
  EXPECT_EQ(got[5], 0.0f);
  const Tensor half = run_op(make_node("Sigmoid", 1), {float16_tensor_of({2}, {0, 2})}).at(0);
  EXPECT_EQ(half.dtype(), DataType::kFloat16);
  expect_near_all(float16_values_of(half), {0.5f, half_to_float(float_to_half(0.8807970779778823f))}, "Sigmoid f16");
}

TEST(ActivationOps, Tanh) {
  expect_near_all(run_floats("Tanh", {0, 0.5493061443340548f, -0.5493061443340548f, 20}), {0, 0.5f, -0.5f, 1},
                  "Tanh");
}

TEST(ActivationOps, EluDefaultAndAlpha) {
  expect_near_all(run_floats("Elu", {-1, 0, 2, -kInf}, 6), {-0.6321205588285577f, 0, 2, -1}, "Elu");
  graph::Node node = make_node("Elu", 1, 1, 6);
  node.attrs["alpha"] = float_attr(2.0f);
  expect_near_all(run_floats(node, {-1, 3}), {-1.2642411176571153f, 3}, "Elu alpha=2");
}

TEST(ActivationOps, SeluDefaultAndAttributes) {
  expect_near_all(run_floats("Selu", {1, -1, 0}, 6), {1.0507009873554805f, -1.1113307378125628f, 0}, "Selu");
  graph::Node node = make_node("Selu", 1, 1, 6);
  node.attrs["alpha"] = float_attr(2.0f);
  node.attrs["gamma"] = float_attr(3.0f);
  expect_near_all(run_floats(node, {-1, 2}), {-3.7927233529713462f, 6}, "Selu alpha=2 gamma=3");
}

TEST(ActivationOps, Celu) {
  expect_near_all(run_floats("Celu", {-1, 2}), {-0.6321205588285577f, 2}, "Celu");
  graph::Node node = make_node("Celu", 1);
  node.attrs["alpha"] = float_attr(2.0f);
  expect_near_all(run_floats(node, {-2, 1}), {-1.2642411176571153f, 1}, "Celu alpha=2");
  graph::Node zero = make_node("Celu", 1);
  zero.attrs["alpha"] = float_attr(0.0f);
  EXPECT_TRUE(contains(error_of(zero, {Tensor::from_floats({1}, {1})}), "alpha"));
}

TEST(ActivationOps, SoftplusDoesNotOverflow) {
  const std::vector<float> got = run_floats("Softplus", {0, 1, -1, 100, -100}, 1);
  expect_near_all(got, {0.6931471805599453f, 1.3132616875182228f, 0.31326168751822286f, 100, 0}, "Softplus");
  EXPECT_GT(got[4], 0.0f);
}

TEST(ActivationOps, Softsign) {
  EXPECT_EQ(run_floats("Softsign", {1, -3, 0}), (std::vector<float>{0.5f, -0.75f, 0}));
}

// ---- Unary math -------------------------------------------------------------

TEST(UnaryMathOps, SqrtExpLog) {
  const std::vector<float> roots = run_floats("Sqrt", {4, 2.25f, 0, -1});
  EXPECT_EQ(std::vector<float>(roots.begin(), roots.end() - 1), (std::vector<float>{2, 1.5f, 0}));
  EXPECT_TRUE(std::isnan(roots[3]));
  expect_near_all(run_floats("Exp", {0, 1, -kInf, -1}), {1, 2.718281828459045f, 0, 0.36787944117144233f}, "Exp");
  expect_near_all(run_floats("Log", {1, 2.718281828459045f, 0, 0.5f}), {0, 1, -kInf, -0.6931471805599453f}, "Log");
}

TEST(UnaryMathOps, NegAbsWithIntegers) {
  EXPECT_EQ(run_floats("Neg", {1, -2, 0}), (std::vector<float>{-1, 2, -0.0f}));
  EXPECT_EQ(values_of<int64_t>(run_op(make_node("Neg", 1), {tensor_of<int64_t>({2}, {5, -7})}).at(0)),
            (std::vector<int64_t>{-5, 7}));
  EXPECT_EQ(values_of<int8_t>(run_op(make_node("Neg", 1), {tensor_of<int8_t>({2}, {-128, 3})}).at(0)),
            (std::vector<int8_t>{-128, -3}));  // wraps like two's complement
  EXPECT_EQ(run_floats("Abs", {-1.5f, 2, -0.0f}), (std::vector<float>{1.5f, 2, 0}));
  const int32_t int_min = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(values_of<int32_t>(run_op(make_node("Abs", 1), {tensor_of<int32_t>({3}, {int_min, -3, 4})}).at(0)),
            (std::vector<int32_t>{int_min, 3, 4}));
  EXPECT_EQ(values_of<uint8_t>(run_op(make_node("Abs", 1), {tensor_of<uint8_t>({2}, {200, 0})}).at(0)),
            (std::vector<uint8_t>{200, 0}));
  EXPECT_THROW(run_op(make_node("Neg", 1), {tensor_of<uint32_t>({1}, {1})}), Error);
}

TEST(UnaryMathOps, ReciprocalFloorCeilRound) {
  EXPECT_EQ(run_floats("Reciprocal", {2, -0.25f, 0}), (std::vector<float>{0.5f, -4, kInf}));
  EXPECT_EQ(run_floats("Floor", {-1.5f, 1.2f, 2, -0.0f}), (std::vector<float>{-2, 1, 2, -0.0f}));
  EXPECT_EQ(run_floats("Ceil", {-1.5f, 1.2f, 2}), (std::vector<float>{-1, 2, 2}));
  EXPECT_EQ(run_floats("Round", {0.5f, 1.5f, 2.5f, -0.5f, -1.7f, 2.3f}), (std::vector<float>{0, 2, 2, -0.0f, -2, 2}));
  const Tensor d = run_op(make_node("Floor", 1), {tensor_of<double>({2}, {-0.5, 7.99})}).at(0);
  EXPECT_EQ(values_of<double>(d), (std::vector<double>{-1, 7}));
}

TEST(UnaryMathOps, Erf) {
  expect_near_all(run_floats("Erf", {0, 0.5f, -1, 3}), {0, 0.5204998778130465f, -0.8427007929497149f, 0.9999779095030014f},
                  "Erf");
}

TEST(UnaryMathOps, TrigonometricAndHyperbolic) {
  expect_near_all(run_floats("Sin", {0, 0.5235987755982988f, -1.5707963267948966f}, 7), {0, 0.5f, -1}, "Sin");
  expect_near_all(run_floats("Cos", {0, 1.0471975511965976f, 3.141592653589793f}), {1, 0.5f, -1}, "Cos");
  expect_near_all(run_floats("Tan", {0, 0.7853981633974483f}), {0, 1}, "Tan");
  expect_near_all(run_floats("Asin", {0, 0.5f, -1}), {0, 0.5235987755982988f, -1.5707963267948966f}, "Asin");
  expect_near_all(run_floats("Acos", {1, 0.5f, -1}), {0, 1.0471975511965976f, 3.141592653589793f}, "Acos");
  expect_near_all(run_floats("Atan", {0, 1, -1}), {0, 0.7853981633974483f, -0.7853981633974483f}, "Atan");
  expect_near_all(run_floats("Sinh", {0, 1}), {0, 1.1752011936438014f}, "Sinh");
  expect_near_all(run_floats("Cosh", {0, 1}), {1, 1.5430806348152437f}, "Cosh");
  expect_near_all(run_floats("Asinh", {0, 1.1752011936438014f}), {0, 1}, "Asinh");
  expect_near_all(run_floats("Acosh", {1, 1.5430806348152437f}), {0, 1}, "Acosh");
  expect_near_all(run_floats("Atanh", {0, 0.46211715726000974f}), {0, 0.5f}, "Atanh");
  EXPECT_TRUE(std::isnan(run_floats("Asin", {2})[0]));
}

TEST(UnaryMathOps, IsNaNAndIsInfGiveBool) {
  const Tensor x = Tensor::from_floats({5}, {1, kNaN, kInf, -kInf, 0});
  const Tensor nan = run_op(make_node("IsNaN", 1), {x}).at(0);
  EXPECT_EQ(nan.dtype(), DataType::kBool);
  EXPECT_EQ(values_of<bool>(nan), (std::vector<bool>{false, true, false, false, false}));
  EXPECT_EQ(values_of<bool>(run_op(make_node("IsInf", 1), {x}).at(0)), (std::vector<bool>{false, false, true, true, false}));
  graph::Node positive_only = make_node("IsInf", 1);
  positive_only.attrs["detect_negative"] = int_attr(0);
  EXPECT_EQ(values_of<bool>(run_op(positive_only, {x}).at(0)), (std::vector<bool>{false, false, true, false, false}));
  graph::Node negative_only = make_node("IsInf", 1);
  negative_only.attrs["detect_positive"] = int_attr(0);
  EXPECT_EQ(values_of<bool>(run_op(negative_only, {x}).at(0)), (std::vector<bool>{false, false, false, true, false}));
  const Tensor d = run_op(make_node("IsNaN", 1), {tensor_of<double>({2}, {std::nan(""), 1.0})}).at(0);
  EXPECT_EQ(values_of<bool>(d), (std::vector<bool>{true, false}));
}

TEST(ActivationOps, ShrinkHardAndSoft) {
  graph::Node hard = make_node("Shrink", 1);
  hard.attrs["lambd"] = float_attr(1.5f);
  EXPECT_EQ(run_floats(hard, {-2, -1, 0, 1, 2}), (std::vector<float>{-2, 0, 0, 0, 2}));
  graph::Node soft = hard;
  soft.attrs["bias"] = float_attr(1.5f);
  EXPECT_EQ(run_floats(soft, {-2, -1, 0, 1, 2}), (std::vector<float>{-0.5f, 0, 0, 0, 0.5f}));
  EXPECT_EQ(run_floats("Shrink", {-0.75f, 0.5f, 0.75f}), (std::vector<float>{-0.75f, 0, 0.75f}));
}

TEST(UnaryMathOps, Sign) {
  const std::vector<float> got = run_floats("Sign", {-2, 0, 3, kNaN, -kInf});
  EXPECT_EQ(got[0], -1.0f);
  EXPECT_EQ(got[1], 0.0f);
  EXPECT_EQ(got[2], 1.0f);
  EXPECT_TRUE(std::isnan(got[3]));
  EXPECT_EQ(got[4], -1.0f);
  EXPECT_EQ(values_of<int8_t>(run_op(make_node("Sign", 1), {tensor_of<int8_t>({3}, {-5, 0, 7})}).at(0)),
            (std::vector<int8_t>{-1, 0, 1}));
  EXPECT_EQ(values_of<uint8_t>(run_op(make_node("Sign", 1), {tensor_of<uint8_t>({2}, {0, 9})}).at(0)),
            (std::vector<uint8_t>{0, 1}));
}

TEST(UnaryMathOps, FloatOnlyOpsRejectIntegers) {
  const std::string message = error_of(make_node("Sigmoid", 1), {tensor_of<int32_t>({1}, {1})});
  EXPECT_TRUE(contains(message, "Sigmoid_under_test"));
  EXPECT_TRUE(contains(message, "int32"));
}

TEST(UnaryMathOps, WrongInputCountIsAnError) {
  EXPECT_THROW(run_op(make_node("Relu", 2), {Tensor::from_floats({1}, {1}), Tensor::from_floats({1}, {1})}), Error);
}

TEST(UnaryMathOps, LargeTensorOnTwoThreads) {
  // Above the parallel threshold; every element checked against the formula.
  const int64_t n = 200003;
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) x[static_cast<size_t>(i)] = static_cast<float>(i % 17) - 8.0f;
  graph::Node node = make_node("LeakyRelu", 1);
  node.attrs["alpha"] = float_attr(0.5f);
  const Tensor out = run_op(node, {Tensor::from_floats({n}, x)}, false, /*threads=*/2).at(0);
  const float* y = out.data<float>();
  int64_t mismatches = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[static_cast<size_t>(i)];
    mismatches += y[i] != (v < 0 ? 0.5f * v : v);
  }
  EXPECT_EQ(mismatches, 0);
}

// ---- Clip -------------------------------------------------------------------

// A Clip-11+ node; an empty bound name omits that input.
graph::Node clip_node(int64_t opset, bool with_min, bool with_max) {
  graph::Node node = make_node("Clip", 3, 1, opset);
  if (!with_min) node.inputs[1] = "";
  if (!with_max) node.inputs[2] = "";
  while (!node.inputs.empty() && node.inputs.back().empty()) node.inputs.pop_back();
  return node;
}

TEST(ClipOp, AttributeFormBeforeOpset11) {
  graph::Node node = make_node("Clip", 1, 1, 6);
  node.attrs["min"] = float_attr(-1.0f);
  node.attrs["max"] = float_attr(1.0f);
  EXPECT_EQ(run_floats(node, {-2, 0.5f, 3}), (std::vector<float>{-1, 0.5f, 1}));
  graph::Node only_max = make_node("Clip", 1, 1, 6);
  only_max.attrs["max"] = float_attr(0.0f);
  EXPECT_EQ(run_floats(only_max, {-kInf, -5, 5}), (std::vector<float>{-kInf, -5, 0}));
  EXPECT_EQ(run_floats(make_node("Clip", 1, 1, 6), {-1e30f, 1e30f}), (std::vector<float>{-1e30f, 1e30f}));
  // Bounds as inputs are not part of Clip-6.
  EXPECT_THROW(run_op(make_node("Clip", 3, 1, 6), {Tensor::from_floats({1}, {1}), Tensor::from_floats({}, {0}),
                                                   Tensor::from_floats({}, {1})}),
               Error);
}

TEST(ClipOp, InputFormFromOpset11) {
  const Tensor x = Tensor::from_floats({5}, {-3, -1, 0, 2, 10});
  const Tensor low = Tensor::from_floats({}, {-2});
  const Tensor high = Tensor::from_floats({}, {5});
  for (int64_t opset : {11, 12, 13}) {
    EXPECT_EQ(to_floats(run_op(clip_node(opset, true, true), {x, low, high}).at(0)),
              (std::vector<float>{-2, -1, 0, 2, 5}))
        << "opset " << opset;
  }
  EXPECT_EQ(to_floats(run_op(clip_node(13, true, false), {x, low}).at(0)), (std::vector<float>{-2, -1, 0, 2, 10}));
  EXPECT_EQ(to_floats(run_op(clip_node(13, false, true), {x, Tensor(), high}).at(0)),
            (std::vector<float>{-3, -1, 0, 2, 5}));
  EXPECT_EQ(to_floats(run_op(clip_node(13, false, false), {x}).at(0)), (std::vector<float>{-3, -1, 0, 2, 10}));
  // A one-element bound of shape [1] is accepted like a scalar.
  EXPECT_EQ(to_floats(run_op(clip_node(13, true, true), {x, Tensor::from_floats({1}, {0}), Tensor::from_floats({1}, {1})}).at(0)),
            (std::vector<float>{0, 0, 0, 1, 1}));
}

TEST(ClipOp, MinAboveMaxGivesMaxAndNaNStays) {
  const Tensor x = Tensor::from_floats({4}, {-5, 1.5f, 5, kNaN});
  const std::vector<float> got =
      to_floats(run_op(clip_node(13, true, true), {x, Tensor::from_floats({}, {2}), Tensor::from_floats({}, {1})}).at(0));
  EXPECT_EQ(std::vector<float>(got.begin(), got.begin() + 3), (std::vector<float>{1, 1, 1}));
  EXPECT_TRUE(std::isnan(got[3]));
}

TEST(ClipOp, IntegerTypes) {
  const Tensor x = tensor_of<int8_t>({4}, {-128, -5, 100, 127});
  EXPECT_EQ(values_of<int8_t>(run_op(clip_node(13, true, true), {x, tensor_of<int8_t>({}, {-10}), tensor_of<int8_t>({}, {50})}).at(0)),
            (std::vector<int8_t>{-10, -5, 50, 50}));
  EXPECT_EQ(values_of<int8_t>(run_op(clip_node(13, false, false), {x}).at(0)), (std::vector<int8_t>{-128, -5, 100, 127}));
  EXPECT_EQ(values_of<int8_t>(run_op(clip_node(13, false, true), {x, Tensor(), tensor_of<int8_t>({}, {0})}).at(0)),
            (std::vector<int8_t>{-128, -5, 0, 0}));
  const Tensor big = tensor_of<int64_t>({2}, {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()});
  EXPECT_EQ(values_of<int64_t>(run_op(clip_node(13, true, false), {big, tensor_of<int64_t>({}, {-1})}).at(0)),
            (std::vector<int64_t>{-1, std::numeric_limits<int64_t>::max()}));
  EXPECT_EQ(values_of<uint32_t>(run_op(clip_node(13, true, true), {tensor_of<uint32_t>({3}, {0, 7, 4000000000u}),
                                                                   tensor_of<uint32_t>({}, {5}), tensor_of<uint32_t>({}, {10})}).at(0)),
            (std::vector<uint32_t>{5, 7, 10}));
}

TEST(ClipOp, BadBoundsAreErrors) {
  const Tensor x = Tensor::from_floats({2}, {1, 2});
  const std::string wrong_type = error_of(clip_node(13, true, false), {x, tensor_of<double>({}, {0})});
  EXPECT_TRUE(contains(wrong_type, "Clip_under_test"));
  EXPECT_TRUE(contains(wrong_type, "float64"));
  const std::string not_scalar = error_of(clip_node(13, true, false), {x, Tensor::from_floats({2}, {0, 1})});
  EXPECT_TRUE(contains(not_scalar, "scalar"));
  // Clip-6 takes float types only.
  EXPECT_TRUE(contains(error_of(make_node("Clip", 1, 1, 6), {tensor_of<int8_t>({1}, {1})}), "int8"));
}

TEST(ClipOp, ConstantNonScalarBoundFailsAtBuild) {
  const graph::Node node = clip_node(13, false, true);
  const Tensor wide_max = Tensor::from_floats({2}, {0, 1});
  const KernelFactory factory = OpRegistry::global().kernel("", "Clip", 13);
  ASSERT_NE(factory, nullptr);
  try {
    factory(KernelInit(node, {nullptr, nullptr, &wide_max}, 1, default_kernels()));
    ADD_FAILURE() << "no error for a constant max of shape 2";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "'max' must be a scalar"));
  }
  const Tensor scalar_max = Tensor::from_floats({}, {1});
  EXPECT_NO_THROW(factory(KernelInit(node, {nullptr, nullptr, &scalar_max}, 1, default_kernels())));
}

TEST(ClipOp, LargeTensorOnTwoThreads) {
  const int64_t n = 100000;
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) x[static_cast<size_t>(i)] = static_cast<float>(i % 13) - 6.0f;
  const Tensor out = run_op(clip_node(13, true, true), {Tensor::from_floats({n}, x), Tensor::from_floats({}, {-2}),
                                                         Tensor::from_floats({}, {3})},
                            false, /*threads=*/2)
                         .at(0);
  const float* y = out.data<float>();
  int64_t mismatches = 0;
  for (int64_t i = 0; i < n; ++i) mismatches += y[i] != std::min(std::max(x[static_cast<size_t>(i)], -2.0f), 3.0f);
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace kiln::testing
