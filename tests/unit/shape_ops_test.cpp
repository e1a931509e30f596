// Shape operators: Reshape Flatten Squeeze Unsqueeze Shape Size Expand
// Identity Dropout ConstantOfShape Constant Range.
#include <limits>
#include <optional>

#include "tests/unit/op_test_util.h"
#include "tests/unit/typed_tensor_util.h"

namespace kiln::testing {
namespace {

// ---------------------------------------------------------------- Reshape --

TEST(ShapeOpsReshape, ZeroCopiesDimAndMinusOneIsInferred) {
  graph::Node node = make_node("Reshape", 2);
  Tensor x = iota_typed(DataType::kFloat32, {2, 3, 4});
  Tensor y = run_op(node, {x, int64_list({0, -1, 2})})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 6, 2}));
  EXPECT_EQ(y.raw(), x.raw()) << "Reshape should hand out a view of the input bytes";
}

TEST(ShapeOpsReshape, WorksForEveryTypeAndInt32Shape) {
  for (DataType type : all_tensor_types()) {
    graph::Node node = make_node("Reshape", 2);
    Tensor x = iota_typed(type, {6});
    Tensor shape = make_typed(DataType::kInt32, {2}, {3, 2});
    Tensor y = run_op(node, {x, shape})[0];
    EXPECT_EQ(y.shape(), (Shape{3, 2})) << dtype_name(type);
    EXPECT_EQ(y.dtype(), type);
    EXPECT_TRUE(same_bytes(y.reshaped({6}), x)) << dtype_name(type);
  }
}

TEST(ShapeOpsReshape, AllowZeroKeepsLiteralZero) {
  graph::Node node = make_node("Reshape", 2, 1, 14);
  node.attrs["allowzero"] = int_attr(1);
  Tensor x = Tensor(DataType::kFloat32, {0, 3});
  EXPECT_EQ(run_op(node, {x, int64_list({3, 0})})[0].shape(), (Shape{3, 0}));
  // Without allowzero the 0 copies dim 1 (3), giving 3x3: 9 != 0 elements.
  graph::Node copying = make_node("Reshape", 2, 1, 14);
  expect_node_error([&] { run_op(copying, {x, int64_list({3, 0})}); }, copying);
}

TEST(ShapeOpsReshape, BadTargetsThrowNamingTheNode) {
  graph::Node node = make_node("Reshape", 2);
  Tensor x = iota_typed(DataType::kFloat32, {2, 3});
  expect_node_error([&] { run_op(node, {x, int64_list({4, 2})}); }, node, "cannot reshape");
  expect_node_error([&] { run_op(node, {x, int64_list({-1, -1})}); }, node, "more than one -1");
  expect_node_error([&] { run_op(node, {x, int64_list({4, -1})}); }, node);
  expect_node_error([&] { run_op(node, {x, int64_list({1, 6, 0})}); }, node);
  expect_node_error([&] { run_op(node, {x, int64_list({-2, -3})}); }, node);
  // A constant shape is checked when the kernel is built.
  expect_node_error([&] { run_op(node, {x, int64_list({-1, 2, -1})}, true); }, node, "more than one -1");
  graph::Node allow_zero = make_node("Reshape", 2, 1, 14);
  allow_zero.attrs["allowzero"] = int_attr(1);
  expect_node_error([&] { run_op(allow_zero, {x, int64_list({0, -1})}, true); }, allow_zero, "allowzero");
}

// ---------------------------------------------------------------- Flatten --

TEST(ShapeOpsFlatten, AxisVariants) {
  Tensor x = iota_typed(DataType::kInt16, {2, 3, 4, 5});
  const std::vector<std::pair<int64_t, Shape>> cases = {
      {0, {1, 120}}, {1, {2, 60}}, {2, {6, 20}}, {4, {120, 1}}, {-1, {24, 5}}, {-4, {1, 120}}};
  for (const auto& [axis, expected] : cases) {
    graph::Node node = make_node("Flatten", 1);
    node.attrs["axis"] = int_attr(axis);
    Tensor y = run_op(node, {x})[0];
    EXPECT_EQ(y.shape(), expected) << "axis " << axis;
    EXPECT_EQ(y.raw(), x.raw());
  }
  graph::Node default_axis = make_node("Flatten", 1);
  EXPECT_EQ(run_op(default_axis, {x})[0].shape(), (Shape{2, 60}));
  graph::Node bad = make_node("Flatten", 1);
  bad.attrs["axis"] = int_attr(5);
  expect_node_error([&] { run_op(bad, {x}); }, bad, "out of range");
}

