#include "graph/passes/fuse_conv_batchnorm.h"

#include <gtest/gtest.h>

#include <cmath>

#include "graph/validate_graph.h"
#include "graph_builder.h"

namespace kiln {
namespace {

using testing::attr_float;
using testing::attr_int;
using testing::GraphBuilder;
using testing::initializer_floats;
using testing::op_sequence;

// BN with scale {1, 2}, bias {0.5, 0}, mean {1, 1}, var {3, 0}, epsilon 1:
// s = scale / sqrt(var + eps) = {1/2, 2}, exact in float.
void add_batchnorm(GraphBuilder& b, const std::string& in, const std::string& out, const std::string& prefix = "bn") {
  b.floats(prefix + "_scale", {2}, {1, 2}).floats(prefix + "_bias", {2}, {0.5f, 0});
  b.floats(prefix + "_mean", {2}, {1, 1}).floats(prefix + "_var", {2}, {3, 0});
  b.node("BatchNormalization", {in, prefix + "_scale", prefix + "_bias", prefix + "_mean", prefix + "_var"}, {out},
         prefix)
      .attrs["epsilon"] = attr_float(1.0f);
}

GraphBuilder conv_bn(bool with_bias) {
  GraphBuilder b;
  b.input("x", {1, 1, 3, 3}).output("z");
  b.floats("w", {2, 1, 1, 2}, {1, 2, 3, 4});
  std::vector<std::string> inputs = {"x", "w"};
  if (with_bias) {
    b.floats("b", {2}, {1, -1});
    inputs.push_back("b");
  }
  b.node("Conv", inputs, {"y"}, "conv");
  add_batchnorm(b, "y", "z");
  return b;
}

TEST(PassFuseConvBatchnorm, FoldsIntoWeightAndBias) {
  GraphBuilder b = conv_bn(true);
  EXPECT_EQ(graph::fuse_conv_batchnorm(b.g), 1u);
  ASSERT_EQ(op_sequence(b.g), "Conv");
  const graph::Node& conv = b.g.nodes[0];
  EXPECT_EQ(conv.outputs[0], "z");
  // W' = W * s per output channel; B' = (B - mean) * s + bias.
  EXPECT_EQ(initializer_floats(b.g, conv.inputs[1]), (std::vector<float>{0.5f, 1, 6, 8}));
  EXPECT_EQ(initializer_floats(b.g, conv.inputs[2]), (std::vector<float>{0.5f, -4}));
  EXPECT_EQ(initializer_floats(b.g, "w"), (std::vector<float>{1, 2, 3, 4}));  // original untouched
  EXPECT_NO_THROW(graph::validate_graph(b.g));
}

TEST(PassFuseConvBatchnorm, ConvWithoutBiasGainsOne) {
  GraphBuilder b = conv_bn(false);
  EXPECT_EQ(graph::fuse_conv_batchnorm(b.g), 1u);
  const graph::Node& conv = b.g.nodes[0];
  ASSERT_EQ(conv.inputs.size(), 3u);
  EXPECT_EQ(initializer_floats(b.g, conv.inputs[2]), (std::vector<float>{0, -2}));
}

TEST(PassFuseConvBatchnorm, InexactScaleRoundsOnceFromDouble) {
  GraphBuilder b = conv_bn(true);
  b.g.initializers["bn_var"] = Tensor::from_floats({2}, {2, 0.5f});  // s = {1/sqrt(3), 2/sqrt(1.5)}
  EXPECT_EQ(graph::fuse_conv_batchnorm(b.g), 1u);
  std::vector<float> w = initializer_floats(b.g, b.g.nodes[0].inputs[1]);
  const double s0 = 1 / std::sqrt(3.0), s1 = 2 / std::sqrt(1.5);
  EXPECT_EQ(w, (std::vector<float>{static_cast<float>(1 * s0), static_cast<float>(2 * s0),
                                   static_cast<float>(3 * s1), static_cast<float>(4 * s1)}));
}

TEST(PassFuseConvBatchnorm, SharedWeightsGetSeparateFusedCopies) {
  GraphBuilder b;
  b.input("x", {1, 1, 3, 3}).output("z1").output("z2").floats("w", {2, 1, 1, 2}, {1, 2, 3, 4});
  b.node("Conv", {"x", "w"}, {"y1"}, "conv1");
  add_batchnorm(b, "y1", "z1", "bn1");
  b.node("Conv", {"x", "w"}, {"y2"}, "conv2");
  add_batchnorm(b, "y2", "z2", "bn2");
  b.g.initializers["bn2_scale"] = Tensor::from_floats({2}, {2, 2});
  EXPECT_EQ(graph::fuse_conv_batchnorm(b.g), 2u);
  ASSERT_EQ(op_sequence(b.g), "Conv,Conv");
  EXPECT_NE(b.g.nodes[0].inputs[1], b.g.nodes[1].inputs[1]);
  EXPECT_EQ(initializer_floats(b.g, b.g.nodes[0].inputs[1]), (std::vector<float>{0.5f, 1, 6, 8}));
  EXPECT_EQ(initializer_floats(b.g, b.g.nodes[1].inputs[1]), (std::vector<float>{1, 2, 6, 8}));
  EXPECT_NO_THROW(graph::validate_graph(b.g));
}

TEST(PassFuseConvBatchnorm, ConvTransposeScalesTheSecondWeightAxis) {
  // W is C_in x C_out/group x kH x kW = 2 x 2 x 1 x 1, group 1: W[c, j] feeds output j.
  GraphBuilder b;
  b.input("x", {1, 2, 3, 3}).output("z").floats("w", {2, 2, 1, 1}, {1, 2, 3, 4});
  b.node("ConvTranspose", {"x", "w"}, {"y"}, "deconv");
  add_batchnorm(b, "y", "z");
  EXPECT_EQ(graph::fuse_conv_batchnorm(b.g), 1u);
  ASSERT_EQ(op_sequence(b.g), "ConvTranspose");
  EXPECT_EQ(initializer_floats(b.g, b.g.nodes[0].inputs[1]), (std::vector<float>{0.5f, 4, 1.5f, 8}));
  EXPECT_EQ(initializer_floats(b.g, b.g.nodes[0].inputs[2]), (std::vector<float>{0, -2}));
}

TEST(PassFuseConvBatchnorm, GroupedConvTransposeMapsInputChannelsToTheirGroup) {
  // C_in = 4, group = 2, W = 4 x 1 x 1 x 1: inputs 0,1 feed output 0; inputs 2,3 feed output 1.
  GraphBuilder b;
  b.input("x", {1, 4, 3, 3}).output("z").floats("w", {4, 1, 1, 1}, {1, 2, 3, 4});
  b.node("ConvTranspose", {"x", "w"}, {"y"}, "deconv").attrs["group"] = attr_int(2);
  add_batchnorm(b, "y", "z");
  EXPECT_EQ(graph::fuse_conv_batchnorm(b.g), 1u);
  EXPECT_EQ(initializer_floats(b.g, b.g.nodes[0].inputs[1]), (std::vector<float>{0.5f, 1, 6, 8}));
}

TEST(PassFuseConvBatchnorm, GemmScalesColumnsAndFoldsC) {
  for (bool trans_b : {false, true}) {
    GraphBuilder b;
    b.input("a", {3, 2}).output("z").floats("B", {2, 2}, {1, 2, 3, 4}).floats("C", {2}, {1, -1});
    auto& gemm = b.node("Gemm", {"a", "B", "C"}, {"y"}, "gemm");
    gemm.attrs["beta"] = attr_float(2);
    gemm.attrs["transB"] = attr_int(trans_b);
    add_batchnorm(b, "y", "z");
    EXPECT_EQ(graph::fuse_conv_batchnorm(b.g), 1u);
    ASSERT_EQ(op_sequence(b.g), "Gemm");
    // op(B)[k][n] scaled by s[n]: stored [K,N] scales columns, stored [N,K] (transB) scales rows.
    std::vector<float> expected_b = trans_b ? std::vector<float>{0.5f, 1, 6, 8} : std::vector<float>{0.5f, 4, 1.5f, 8};
    EXPECT_EQ(initializer_floats(b.g, b.g.nodes[0].inputs[1]), expected_b) << "transB " << trans_b;
    // C' = (beta * C - mean) * s + bias, beta' = 1
    EXPECT_EQ(initializer_floats(b.g, b.g.nodes[0].inputs[2]), (std::vector<float>{1, -6}));
    EXPECT_EQ(b.g.nodes[0].attr_float("beta", 0), 1.0f);
  }
}

// Near misses: each must leave the graph alone.
TEST(PassFuseConvBatchnorm, DoesNotFireWhenConvOutputHasAnotherReader) {
  GraphBuilder b = conv_bn(true);
  b.node("Relu", {"y"}, {"r"});
  EXPECT_EQ(graph::fuse_conv_batchnorm(b.g), 0u);
  EXPECT_EQ(op_sequence(b.g), "Conv,BatchNormalization,Relu");
}

TEST(PassFuseConvBatchnorm, DoesNotFireWhenConvOutputIsAGraphOutput) {
  GraphBuilder b = conv_bn(true);
  b.output("y");
  EXPECT_EQ(graph::fuse_conv_batchnorm(b.g), 0u);
}

TEST(PassFuseConvBatchnorm, DoesNotFireOnNonConstantParametersOrWeights) {
  GraphBuilder b = conv_bn(true);
  b.g.initializers.erase("bn_mean");
  b.input("bn_mean", {2});
  EXPECT_EQ(graph::fuse_conv_batchnorm(b.g), 0u);

  GraphBuilder c = conv_bn(true);
  c.g.initializers.erase("w");
  c.input("w", {2, 1, 1, 2});
  EXPECT_EQ(graph::fuse_conv_batchnorm(c.g), 0u);
}

TEST(PassFuseConvBatchnorm, DoesNotFireOnTrainingModeOrWrongSizes) {
  GraphBuilder b = conv_bn(true);
  b.g.nodes[1].attrs["training_mode"] = attr_int(1);
  EXPECT_EQ(graph::fuse_conv_batchnorm(b.g), 0u);

  GraphBuilder c = conv_bn(true);
  c.g.nodes[1].outputs = {"z", "running_mean", "running_var"};
  EXPECT_EQ(graph::fuse_conv_batchnorm(c.g), 0u);

  GraphBuilder d = conv_bn(true);
  d.g.initializers["bn_var"] = Tensor::from_floats({3}, {1, 1, 1});
  EXPECT_EQ(graph::fuse_conv_batchnorm(d.g), 0u);

  GraphBuilder e = conv_bn(true);
  e.g.initializers["b"] = Tensor::from_floats({1}, {1});  // bias size != out channels
  EXPECT_EQ(graph::fuse_conv_batchnorm(e.g), 0u);
}

}  // namespace
}  // namespace kiln
