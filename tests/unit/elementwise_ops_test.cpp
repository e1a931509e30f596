// Element-wise operators of two or more inputs: hand-checked small cases,
// numpy broadcasting against an independent index walk, type coverage and
// errors. Float results of + - * / on small integers are exact, so those
// compare with ==; transcendental results state their tolerance.
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

Tensor run_single(const graph::Node& node, const std::vector<Tensor>& inputs, int threads = 1) {
  std::vector<Tensor> outputs = run_op(node, inputs, /*inputs_are_constant=*/false, threads);
  return outputs.at(0);
}

Tensor run_binary(const std::string& op, const Tensor& a, const Tensor& b, int64_t opset = 17) {
  return run_single(make_node(op, 2, 1, opset), {a, b});
}

// Deterministic small integer-valued floats, so sums and products are exact.
std::vector<float> pattern(int64_t n, int seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<float>((i * 7 + seed * 13) % 23 - 11);
  return v;
}

// ---- Hand-checked cases ---------------------------------------------------

TEST(ElementwiseOps, AddSubMulDivFloatSameShape) {
  const Tensor a = Tensor::from_floats({2, 2}, {1, -2, 3.5f, 8});
  const Tensor b = Tensor::from_floats({2, 2}, {4, 5, -0.5f, 2});
  EXPECT_EQ(to_floats(run_binary("Add", a, b)), (std::vector<float>{5, 3, 3, 10}));
  EXPECT_EQ(to_floats(run_binary("Sub", a, b)), (std::vector<float>{-3, -7, 4, 6}));
  EXPECT_EQ(to_floats(run_binary("Mul", a, b)), (std::vector<float>{4, -10, -1.75f, 16}));
  EXPECT_EQ(to_floats(run_binary("Div", a, b)), (std::vector<float>{0.25f, -0.4f, -7, 4}));
  EXPECT_EQ(run_binary("Add", a, b).shape(), (Shape{2, 2}));
}

TEST(ElementwiseOps, AddOpset7And13AndFloat64) {
  const Tensor a = tensor_of<double>({3}, {0.5, 1e300, -2});
  const Tensor b = tensor_of<double>({3}, {0.25, 1e300, 2});
  for (int64_t opset : {7, 13, 14}) {
    Tensor out = run_binary("Add", a, b, opset);
    EXPECT_EQ(values_of<double>(out), (std::vector<double>{0.75, 2e300, 0})) << "opset " << opset;
  }
}