// -------------------------------------------------------- Squeeze/Unsqueeze --

TEST(ShapeOpsSqueeze, AttributeFormBeforeOpset13) {
  graph::Node node = make_node("Squeeze", 1, 1, 11);
  node.attrs["axes"] = ints_attr({0, -1});
  Tensor x = iota_typed(DataType::kUInt8, {1, 3, 1, 1});
  Tensor y = run_op(node, {x})[0];
  EXPECT_EQ(y.shape(), (Shape{3, 1}));
  EXPECT_EQ(y.raw(), x.raw());
}

TEST(ShapeOpsSqueeze, InputFormFromOpset13) {
  graph::Node node = make_node("Squeeze", 2, 1, 13);
  Tensor x = iota_typed(DataType::kFloat32, {1, 3, 1, 2});
  EXPECT_EQ(run_op(node, {x, int64_list({-2})})[0].shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(run_op(node, {x, int64_list({2, 0})}, true)[0].shape(), (Shape{3, 2}));
}

TEST(ShapeOpsSqueeze, NoAxesRemovesEveryOne) {
  Tensor x = iota_typed(DataType::kFloat32, {1, 3, 1, 2, 1});
  graph::Node v13 = make_node("Squeeze", 1, 1, 13);
  EXPECT_EQ(run_op(v13, {x})[0].shape(), (Shape{3, 2}));
  graph::Node v1 = make_node("Squeeze", 1, 1, 1);
  EXPECT_EQ(run_op(v1, {x})[0].shape(), (Shape{3, 2}));
}

TEST(ShapeOpsSqueeze, Errors) {
  Tensor x = iota_typed(DataType::kFloat32, {1, 3});
  graph::Node not_one = make_node("Squeeze", 2, 1, 13);
  expect_node_error([&] { run_op(not_one, {x, int64_list({1})}); }, not_one, "not 1");
  graph::Node out_of_range = make_node("Squeeze", 2, 1, 13);
  expect_node_error([&] { run_op(out_of_range, {x, int64_list({2})}); }, out_of_range, "out of range");
  graph::Node attribute_at_13 = make_node("Squeeze", 1, 1, 13);
  attribute_at_13.attrs["axes"] = ints_attr({0});
  expect_node_error([&] { run_op(attribute_at_13, {x}); }, attribute_at_13, "input");
}

TEST(ShapeOpsUnsqueeze, AttributeAndInputForms) {
  Tensor x = iota_typed(DataType::kInt64, {3, 4});
  graph::Node v11 = make_node("Unsqueeze", 1, 1, 11);
  v11.attrs["axes"] = ints_attr({2, 0});  // unsorted
  Tensor y = run_op(v11, {x})[0];
  EXPECT_EQ(y.shape(), (Shape{1, 3, 1, 4}));
  EXPECT_EQ(y.raw(), x.raw());
  graph::Node v13 = make_node("Unsqueeze", 2, 1, 13);
  EXPECT_EQ(run_op(v13, {x, int64_list({-1})})[0].shape(), (Shape{3, 4, 1}));
  EXPECT_EQ(run_op(v13, {x, int64_list({1, -1})}, true)[0].shape(), (Shape{3, 1, 4, 1}));
  Tensor scalar = Tensor::from_floats({}, {5});
  EXPECT_EQ(run_op(v13, {scalar, int64_list({0})})[0].shape(), (Shape{1}));
}

TEST(ShapeOpsUnsqueeze, Errors) {
  Tensor x = iota_typed(DataType::kFloat32, {3});
  graph::Node duplicate = make_node("Unsqueeze", 2, 1, 13);
  expect_node_error([&] { run_op(duplicate, {x, int64_list({0, -3})}); }, duplicate, "twice");
  graph::Node missing = make_node("Unsqueeze", 1, 1, 11);
  expect_node_error([&] { run_op(missing, {x}); }, missing, "axes");
  graph::Node out_of_range = make_node("Unsqueeze", 2, 1, 13);
  expect_node_error([&] { run_op(out_of_range, {x, int64_list({2})}); }, out_of_range, "out of range");
}

// ------------------------------------------------------------- Shape, Size --

TEST(ShapeOpsShape, StartAndEnd) {
  Tensor x = iota_typed(DataType::kFloat32, {2, 3, 4, 5});
  graph::Node plain = make_node("Shape", 1, 1, 13);
  EXPECT_EQ(as_int64s(run_op(plain, {x})[0]), (std::vector<int64_t>{2, 3, 4, 5}));
  struct Case { std::optional<int64_t> start, end; std::vector<int64_t> expected; };
  const std::vector<Case> cases = {
      {1, std::nullopt, {3, 4, 5}}, {std::nullopt, -1, {2, 3, 4}}, {-3, 3, {3, 4}},
      {-10, 10, {2, 3, 4, 5}},      {3, 1, {}},                     {4, std::nullopt, {}}};
  for (const Case& c : cases) {
    graph::Node node = make_node("Shape", 1, 1, 15);
    if (c.start) node.attrs["start"] = int_attr(*c.start);
    if (c.end) node.attrs["end"] = int_attr(*c.end);
    Tensor y = run_op(node, {x})[0];
    EXPECT_EQ(y.dtype(), DataType::kInt64);
    EXPECT_EQ(as_int64s(y), c.expected) << "start " << c.start.value_or(0) << " end " << c.end.value_or(99);
  }
}

TEST(ShapeOpsSize, CountsElements) {
  graph::Node node = make_node("Size", 1);
  Tensor y = run_op(node, {iota_typed(DataType::kUInt8, {3, 5})})[0];
  EXPECT_EQ(y.rank(), 0u);
  EXPECT_EQ(y.value_as_int64(0), 15);
  EXPECT_EQ(run_op(node, {Tensor(DataType::kFloat32, {0, 4})})[0].value_as_int64(0), 0);
}

// ----------------------------------------------------------------- Expand --

TEST(ShapeOpsExpand, BidirectionalBroadcast) {
  graph::Node node = make_node("Expand", 2);
  Tensor x = floats({3, 1}, {1, 2, 3});
  Tensor y = run_op(node, {x, int64_list({2, 1, 4})})[0];
  ASSERT_EQ(y.shape(), (Shape{2, 3, 4}));
  std::vector<double> expected;
  for (int b = 0; b < 2; ++b)
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 4; ++c) expected.push_back(r + 1);
  EXPECT_EQ(as_doubles(y), expected);
}

