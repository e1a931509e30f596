// The oldest versions of ops kiln runs (ONNX opsets 1-6), each checked
// against the newer version it equals, or against its own spec where it
// differs (attribute names, defaults, training flags). OpRegistry's
// EveryOpsetOfEveryRegisteredOpHasARecord keeps the ranges without holes;
// this file keeps what those records run right.
#include <gtest/gtest.h>

#include "graph/shape_inference.h"
#include "runtime/op_registry.h"
#include "tests/unit/error_test_util.h"
#include "tests/unit/op_test_util.h"

namespace kiln {
namespace {

using testing::contains;
using testing::error_of;
using testing::float_attr;
using testing::int_attr;
using testing::ints_attr;
using testing::make_node;
using testing::run_op;
using testing::string_attr;
using testing::to_floats;

// The output dims shape inference gives `node` for float inputs of `shapes`.
std::vector<int64_t> inferred_dims(const graph::Node& node, const std::vector<Shape>& shapes) {
  std::vector<graph::ValueInfo> infos(shapes.size());
  std::vector<const graph::ValueInfo*> in;
  for (size_t i = 0; i < shapes.size(); ++i) {
    infos[i].dtype = DataType::kFloat32;
    infos[i].has_shape = true;
    for (int64_t d : shapes[i]) infos[i].dims.push_back(graph::Dim{d, ""});
    in.push_back(&infos[i]);
  }
  const std::vector<const Tensor*> constants(in.size(), nullptr);
  const std::vector<graph::ValueInfo> out = graph::infer_node(node, in, constants, OpRegistry::global());
  std::vector<int64_t> dims;
  if (out.empty() || !out[0].has_shape) return {-1};
  for (const graph::Dim& d : out[0].dims) dims.push_back(d.is_fixed() ? d.value : -1);
  return dims;
}

TEST(LegacyOpsets, CastOneNamesTheTypeAsAString) {
  graph::Node cast = make_node("Cast", 1, 1, 1);
  cast.attrs["to"] = string_attr("INT32");
  const std::vector<Tensor> out = run_op(cast, {Tensor::from_floats({3}, {1.5f, -2.5f, 7.0f})});
  ASSERT_EQ(out[0].dtype(), DataType::kInt32);
  EXPECT_EQ(out[0].to_int64_vector(), (std::vector<int64_t>{1, -2, 7}));
  EXPECT_EQ(graph::shape_rules::cast_target(cast), DataType::kInt32);
  cast.attrs["to"] = string_attr("FLOAT42");
  EXPECT_TRUE(contains(error_of(cast, {Tensor::from_floats({1}, {1})}), "'to' = 'FLOAT42' is no ONNX data type name"));
}

TEST(LegacyOpsets, ConcatBeforeFourDefaultsToAxisOne) {
  const Tensor a = Tensor::from_floats({2, 1}, {1, 2}), b = Tensor::from_floats({2, 2}, {3, 4, 5, 6});
  graph::Node concat = make_node("Concat", 2, 1, 3);  // no axis: 1
  const std::vector<Tensor> out = run_op(concat, {a, b});
  EXPECT_EQ(out[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(to_floats(out[0]), (std::vector<float>{1, 3, 4, 2, 5, 6}));
  EXPECT_EQ(inferred_dims(concat, {{2, 1}, {2, 2}}), (std::vector<int64_t>{2, 3}));
  EXPECT_TRUE(contains(error_of(make_node("Concat", 2, 1, 4), {a, b}), "axis"));  // required from 4
}

TEST(LegacyOpsets, GemmSixBroadcastsCOnlyWhenAsked) {
  const Tensor a = Tensor::from_floats({2, 2}, {1, 2, 3, 4}), b = Tensor::from_floats({2, 2}, {1, 0, 0, 1});
  const Tensor row = Tensor::from_floats({2}, {10, 20});
  graph::Node gemm = make_node("Gemm", 3, 1, 6);
  gemm.attrs["broadcast"] = int_attr(1);
  EXPECT_EQ(to_floats(run_op(gemm, {a, b, row})[0]), (std::vector<float>{11, 22, 13, 24}));
  gemm.attrs["broadcast"] = int_attr(0);  // the default: C must be M x N
  EXPECT_TRUE(contains(error_of(gemm, {a, b, row}), "must be 2x2 (broadcast = 0, Gemm before opset 7)"));
  EXPECT_EQ(to_floats(run_op(gemm, {a, b, Tensor::from_floats({2, 2}, {1, 1, 1, 1})})[0]),
            (std::vector<float>{2, 3, 4, 5}));
  graph::Node seven = make_node("Gemm", 3, 1, 7);
  seven.attrs["broadcast"] = int_attr(1);
  EXPECT_TRUE(contains(error_of(seven, {a, b, row}), "belongs to Gemm before opset 7"));
}

TEST(LegacyOpsets, DropoutAndBatchNormBeforeSevenRunOnlyInTestMode) {
  const Tensor x = Tensor::from_floats({1, 2, 1, 1}, {1, 2});
  graph::Node dropout = make_node("Dropout", 1, 1, 6);
  EXPECT_TRUE(contains(error_of(dropout, {x}), "is_test = 0 (training"));
  dropout.attrs["is_test"] = int_attr(1);
  EXPECT_EQ(to_floats(run_op(dropout, {x})[0]), (std::vector<float>{1, 2}));

  const Tensor scale = Tensor::from_floats({2}, {2, 3}), bias = Tensor::from_floats({2}, {1, 1});
  const Tensor mean = Tensor::from_floats({2}, {0, 1}), var = Tensor::from_floats({2}, {1, 4});
  graph::Node bn6 = make_node("BatchNormalization", 5, 1, 6);
  bn6.attrs["epsilon"] = float_attr(0.0f);
  EXPECT_TRUE(contains(error_of(bn6, {x, scale, bias, mean, var}), "is_test = 0 (training"));
  bn6.attrs["is_test"] = int_attr(1);
  graph::Node bn9 = make_node("BatchNormalization", 5, 1, 9);
  bn9.attrs["epsilon"] = float_attr(0.0f);
  const std::vector<float> expected = {3, 2.5f};  // (1-0)/1*2+1, (2-1)/2*3+1
  EXPECT_EQ(to_floats(run_op(bn6, {x, scale, bias, mean, var})[0]), expected);
  EXPECT_EQ(to_floats(run_op(bn9, {x, scale, bias, mean, var})[0]), expected);
}

TEST(LegacyOpsets, PadOneCallsThePadsPaddings) {
  const Tensor x = Tensor::from_floats({1, 2}, {1, 2});
  graph::Node pad = make_node("Pad", 1, 1, 1);
  pad.attrs["paddings"] = ints_attr({0, 1, 0, 0});
  pad.attrs["value"] = float_attr(9);
  const std::vector<Tensor> out = run_op(pad, {x});
  EXPECT_EQ(out[0].shape(), (Shape{1, 3}));
  EXPECT_EQ(to_floats(out[0]), (std::vector<float>{9, 1, 2}));
  EXPECT_EQ(inferred_dims(pad, {{1, 2}}), (std::vector<int64_t>{1, 3}));
  EXPECT_TRUE(contains(error_of(make_node("Pad", 1, 1, 1), {x}), "paddings"));
}

TEST(LegacyOpsets, ReshapeBeforeFiveTakesTheShapeAttribute) {
  graph::Node reshape = make_node("Reshape", 1, 1, 4);
  reshape.attrs["shape"] = ints_attr({3, -1});
  const std::vector<Tensor> out = run_op(reshape, {Tensor::from_floats({6}, {1, 2, 3, 4, 5, 6})});
  EXPECT_EQ(out[0].shape(), (Shape{3, 2}));
  EXPECT_EQ(inferred_dims(reshape, {{6}}), (std::vector<int64_t>{3, 2}));
  EXPECT_TRUE(contains(error_of(make_node("Reshape", 1, 1, 4), {Tensor::from_floats({1}, {1})}), "shape"));
}

TEST(LegacyOpsets, SplitOneTakesSizesAsAnInput) {
  const Tensor x = Tensor::from_floats({5}, {1, 2, 3, 4, 5});
  graph::Node split = make_node("Split", 2, 2, 1);
  const std::vector<Tensor> out = run_op(split, {x, Tensor::from_int64s({2}, {2, 3})});
  EXPECT_EQ(to_floats(out[0]), (std::vector<float>{1, 2}));
  EXPECT_EQ(to_floats(out[1]), (std::vector<float>{3, 4, 5}));
  split.attrs["split"] = ints_attr({2, 3});  // both forms at once
  EXPECT_TRUE(contains(error_of(split, {x, Tensor::from_int64s({2}, {2, 3})}), "not both"));
}

TEST(LegacyOpsets, UpsampleTenMeansUpsampleNine) {
  const Tensor x = Tensor::from_floats({1, 1, 1, 2}, {1, 2});
  const Tensor scales = Tensor::from_floats({4}, {1, 1, 2, 2});
  const std::vector<Tensor> nine = run_op(make_node("Upsample", 2, 1, 9), {x, scales});
  const std::vector<Tensor> ten = run_op(make_node("Upsample", 2, 1, 10), {x, scales});
  EXPECT_EQ(ten[0].shape(), (Shape{1, 1, 2, 4}));
  EXPECT_EQ(to_floats(ten[0]), to_floats(nine[0]));
  EXPECT_EQ(to_floats(ten[0]), (std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2}));
}

}  // namespace
}  // namespace kiln