// Before opset 7: B broadcasts to A only with broadcast=1, starting at `axis`.
TEST(ElementwiseOps, LegacyBroadcastBeforeOpset7) {
  const Tensor a = Tensor::from_floats({2, 3, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  graph::Node at_axis = make_node("Add", 2, 1, 6);
  at_axis.attrs["broadcast"] = int_attr(1);
  at_axis.attrs["axis"] = int_attr(1);
  EXPECT_EQ(to_floats(run_single(at_axis, {a, Tensor::from_floats({3}, {100, 200, 300})})),
            (std::vector<float>{101, 102, 203, 204, 305, 306, 107, 108, 209, 210, 311, 312}));
  graph::Node suffix = make_node("Mul", 2, 1, 1);
  suffix.attrs["broadcast"] = int_attr(1);
  suffix.attrs["consumed_inputs"] = ints_attr({0, 0});  // legacy hint, ignored
  EXPECT_EQ(to_floats(run_single(suffix, {a, Tensor::from_floats({2}, {1, -1})})),
            (std::vector<float>{1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12}));
  EXPECT_EQ(to_floats(run_single(suffix, {a, Tensor::from_floats({1, 1}, {2})}))[11], 24.0f);  // one element
  graph::Node pow = make_node("Pow", 2, 1, 6);
  pow.attrs["broadcast"] = int_attr(1);
  pow.attrs["axis"] = int_attr(0);
  EXPECT_EQ(to_floats(run_single(pow, {Tensor::from_floats({2, 2}, {2, 3, 2, 3}), Tensor::from_floats({2}, {1, 2})})),
            (std::vector<float>{2, 3, 4, 9}));
  // No broadcast attribute: shapes must match.
  EXPECT_TRUE(contains(error_of(make_node("Add", 2, 1, 6), {a, Tensor::from_floats({2}, {1, 1})}), "broadcast"));
  EXPECT_EQ(to_floats(run_single(make_node("Sub", 2, 1, 6), {a, a})), std::vector<float>(12, 0));
  // B may not grow A, and axis must leave room for B.
  EXPECT_THROW(run_single(suffix, {Tensor::from_floats({2}, {1, 1}), a}), Error);
  graph::Node bad_axis = at_axis;
  bad_axis.attrs["axis"] = int_attr(2);
  EXPECT_THROW(run_single(bad_axis, {a, Tensor::from_floats({3}, {1, 2, 3})}), Error);
}

TEST(ElementwiseOps, IntegerDivTruncatesTowardZero) {
  const Tensor a = tensor_of<int32_t>({5}, {7, -7, 7, -7, std::numeric_limits<int32_t>::min()});
  const Tensor b = tensor_of<int32_t>({5}, {2, 2, -2, -2, -1});
  EXPECT_EQ(values_of<int32_t>(run_binary("Div", a, b)),
            (std::vector<int32_t>{3, -3, -3, 3, std::numeric_limits<int32_t>::min()}));
  const Tensor c = tensor_of<int64_t>({2}, {9, -9});
  const Tensor d = tensor_of<int64_t>({1}, {4});
  EXPECT_EQ(values_of<int64_t>(run_binary("Div", c, d)), (std::vector<int64_t>{2, -2}));
}

TEST(ElementwiseOps, IntegerDivByZeroIsAnError) {
  const Tensor a = tensor_of<int32_t>({2}, {1, 2});
  const Tensor b = tensor_of<int32_t>({2}, {1, 0});
  const std::string message = error_of(make_node("Div", 2), {a, b});
  EXPECT_TRUE(contains(message, "Div_under_test"));
  EXPECT_TRUE(contains(message, "division by zero"));
}

TEST(ElementwiseOps, FloatDivByZeroGivesInfinity) {
  const Tensor out = run_binary("Div", Tensor::from_floats({2}, {1, -1}), Tensor::from_floats({2}, {0, 0}));
  EXPECT_EQ(to_floats(out), (std::vector<float>{INFINITY, -INFINITY}));
}

TEST(ElementwiseOps, Uint8ArithmeticWraps) {
  const Tensor a = tensor_of<uint8_t>({3}, {250, 3, 20});
  const Tensor b = tensor_of<uint8_t>({3}, {10, 5, 7});
  EXPECT_EQ(values_of<uint8_t>(run_binary("Add", a, b)), (std::vector<uint8_t>{4, 8, 27}));
  EXPECT_EQ(values_of<uint8_t>(run_binary("Sub", a, b)), (std::vector<uint8_t>{240, 254, 13}));
  EXPECT_EQ(values_of<uint8_t>(run_binary("Mul", a, b)), (std::vector<uint8_t>{196, 15, 140}));
  EXPECT_EQ(values_of<uint8_t>(run_binary("Div", a, b)), (std::vector<uint8_t>{25, 0, 2}));
}

TEST(ElementwiseOps, SignedIntegerTypes) {
  EXPECT_EQ(values_of<int8_t>(run_binary("Add", tensor_of<int8_t>({2}, {100, -5}), tensor_of<int8_t>({2}, {100, 3}))),
            (std::vector<int8_t>{-56, -2}));
  EXPECT_EQ(values_of<int16_t>(run_binary("Mul", tensor_of<int16_t>({2}, {300, -7}), tensor_of<int16_t>({2}, {100, 3}))),
            (std::vector<int16_t>{30000, -21}));
  const int64_t big = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(values_of<int64_t>(run_binary("Add", tensor_of<int64_t>({1}, {big}), tensor_of<int64_t>({1}, {1}))),
            (std::vector<int64_t>{std::numeric_limits<int64_t>::min()}));
}

TEST(ElementwiseOps, Float16AddComputesInFloat) {
  const Tensor a = float16_tensor_of({3}, {1.5f, -2, 1024});
  const Tensor b = float16_tensor_of({3}, {0.25f, 0.5f, 1});
  const Tensor out = run_binary("Add", a, b);
  EXPECT_EQ(out.dtype(), DataType::kFloat16);
  EXPECT_EQ(float16_values_of(out), (std::vector<float>{1.75f, -1.5f, 1025}));
}

TEST(ElementwiseOps, MismatchedInputTypesAreAnError) {
  const std::string message = error_of(make_node("Add", 2), {Tensor::from_floats({1}, {1}), Tensor::from_int64s({1}, {1})});
  EXPECT_TRUE(contains(message, "Add_under_test"));
  EXPECT_TRUE(contains(message, "float32"));
  EXPECT_TRUE(contains(message, "int64"));
}

TEST(ElementwiseOps, UnsupportedTypeIsAnError) {
  const Tensor a = tensor_of<bool>({1}, {true});
  EXPECT_TRUE(contains(error_of(make_node("Add", 2), {a, a}), "bool is not supported"));
}

TEST(ElementwiseOps, WrongInputCountIsAnErrorAtBuild) {
  EXPECT_THROW(run_op(make_node("Add", 3), {Tensor::from_floats({1}, {1}), Tensor::from_floats({1}, {1}),
                                             Tensor::from_floats({1}, {1})}),
               Error);
}

// ---- Broadcasting ---------------------------------------------------------

// Add and Mul of a and b broadcast, checked element by element against an
// independent index walk.
void expect_broadcast_matches(const Shape& a_shape, const Shape& b_shape, const Shape& expected_shape, int threads = 1) {
  const Tensor a = tensor_of<float>(a_shape, pattern(element_count(a_shape), 1));
  const Tensor b = tensor_of<float>(b_shape, pattern(element_count(b_shape), 2));
  for (const char* op : {"Add", "Mul", "Sub"}) {
    const std::string op_name = op;
    const Tensor out = run_single(make_node(op, 2), {a, b}, threads);
    ASSERT_EQ(out.shape(), expected_shape) << op << " " << shape_to_string(a_shape) << " , " << shape_to_string(b_shape);
    const float* pa = a.data<float>();
    const float* pb = b.data<float>();
    const float* po = out.data<float>();
    int mismatches = 0;
    for_each_position(expected_shape, [&](const Shape& pos, int64_t i) {
      const float x = pa[broadcast_index(a_shape, pos)], y = pb[broadcast_index(b_shape, pos)];
      const float want = op_name == "Add" ? x + y : op_name == "Mul" ? x * y : x - y;
      if (po[i] != want && ++mismatches <= 5)
        ADD_FAILURE() << op << " " << shape_to_string(a_shape) << " , " << shape_to_string(b_shape)
                      << " element " << i << ": got " << po[i] << ", want " << want;
    });
    EXPECT_EQ(mismatches, 0);
  }
}

TEST(ElementwiseBroadcast, HandChecked) {
  // [2,3] + [3] (row) and [2,3] + [2,1] (column) and scalar.
  const Tensor m = Tensor::from_floats({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(to_floats(run_binary("Add", m, Tensor::from_floats({3}, {10, 20, 30}))),
            (std::vector<float>{11, 22, 33, 14, 25, 36}));
  EXPECT_EQ(to_floats(run_binary("Add", m, Tensor::from_floats({2, 1}, {100, 200}))),
            (std::vector<float>{101, 102, 103, 204, 205, 206}));
  EXPECT_EQ(to_floats(run_binary("Sub", Tensor::from_floats({}, {10}), m)), (std::vector<float>{9, 8, 7, 6, 5, 4}));
  // [3,1] * [1,2] -> [3,2] outer product.
  const Tensor outer = run_binary("Mul", Tensor::from_floats({3, 1}, {1, 2, 3}), Tensor::from_floats({1, 2}, {10, 100}));
  EXPECT_EQ(outer.shape(), (Shape{3, 2}));
  EXPECT_EQ(to_floats(outer), (std::vector<float>{10, 100, 20, 200, 30, 300}));
}

TEST(ElementwiseBroadcast, ScalarsAndRanks) {
  expect_broadcast_matches({}, {}, {});
  expect_broadcast_matches({3, 4, 5}, {}, {3, 4, 5});
  expect_broadcast_matches({}, {3, 4, 5}, {3, 4, 5});
  expect_broadcast_matches({1}, {3, 4, 5}, {3, 4, 5});
  expect_broadcast_matches({3, 4, 5}, {5}, {3, 4, 5});
  expect_broadcast_matches({5}, {3, 4, 5}, {3, 4, 5});
  expect_broadcast_matches({3, 4, 5}, {4, 5}, {3, 4, 5});
  expect_broadcast_matches({3, 4, 5}, {4, 1}, {3, 4, 5});
  expect_broadcast_matches({3, 4, 5}, {3, 1, 1}, {3, 4, 5});
  expect_broadcast_matches({3, 4, 5}, {3, 4, 5}, {3, 4, 5});
  expect_broadcast_matches({2, 1, 3}, {1, 1, 1, 1}, {1, 2, 1, 3});
}

TEST(ElementwiseBroadcast, FourDimensionalWithSizeOneDims) {
  expect_broadcast_matches({2, 3, 4, 5}, {1, 3, 1, 1}, {2, 3, 4, 5});  // per-channel bias
  expect_broadcast_matches({1, 3, 1, 5}, {2, 1, 4, 1}, {2, 3, 4, 5});  // both sides repeat
  expect_broadcast_matches({2, 1, 4, 1}, {3, 1, 5}, {2, 3, 4, 5});     // rank mismatch, interleaved
  expect_broadcast_matches({1, 1, 1, 7}, {2, 3, 1, 1}, {2, 3, 1, 7});
  expect_broadcast_matches({2, 3, 4, 1}, {2, 3, 4, 1}, {2, 3, 4, 1});
}

TEST(ElementwiseBroadcast, EmptyTensors) {
  expect_broadcast_matches({0, 3}, {3}, {0, 3});
  expect_broadcast_matches({0, 3}, {1, 1}, {0, 3});
  expect_broadcast_matches({2, 0}, {2, 1}, {2, 0});
}

TEST(ElementwiseBroadcast, LargeTensorsOnTwoThreads) {
  // Above the parallel threshold: one long row (same shape, scalar) and many rows.
  expect_broadcast_matches({300, 512}, {300, 512}, {300, 512}, 2);
  expect_broadcast_matches({300, 512}, {}, {300, 512}, 2);
  expect_broadcast_matches({2, 64, 33, 31}, {1, 64, 1, 1}, {2, 64, 33, 31}, 2);
  expect_broadcast_matches({257, 1}, {1, 509}, {257, 509}, 2);
}

TEST(ElementwiseBroadcast, IncompatibleShapesNameNodeAndShapes) {
  const Tensor a = Tensor::from_floats({2, 3}, pattern(6, 0));
  const Tensor b = Tensor::from_floats({4}, pattern(4, 0));
  for (const char* op : {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Equal"}) {
    const std::string message = error_of(make_node(op, 2), {a, b});
    EXPECT_TRUE(contains(message, std::string(op) + "_under_test"));
    EXPECT_TRUE(contains(message, "2x3, 4"));
    EXPECT_TRUE(contains(message, "broadcast"));
  }
  EXPECT_THROW(run_binary("Add", Tensor::from_floats({2, 3, 4}, pattern(24, 0)), Tensor::from_floats({3, 1, 4}, pattern(12, 0))),
               Error);
  EXPECT_THROW(run_binary("Add", tensor_of<float>({0}, {}), Tensor::from_floats({3}, pattern(3, 0))), Error);
}

// ---- Pow ------------------------------------------------------------------

TEST(ElementwisePow, FloatBaseFloatExponent) {
  const Tensor out = run_binary("Pow", Tensor::from_floats({4}, {2, 9, 4, -2}), Tensor::from_floats({4}, {3, 0.5f, -1, 2}));
  EXPECT_EQ(to_floats(out), (std::vector<float>{8, 3, 0.25f, 4}));
  // Broadcast scalar exponent (test_pow_bcast_scalar shape).
  const Tensor squared = run_binary("Pow", Tensor::from_floats({3}, {1, 2, 3}), Tensor::from_floats({}, {2}));
  EXPECT_EQ(to_floats(squared), (std::vector<float>{1, 4, 9}));
}

// Exponent 2 takes a fast path (x * x): it must agree with std::pow on every
// kind of value, in a tensor large enough to be split between threads.
TEST(ElementwisePow, SquareMatchesPowOnSpecialAndLargeInputs) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> values = {0.0f, -0.0f, 1.5f, -2.25f, inf, -inf, std::nanf(""), 1e30f, -1e-30f, 3e-39f};
  while (values.size() < 200000) values.push_back(static_cast<float>(values.size() % 977) * 0.37f - 150.0f);
  const Tensor x = Tensor::from_floats({static_cast<int64_t>(values.size())}, values);
  const Tensor two = Tensor::from_floats({1, 1}, {2.0f});
  const Tensor y = run_op(make_node("Pow", 2, 1, 15), {x, two}, false, 2)[0];
  ASSERT_EQ(y.shape(), (Shape{1, static_cast<int64_t>(values.size())}));
  for (size_t i = 0; i < values.size(); ++i) {
    const float want = std::pow(values[i], 2.0f);
    if (std::isnan(want))
      ASSERT_TRUE(std::isnan(y.data<float>()[i])) << i;
    else
      ASSERT_EQ(y.data<float>()[i], want) << "x = " << values[i];
  }
}

TEST(ElementwisePow, MixedTypes) {
  // float base, int64 / int32 exponent: output float.
  const Tensor base = Tensor::from_floats({3}, {1, 2, 3});
  Tensor out = run_binary("Pow", base, Tensor::from_int64s({3}, {4, 5, 6}), 15);
  EXPECT_EQ(out.dtype(), DataType::kFloat32);
  EXPECT_EQ(to_floats(out), (std::vector<float>{1, 32, 729}));
  out = run_binary("Pow", base, tensor_of<int32_t>({3}, {-1, 0, 2}), 12);
  EXPECT_EQ(to_floats(out), (std::vector<float>{1, 1, 9}));
  // int32 base, float exponent: output int32, truncated.
  out = run_binary("Pow", tensor_of<int32_t>({3}, {4, 2, 3}), Tensor::from_floats({3}, {0.5f, 0.5f, 2}), 15);
  EXPECT_EQ(out.dtype(), DataType::kInt32);
  EXPECT_EQ(values_of<int32_t>(out), (std::vector<int32_t>{2, 1, 9}));
  // int64 base, uint32 exponent.
  out = run_binary("Pow", tensor_of<int64_t>({2}, {3, -2}), tensor_of<uint32_t>({2}, {3, 5}), 15);
  EXPECT_EQ(values_of<int64_t>(out), (std::vector<int64_t>{27, -32}));
  // float16 base, float32 exponent.
  out = run_binary("Pow", float16_tensor_of({2}, {2, 0.5f}), Tensor::from_floats({2}, {3, 2}), 15);
  EXPECT_EQ(float16_values_of(out), (std::vector<float>{8, 0.25f}));
}

TEST(ElementwisePow, IntegerPowerIsExact) {
  const Tensor out = run_binary("Pow", tensor_of<int64_t>({5}, {3, -3, 7, 1, -1}), tensor_of<int64_t>({5}, {39, 3, 0, -5, -3}));
  EXPECT_EQ(values_of<int64_t>(out), (std::vector<int64_t>{4052555153018976267LL, -27, 1, 1, -1}));
  const Tensor small = run_binary("Pow", tensor_of<int32_t>({2}, {2, 5}), tensor_of<int32_t>({2}, {-1, 2}));
  EXPECT_EQ(values_of<int32_t>(small), (std::vector<int32_t>{0, 25}));
}

TEST(ElementwisePow, BroadcastMixedTypes) {
  // [2,3] float base ^ [3] int64 exponent.
  const Tensor out = run_binary("Pow", Tensor::from_floats({2, 3}, {1, 2, 3, 4, 5, 6}), Tensor::from_int64s({3}, {1, 2, 3}));
  EXPECT_EQ(to_floats(out), (std::vector<float>{1, 4, 27, 4, 25, 216}));
}

// ---- Max / Min / Sum / Mean -----------------------------------------------

TEST(ElementwiseVariadic, MaxMinOneAndThreeInputs) {
  const Tensor a = Tensor::from_floats({3}, {3, 2, 1});
  const Tensor b = Tensor::from_floats({3}, {1, 4, 4});
  const Tensor c = Tensor::from_floats({3}, {2, 5, 0});
  EXPECT_EQ(to_floats(run_single(make_node("Max", 3), {a, b, c})), (std::vector<float>{3, 5, 4}));
  EXPECT_EQ(to_floats(run_single(make_node("Min", 3), {a, b, c})), (std::vector<float>{1, 2, 0}));
  EXPECT_EQ(to_floats(run_single(make_node("Max", 1), {a})), (std::vector<float>{3, 2, 1}));
  EXPECT_EQ(to_floats(run_single(make_node("Min", 1, 1, 6), {a})), (std::vector<float>{3, 2, 1}));
}

TEST(ElementwiseVariadic, MaxMinBroadcastAcrossInputs) {
  // [2,1] , [3] , scalar -> [2,3]
  const Tensor a = Tensor::from_floats({2, 1}, {0, 10});
  const Tensor b = Tensor::from_floats({3}, {-1, 5, 20});
  const Tensor c = Tensor::from_floats({}, {4});
  Tensor out = run_single(make_node("Max", 3), {a, b, c});
  EXPECT_EQ(out.shape(), (Shape{2, 3}));
  EXPECT_EQ(to_floats(out), (std::vector<float>{4, 5, 20, 10, 10, 20}));
  out = run_single(make_node("Min", 3), {c, a, b});
  EXPECT_EQ(to_floats(out), (std::vector<float>{-1, 0, 0, -1, 4, 4}));
  // The first input is broadcast too.
  out = run_single(make_node("Max", 2), {c, b});
  EXPECT_EQ(to_floats(out), (std::vector<float>{4, 5, 20}));
}

TEST(ElementwiseVariadic, MaxMinPropagateNaN) {
  const Tensor a = Tensor::from_floats({2}, {NAN, 1});
  const Tensor b = Tensor::from_floats({2}, {1, NAN});
  for (const char* op : {"Max", "Min"}) {
    const std::vector<float> out = to_floats(run_single(make_node(op, 2), {a, b}));
    EXPECT_TRUE(std::isnan(out[0])) << op;
    EXPECT_TRUE(std::isnan(out[1])) << op;
  }
}

TEST(ElementwiseVariadic, MaxMinIntegerTypes) {
  EXPECT_EQ(values_of<uint64_t>(run_single(make_node("Max", 2), {tensor_of<uint64_t>({2}, {1, ~0ull}), tensor_of<uint64_t>({2}, {2, 3})})),
            (std::vector<uint64_t>{2, ~0ull}));
  EXPECT_EQ(values_of<int8_t>(run_single(make_node("Min", 2), {tensor_of<int8_t>({3}, {-128, 5, 0}), tensor_of<int8_t>({3}, {127, -5, 0})})),
            (std::vector<int8_t>{-128, -5, 0}));
  EXPECT_EQ(float16_values_of(run_single(make_node("Max", 2), {float16_tensor_of({2}, {1, -3}), float16_tensor_of({2}, {0.5f, -2})})),
            (std::vector<float>{1, -2}));
}

TEST(ElementwiseVariadic, MismatchedTypesAreAnError) {
  EXPECT_THROW(run_single(make_node("Max", 2), {Tensor::from_floats({1}, {1}), tensor_of<double>({1}, {1})}), Error);
}

TEST(ElementwiseVariadic, SumAndMean) {
  const Tensor a = Tensor::from_floats({2, 2}, {1, 2, 3, 4});
  const Tensor b = Tensor::from_floats({2}, {10, 20});
  const Tensor c = Tensor::from_floats({2, 1}, {100, 200});
  EXPECT_EQ(to_floats(run_single(make_node("Sum", 3), {a, b, c})), (std::vector<float>{111, 122, 213, 224}));
  EXPECT_EQ(to_floats(run_single(make_node("Mean", 2), {a, b})), (std::vector<float>{5.5f, 11, 6.5f, 12}));
  EXPECT_EQ(values_of<int32_t>(run_single(make_node("Sum", 2), {tensor_of<int32_t>({2}, {1, -4}), tensor_of<int32_t>({1}, {3})})),
            (std::vector<int32_t>{4, -1}));
}

// ---- Comparisons and logic ------------------------------------------------

TEST(ElementwiseCompare, EqualGreaterLessGiveBool) {
  const Tensor a = tensor_of<int32_t>({2, 2}, {1, 2, 3, 4});
  const Tensor b = tensor_of<int32_t>({2}, {3, 2});
  Tensor out = run_binary("Equal", a, b);
  EXPECT_EQ(out.dtype(), DataType::kBool);
  EXPECT_EQ(values_of<bool>(out), (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ(values_of<bool>(run_binary("Greater", a, b)), (std::vector<bool>{false, false, false, true}));
  EXPECT_EQ(values_of<bool>(run_binary("Less", a, b)), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(values_of<bool>(run_binary("GreaterOrEqual", a, b)), (std::vector<bool>{false, true, true, true}));
  EXPECT_EQ(values_of<bool>(run_binary("LessOrEqual", a, b)), (std::vector<bool>{true, true, true, false}));
  const Tensor f = Tensor::from_floats({3}, {NAN, 1, -0.0f});
  const Tensor g = Tensor::from_floats({3}, {NAN, 2, 0});
  EXPECT_EQ(values_of<bool>(run_binary("Equal", f, g)), (std::vector<bool>{false, false, true}));
  EXPECT_EQ(values_of<bool>(run_binary("Less", f, g)), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(values_of<bool>(run_binary("Equal", tensor_of<bool>({2}, {true, false}), tensor_of<bool>({1}, {true}))),
            (std::vector<bool>{true, false}));
}

TEST(ElementwiseLogic, AndOrXorNot) {
  const Tensor a = tensor_of<bool>({2, 2}, {false, false, true, true});
  const Tensor b = tensor_of<bool>({2}, {false, true});
  EXPECT_EQ(values_of<bool>(run_binary("And", a, b)), (std::vector<bool>{false, false, false, true}));
  EXPECT_EQ(values_of<bool>(run_binary("Or", a, b)), (std::vector<bool>{false, true, true, true}));
  EXPECT_EQ(values_of<bool>(run_binary("Xor", a, b)), (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ(values_of<bool>(run_single(make_node("Not", 1), {a})), (std::vector<bool>{true, true, false, false}));
  EXPECT_THROW(run_binary("And", Tensor::from_floats({1}, {1}), Tensor::from_floats({1}, {1})), Error);
}

// ---- Mod and BitShift -----------------------------------------------------

TEST(ElementwiseMod, IntegerSignFollowsDivisorByDefault) {
  const Tensor a = tensor_of<int32_t>({6}, {-4, 7, 5, 4, -7, 8});
  const Tensor b = tensor_of<int32_t>({6}, {2, -3, 8, -2, 3, 5});
  EXPECT_EQ(values_of<int32_t>(run_binary("Mod", a, b)), (std::vector<int32_t>{0, -2, 5, 0, 2, 3}));
  graph::Node fmod = make_node("Mod", 2);
  fmod.attrs["fmod"] = int_attr(1);
  EXPECT_EQ(values_of<int32_t>(run_single(fmod, {a, b})), (std::vector<int32_t>{0, 1, 5, 0, -1, 3}));
}

TEST(ElementwiseMod, FloatNeedsFmod) {
  const Tensor a = Tensor::from_floats({4}, {-4.5f, 7, 5, -7});
  const Tensor b = Tensor::from_floats({4}, {2, -3, 8, 3});
  graph::Node fmod = make_node("Mod", 2);
  fmod.attrs["fmod"] = int_attr(1);
  EXPECT_EQ(to_floats(run_single(fmod, {a, b})), (std::vector<float>{-0.5f, 1, 5, -1}));
  EXPECT_TRUE(contains(error_of(make_node("Mod", 2), {a, b}), "fmod"));
  graph::Node bad = make_node("Mod", 2);
  bad.attrs["fmod"] = int_attr(2);
  EXPECT_THROW(run_single(bad, {a, b}), Error);
}

TEST(ElementwiseMod, UnsignedAndZeroDivisor) {
  EXPECT_EQ(values_of<uint8_t>(run_binary("Mod", tensor_of<uint8_t>({3}, {250, 7, 0}), tensor_of<uint8_t>({3}, {7, 250, 3}))),
            (std::vector<uint8_t>{5, 7, 0}));
  EXPECT_TRUE(contains(error_of(make_node("Mod", 2), {tensor_of<int64_t>({1}, {5}), tensor_of<int64_t>({1}, {0})}),
                       "division by zero"));
}

TEST(ElementwiseBitShift, LeftAndRight) {
  graph::Node left = make_node("BitShift", 2);
  left.attrs["direction"] = string_attr("LEFT");
  graph::Node right = make_node("BitShift", 2);
  right.attrs["direction"] = string_attr("RIGHT");
  const Tensor x = tensor_of<uint8_t>({3}, {16, 4, 1});
  const Tensor s = tensor_of<uint8_t>({3}, {1, 2, 8});
  EXPECT_EQ(values_of<uint8_t>(run_single(left, {x, s})), (std::vector<uint8_t>{32, 16, 0}));
  EXPECT_EQ(values_of<uint8_t>(run_single(right, {x, s})), (std::vector<uint8_t>{8, 1, 0}));
  graph::Node bad = make_node("BitShift", 2);
  EXPECT_THROW(run_single(bad, {x, s}), Error);
}

// ---- Where ----------------------------------------------------------------

TEST(ElementwiseWhere, SameShape) {
  const Tensor c = tensor_of<bool>({2, 2}, {true, false, true, true});
  const Tensor out = run_single(make_node("Where", 3), {c, Tensor::from_floats({2, 2}, {1, 2, 3, 4}),
                                                        Tensor::from_floats({2, 2}, {9, 8, 7, 6})});
  EXPECT_EQ(to_floats(out), (std::vector<float>{1, 8, 3, 4}));
}

TEST(ElementwiseWhere, ThreeWayBroadcastAnyType) {
  // condition [2,1], X [3], Y scalar -> [2,3]
  const Tensor c = tensor_of<bool>({2, 1}, {true, false});
  Tensor out = run_single(make_node("Where", 3), {c, Tensor::from_int64s({3}, {1, 2, 3}), Tensor::from_int64s({}, {-1})});
  EXPECT_EQ(out.shape(), (Shape{2, 3}));
  EXPECT_EQ(values_of<int64_t>(out), (std::vector<int64_t>{1, 2, 3, -1, -1, -1}));
  // condition [3], X [2,1] uint8, Y [1,3]
  const Tensor c2 = tensor_of<bool>({3}, {false, true, false});
  out = run_single(make_node("Where", 3), {c2, tensor_of<uint8_t>({2, 1}, {10, 20}), tensor_of<uint8_t>({1, 3}, {1, 2, 3})});
  EXPECT_EQ(values_of<uint8_t>(out), (std::vector<uint8_t>{1, 10, 3, 1, 20, 3}));
  out = run_single(make_node("Where", 3), {c2, float16_tensor_of({3}, {1, 2, 3}), float16_tensor_of({3}, {-1, -2, -3})});
  EXPECT_EQ(float16_values_of(out), (std::vector<float>{-1, 2, -3}));
  out = run_single(make_node("Where", 3), {c2, tensor_of<bool>({1}, {true}), tensor_of<bool>({1}, {false})});
  EXPECT_EQ(values_of<bool>(out), (std::vector<bool>{false, true, false}));
}

TEST(ElementwiseWhere, Errors) {
  const Tensor x = Tensor::from_floats({2}, {1, 2});
  EXPECT_TRUE(contains(error_of(make_node("Where", 3), {Tensor::from_floats({2}, {1, 0}), x, x}), "bool"));
  EXPECT_THROW(run_single(make_node("Where", 3), {tensor_of<bool>({2}, {true, false}), x, Tensor::from_int64s({2}, {1, 2})}), Error);
  const std::string message = error_of(make_node("Where", 3), {tensor_of<bool>({3}, {true, false, true}), x, x});
  EXPECT_TRUE(contains(message, "Where_under_test"));
  EXPECT_TRUE(contains(message, "broadcast"));
}

}  // namespace
}  // namespace kiln::testing