TEST(ShapeOpsExpand, EveryTypeAndSameShapeIsAView) {
  for (DataType type : all_tensor_types()) {
    graph::Node node = make_node("Expand", 2);
    Tensor x = iota_typed(type, {1, 3});
    Tensor y = run_op(node, {x, int64_list({2, 3})})[0];
    ASSERT_EQ(y.shape(), (Shape{2, 3}));
    std::vector<double> row = as_doubles(x);
    std::vector<double> expected = row;
    expected.insert(expected.end(), row.begin(), row.end());
    EXPECT_EQ(as_doubles(y), expected) << dtype_name(type);
  }
  graph::Node node = make_node("Expand", 2);
  Tensor x = iota_typed(DataType::kFloat32, {2, 3});
  EXPECT_EQ(run_op(node, {x, int64_list({1, 1})})[0].raw(), x.raw());
}

TEST(ShapeOpsExpand, IncompatibleShapeThrows) {
  graph::Node node = make_node("Expand", 2);
  Tensor x = iota_typed(DataType::kFloat32, {2, 3});
  expect_node_error([&] { run_op(node, {x, int64_list({4, 3})}); }, node, "broadcast");
}

// ------------------------------------------------------- Identity, Dropout --

TEST(ShapeOpsIdentity, IsAView) {
  graph::Node node = make_node("Identity", 1);
  Tensor x = iota_typed(DataType::kFloat16, {4});
  EXPECT_EQ(run_op(node, {x})[0].raw(), x.raw());
}

