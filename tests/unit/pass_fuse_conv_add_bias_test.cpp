#include "graph/passes/fuse_conv_add_bias.h"

#include <gtest/gtest.h>

#include "graph/validate_graph.h"
#include "graph_builder.h"

namespace kiln {
namespace {

using testing::GraphBuilder;
using testing::initializer_floats;
using testing::op_sequence;

// Conv with 2 output channels (bias {1, 2} unless without_bias) -> `op`(y, c) -> z.
GraphBuilder conv_then(const std::string& op, Tensor c, bool constant_first = false, bool without_bias = false) {
  GraphBuilder b;
  b.input("x", {1, 1, 3, 3}).output("z").floats("w", {2, 1, 1, 1}, {1, 1});
  std::vector<std::string> conv_inputs = {"x", "w"};
  if (!without_bias) {
    b.floats("b", {2}, {1, 2});
    conv_inputs.push_back("b");
  }
  b.node("Conv", conv_inputs, {"y"}, "conv");
  b.initializer("c", std::move(c));
  b.node(op, constant_first ? std::vector<std::string>{"c", "y"} : std::vector<std::string>{"y", "c"}, {"z"});
  return b;
}

std::vector<float> fused_bias(const GraphBuilder& b) {
  return initializer_floats(b.g, b.g.nodes[0].inputs.at(2));
}

TEST(PassFuseConvAddBias, PerChannelShapesFoldIntoTheBias) {
  for (Shape shape : {Shape{1, 2, 1, 1}, Shape{2, 1, 1}}) {
    GraphBuilder b = conv_then("Add", Tensor::from_floats(shape, {10, 20}));
    EXPECT_EQ(graph::fuse_conv_add_bias(b.g), 1u) << shape_to_string(shape);
    ASSERT_EQ(op_sequence(b.g), "Conv");
    EXPECT_EQ(b.g.nodes[0].outputs[0], "z");
    EXPECT_EQ(fused_bias(b), (std::vector<float>{11, 22}));
    EXPECT_EQ(initializer_floats(b.g, "b"), (std::vector<float>{1, 2}));  // original untouched
    EXPECT_NO_THROW(graph::validate_graph(b.g));
  }
}

TEST(PassFuseConvAddBias, ScalarsConstantFirstSubAndMissingBias) {
  GraphBuilder scalar = conv_then("Add", Tensor::from_floats({}, {5}), /*constant_first=*/true);
  EXPECT_EQ(graph::fuse_conv_add_bias(scalar.g), 1u);
  EXPECT_EQ(fused_bias(scalar), (std::vector<float>{6, 7}));

  GraphBuilder sub = conv_then("Sub", Tensor::from_floats({2, 1, 1}, {10, 20}));
  EXPECT_EQ(graph::fuse_conv_add_bias(sub.g), 1u);
  EXPECT_EQ(fused_bias(sub), (std::vector<float>{-9, -18}));

  GraphBuilder no_bias = conv_then("Add", Tensor::from_floats({1, 2, 1, 1}, {3, 4}), false, /*without_bias=*/true);
  EXPECT_EQ(graph::fuse_conv_add_bias(no_bias.g), 1u);
  EXPECT_EQ(fused_bias(no_bias), (std::vector<float>{3, 4}));
}

TEST(PassFuseConvAddBias, Conv1dUsesItsOwnRank) {
  GraphBuilder b;
  b.input("x", {1, 1, 5}).output("z").floats("w", {2, 1, 3}, {1, 1, 1, 1, 1, 1}).floats("c", {2, 1}, {7, 8});
  b.node("Conv", {"x", "w"}, {"y"});
  b.node("Add", {"y", "c"}, {"z"});
  EXPECT_EQ(graph::fuse_conv_add_bias(b.g), 1u);
  EXPECT_EQ(fused_bias(b), (std::vector<float>{7, 8}));
}

TEST(PassFuseConvAddBias, DoesNotFireWhenTheConstantIsNotPerChannel) {
  // [2] aligns with the width axis; [1,2,3,3] varies spatially; rank 5 would broadcast y up.
  for (Tensor c : {Tensor::from_floats({2}, {1, 2}), Tensor::from_floats({1, 2, 3, 3}, std::vector<float>(18, 1)),
                   Tensor::from_floats({1, 1, 1, 1, 1}, {1}), Tensor::from_floats({1, 1, 2, 1}, {1, 2})}) {
    GraphBuilder b = conv_then("Add", c);
    EXPECT_EQ(graph::fuse_conv_add_bias(b.g), 0u) << shape_to_string(c.shape());
  }
  GraphBuilder ints = conv_then("Add", Tensor::from_int64s({1, 2, 1, 1}, {1, 2}));
  EXPECT_EQ(graph::fuse_conv_add_bias(ints.g), 0u);
}

TEST(PassFuseConvAddBias, DoesNotFireOnOtherNearMisses) {
  GraphBuilder reversed_sub = conv_then("Sub", Tensor::from_floats({}, {1}), /*constant_first=*/true);
  EXPECT_EQ(graph::fuse_conv_add_bias(reversed_sub.g), 0u);

  GraphBuilder second_reader = conv_then("Add", Tensor::from_floats({}, {1}));
  second_reader.node("Relu", {"y"}, {"r"});
  EXPECT_EQ(graph::fuse_conv_add_bias(second_reader.g), 0u);

  GraphBuilder dynamic = conv_then("Add", Tensor::from_floats({}, {1}));
  dynamic.g.initializers.erase("c");
  dynamic.input("c", {});
  EXPECT_EQ(graph::fuse_conv_add_bias(dynamic.g), 0u);

  GraphBuilder output = conv_then("Add", Tensor::from_floats({}, {1}));
  output.output("y");
  EXPECT_EQ(graph::fuse_conv_add_bias(output.g), 0u);
}

}  // namespace
}  // namespace kiln
