#include "graph/passes/fuse_conv_mul.h"

#include <gtest/gtest.h>

#include "graph/passes/fuse_conv_add_bias.h"
#include "graph/validate_graph.h"
#include "graph_builder.h"

namespace kiln {
namespace {

using testing::GraphBuilder;
using testing::initializer_floats;
using testing::op_sequence;

// Conv: W = 2 x 1 x 1 x 2 {1,2 | 3,4}, B = {1, 1} -> `op`(y, c) -> z.
GraphBuilder conv_then(const std::string& op, Tensor c, bool constant_first = false, bool with_bias = true) {
  GraphBuilder b;
  b.input("x", {1, 1, 3, 3}).output("z").floats("w", {2, 1, 1, 2}, {1, 2, 3, 4});
  std::vector<std::string> conv_inputs = {"x", "w"};
  if (with_bias) {
    b.floats("b", {2}, {1, 1});
    conv_inputs.push_back("b");
  }
  b.node("Conv", conv_inputs, {"y"}, "conv");
  b.initializer("c", std::move(c));
  b.node(op, constant_first ? std::vector<std::string>{"c", "y"} : std::vector<std::string>{"y", "c"}, {"z"});
  return b;
}

TEST(PassFuseConvMul, MulScalesWeightAndBiasPerChannel) {
  GraphBuilder b = conv_then("Mul", Tensor::from_floats({2, 1, 1}, {2, -1}), /*constant_first=*/true);
  EXPECT_EQ(graph::fuse_conv_mul(b.g), 1u);
  ASSERT_EQ(op_sequence(b.g), "Conv");
  const graph::Node& conv = b.g.nodes[0];
  EXPECT_EQ(conv.outputs[0], "z");
  EXPECT_EQ(initializer_floats(b.g, conv.inputs[1]), (std::vector<float>{2, 4, -3, -4}));
  EXPECT_EQ(initializer_floats(b.g, conv.inputs[2]), (std::vector<float>{2, -1}));
  EXPECT_EQ(initializer_floats(b.g, "w"), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_NO_THROW(graph::validate_graph(b.g));
}

TEST(PassFuseConvMul, DivAndScalarAndNoBias) {
  GraphBuilder div = conv_then("Div", Tensor::from_floats({1, 2, 1, 1}, {2, 4}));
  EXPECT_EQ(graph::fuse_conv_mul(div.g), 1u);
  EXPECT_EQ(initializer_floats(div.g, div.g.nodes[0].inputs[1]), (std::vector<float>{0.5f, 1, 0.75f, 1}));
  EXPECT_EQ(initializer_floats(div.g, div.g.nodes[0].inputs[2]), (std::vector<float>{0.5f, 0.25f}));

  GraphBuilder scalar = conv_then("Mul", Tensor::from_floats({1}, {3}), false, /*with_bias=*/false);
  EXPECT_EQ(graph::fuse_conv_mul(scalar.g), 1u);
  ASSERT_EQ(scalar.g.nodes[0].inputs.size(), 2u);  // still no bias
  EXPECT_EQ(initializer_floats(scalar.g, scalar.g.nodes[0].inputs[1]), (std::vector<float>{3, 6, 9, 12}));
}

TEST(PassFuseConvMul, ConvTransposeScalesItsOutputChannels) {
  // W = C_in 2 x C_out 3 x 1 x 1; output channel j is axis 1.
  GraphBuilder b;
  b.input("x", {1, 2, 3, 3}).output("z").floats("w", {2, 3, 1, 1}, {1, 1, 1, 2, 2, 2});
  b.floats("c", {3, 1, 1}, {1, 10, 100});
  b.node("ConvTranspose", {"x", "w"}, {"y"});
  b.node("Mul", {"y", "c"}, {"z"});
  EXPECT_EQ(graph::fuse_conv_mul(b.g), 1u);
  EXPECT_EQ(initializer_floats(b.g, b.g.nodes[0].inputs[1]), (std::vector<float>{1, 10, 100, 2, 20, 200}));
}

TEST(PassFuseConvMul, MulThenAddBecomesOneConv) {
  GraphBuilder b = conv_then("Mul", Tensor::from_floats({2, 1, 1}, {2, 3}));
  b.g.outputs[0].name = "out";
  b.floats("shift", {1, 2, 1, 1}, {10, 20});
  b.node("Add", {"z", "shift"}, {"out"});
  EXPECT_EQ(graph::fuse_conv_mul(b.g), 1u);
  EXPECT_EQ(graph::fuse_conv_add_bias(b.g), 1u);
  ASSERT_EQ(op_sequence(b.g), "Conv");
  EXPECT_EQ(b.g.nodes[0].outputs[0], "out");
  EXPECT_EQ(initializer_floats(b.g, b.g.nodes[0].inputs[2]), (std::vector<float>{12, 23}));
}

TEST(PassFuseConvMul, DoesNotFireOnNearMisses) {
  GraphBuilder zero = conv_then("Div", Tensor::from_floats({2, 1, 1}, {2, 0}));
  EXPECT_EQ(graph::fuse_conv_mul(zero.g), 0u);

  GraphBuilder reversed_div = conv_then("Div", Tensor::from_floats({}, {2}), /*constant_first=*/true);
  EXPECT_EQ(graph::fuse_conv_mul(reversed_div.g), 0u);

  GraphBuilder spatial = conv_then("Mul", Tensor::from_floats({1, 1, 1, 2}, {2, 3}));
  EXPECT_EQ(graph::fuse_conv_mul(spatial.g), 0u);

  GraphBuilder two_readers = conv_then("Mul", Tensor::from_floats({}, {2}));
  two_readers.node("Sigmoid", {"y"}, {"s"});
  EXPECT_EQ(graph::fuse_conv_mul(two_readers.g), 0u);

  GraphBuilder square = conv_then("Mul", Tensor::from_floats({}, {2}));
  square.g.nodes[1].inputs = {"y", "y"};
  EXPECT_EQ(graph::fuse_conv_mul(square.g), 0u);
}

}  // namespace
}  // namespace kiln