TEST(ShapeOpsDropout, InferencePassesThroughWithTrueMask) {
  graph::Node node = make_node("Dropout", 3, 2, 13);
  Tensor x = iota_typed(DataType::kFloat32, {2, 3});
  Tensor ratio = floats({}, {0.5f});
  Tensor training = make_typed(DataType::kBool, {}, {0});
  auto outputs = run_op(node, {x, ratio, training});
  EXPECT_EQ(outputs[0].raw(), x.raw());
  ASSERT_EQ(outputs[1].dtype(), DataType::kBool);
  EXPECT_EQ(outputs[1].shape(), x.shape());
  EXPECT_EQ(as_doubles(outputs[1]), std::vector<double>(6, 1.0));
}

TEST(ShapeOpsDropout, Opset7MaskHasInputType) {
  graph::Node node = make_node("Dropout", 1, 2, 7);
  node.attrs["ratio"] = float_attr(0.3f);
  Tensor x = iota_typed(DataType::kFloat32, {3});
  auto outputs = run_op(node, {x});
  EXPECT_EQ(outputs[0].raw(), x.raw());
  EXPECT_EQ(outputs[1].dtype(), DataType::kFloat32);
  EXPECT_EQ(as_doubles(outputs[1]), std::vector<double>(3, 1.0));
}

TEST(ShapeOpsDropout, TrainingModeOnlyWithRatioZero) {
  graph::Node node = make_node("Dropout", 3, 2, 13);
  Tensor x = iota_typed(DataType::kFloat32, {3});
  Tensor training = make_typed(DataType::kBool, {}, {1});
  // Ratio 0 drops nothing: still the identity, mask all true.
  for (bool constant : {false, true}) {
    auto outputs = run_op(node, {x, floats({}, {0}), training}, constant);
    EXPECT_EQ(outputs[0].raw(), x.raw());
    EXPECT_EQ(as_doubles(outputs[1]), std::vector<double>(3, 1.0));
  }
  // Random dropout (the default ratio 0.5, or an explicit one) is unsupported.
  EXPECT_THROW(run_op(node, {x, Tensor(), training}), UnsupportedError);
  expect_node_error([&] { run_op(node, {x, Tensor(), training}, true); }, node, "training");
  expect_node_error([&] { run_op(node, {x, floats({}, {0.25f}), training}); }, node, "0.25");
}

// --------------------------------------------------------- ConstantOfShape --

TEST(ShapeOpsConstantOfShape, DefaultIsFloatZero) {
  graph::Node node = make_node("ConstantOfShape", 1, 1, 9);
  Tensor y = run_op(node, {int64_list({2, 3})})[0];
  EXPECT_EQ(y.dtype(), DataType::kFloat32);
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(as_doubles(y), std::vector<double>(6, 0.0));
}

TEST(ShapeOpsConstantOfShape, ValueAttributeSetsTypeAndValue) {
  for (DataType type : {DataType::kInt64, DataType::kInt32, DataType::kFloat16, DataType::kBool, DataType::kInt8}) {
    graph::Node node = make_node("ConstantOfShape", 1, 1, 9);
    graph::Attribute value;
    value.kind = graph::Attribute::Kind::kTensor;
    value.t = make_typed(type, {1}, {1});
    node.attrs["value"] = value;
    Tensor y = run_op(node, {int64_list({3})})[0];
    EXPECT_EQ(y.dtype(), type);
    EXPECT_EQ(as_doubles(y), std::vector<double>(3, 1.0)) << dtype_name(type);
  }
  graph::Node node = make_node("ConstantOfShape", 1, 1, 9);
  Tensor empty = run_op(node, {int64_list({0})})[0];
  EXPECT_EQ(empty.shape(), (Shape{0}));
  Tensor scalar = run_op(node, {Tensor(DataType::kInt64, {0})})[0];
  EXPECT_EQ(scalar.shape(), Shape{});
  EXPECT_EQ(scalar.size(), 1);
}

// --------------------------------------------------------------- Constant --

TEST(ShapeOpsConstant, EveryValueAttribute) {
  auto constant_with = [](const std::string& key, graph::Attribute attr) {
    graph::Node node = make_node("Constant", 0, 1, 13);
    node.attrs[key] = std::move(attr);
    return run_op(node, {})[0];
  };
  graph::Attribute tensor;
  tensor.kind = graph::Attribute::Kind::kTensor;
  tensor.t = make_typed(DataType::kInt32, {2, 2}, {1, 2, 3, 4});
  Tensor t = constant_with("value", tensor);
  EXPECT_EQ(t.dtype(), DataType::kInt32);
  EXPECT_EQ(t.shape(), (Shape{2, 2}));
  EXPECT_EQ(as_doubles(t), (std::vector<double>{1, 2, 3, 4}));

  Tensor f = constant_with("value_float", float_attr(2.5f));
  EXPECT_EQ(f.shape(), Shape{});
  EXPECT_EQ(f.value_as_double(0), 2.5);
  Tensor fs = constant_with("value_floats", floats_attr({1.5f, -2}));
  EXPECT_EQ(fs.shape(), Shape{2});
  EXPECT_EQ(as_doubles(fs), (std::vector<double>{1.5, -2}));
  Tensor i = constant_with("value_int", int_attr(-7));
  EXPECT_EQ(i.dtype(), DataType::kInt64);
  EXPECT_EQ(i.value_as_int64(0), -7);
  Tensor is = constant_with("value_ints", ints_attr({4, 5, 6}));
  EXPECT_EQ(as_int64s(is), (std::vector<int64_t>{4, 5, 6}));
}

TEST(ShapeOpsConstant, UnsupportedOrMissingValueThrows) {
  graph::Node strings = make_node("Constant", 0, 1, 13);
  strings.attrs["value_string"] = string_attr("hello");
  expect_node_error([&] { run_op(strings, {}); }, strings, "string");
  EXPECT_THROW(run_op(strings, {}), UnsupportedError);
  graph::Node none = make_node("Constant", 0, 1, 13);
  expect_node_error([&] { run_op(none, {}); }, none, "exactly one");
  graph::Node two = make_node("Constant", 0, 1, 13);
  two.attrs["value_int"] = int_attr(1);
  two.attrs["value_float"] = float_attr(1);
  expect_node_error([&] { run_op(two, {}); }, two, "exactly one");
}

// ------------------------------------------------------------------ Range --

TEST(ShapeOpsRange, FloatAndIntegerRanges) {
  graph::Node node = make_node("Range", 3, 1, 11);
  Tensor f = run_op(node, {floats({}, {1}), floats({}, {2.2f}), floats({}, {0.5f})})[0];
  EXPECT_EQ(f.dtype(), DataType::kFloat32);
  EXPECT_EQ(as_doubles(f), (std::vector<double>{1, 1.5, 2}));
  auto i32 = [](double v) { return make_typed(DataType::kInt32, {}, {v}); };
  Tensor down = run_op(node, {i32(10), i32(4), i32(-3)})[0];
  EXPECT_EQ(down.dtype(), DataType::kInt32);
  EXPECT_EQ(as_doubles(down), (std::vector<double>{10, 7}));
  Tensor empty = run_op(node, {i32(1), i32(5), i32(-1)})[0];
  EXPECT_EQ(empty.shape(), Shape{0});
  auto i64 = [](int64_t v) { return Tensor::from_int64s({}, {v}); };
  EXPECT_EQ(as_int64s(run_op(node, {i64(-2), i64(3), i64(2)})[0]), (std::vector<int64_t>{-2, 0, 2}));
  expect_node_error([&] { run_op(node, {i64(0), i64(3), i64(0)}); }, node, "delta");
}

}  // namespace
}  // namespace kiln::testing
