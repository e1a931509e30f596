#include "graph/passes/fuse_conv_output_affine.h"

#include <gtest/gtest.h>

#include <random>

#include "graph/pass.h"
#include "graph/passes/fuse_conv_activation.h"
#include "graph/validate_graph.h"
#include "graph_builder.h"
#include "op_test_util.h"

namespace kiln {
namespace {

using testing::attr_floats;
using testing::attr_string;
using testing::GraphBuilder;
using testing::op_sequence;

// Conv (2 output channels) -> Relu -> y, fused into FusedConv+Relu producing y.
GraphBuilder fused_relu_conv() {
  GraphBuilder b;
  b.input("x", {1, 1, 3, 3}).output("z").floats("w", {2, 1, 1, 1}, {1, -2}).floats("b", {2}, {0.5f, 1});
  b.node("Conv", {"x", "w", "b"}, {"t"}, "conv");
  b.node("Relu", {"t"}, {"y"});
  EXPECT_EQ(graph::fuse_conv_activation(b.g), 1u);
  return b;
}

std::vector<float> attr_values(const graph::Node& node, const char* key) { return node.attr_floats(key); }

TEST(PassFuseConvOutputAffine, MulThenAddBecomeScaleAndShift) {
  GraphBuilder b = fused_relu_conv();
  b.floats("s", {1, 2, 1, 1}, {2, -3}).floats("c", {}, {0.25f});
  b.node("Mul", {"s", "y"}, {"m"});
  b.node("Add", {"m", "c"}, {"z"});
  EXPECT_EQ(graph::fuse_conv_output_affine(b.g), 2u);
  ASSERT_EQ(op_sequence(b.g), "FusedConv");
  const graph::Node& conv = b.g.nodes[0];
  EXPECT_EQ(conv.outputs[0], "z");
  EXPECT_EQ(attr_values(conv, "output_scale"), (std::vector<float>{2, -3}));
  EXPECT_EQ(attr_values(conv, "output_shift"), (std::vector<float>{0.25f, 0.25f}));
  EXPECT_NO_THROW(graph::validate_graph(b.g));
}

TEST(PassFuseConvOutputAffine, SubAndDivComposeWithAnExistingMap) {
  GraphBuilder b = fused_relu_conv();
  b.g.nodes[0].attrs["output_scale"] = attr_floats({3});
  b.g.nodes[0].attrs["output_shift"] = attr_floats({1});
  b.floats("d", {}, {2}).floats("c", {}, {0.5f});
  b.node("Div", {"y", "d"}, {"m"});
  b.node("Sub", {"m", "c"}, {"z"});
  EXPECT_EQ(graph::fuse_conv_output_affine(b.g), 2u);
  ASSERT_EQ(op_sequence(b.g), "FusedConv");
  // ((relu * 3 + 1) / 2) - 0.5 = relu * 1.5 + 0
  EXPECT_EQ(attr_values(b.g.nodes[0], "output_scale"), (std::vector<float>{1.5f, 1.5f}));
  EXPECT_EQ(attr_values(b.g.nodes[0], "output_shift"), (std::vector<float>{0, 0}));
}

TEST(PassFuseConvOutputAffine, LeavesWhatItMustNotFold) {
  struct Case {
    const char* why;
    std::function<void(GraphBuilder&)> build;
  };
  const Case cases[] = {
      {"constant minus y", [](GraphBuilder& b) { b.floats("c", {}, {1}); b.node("Sub", {"c", "y"}, {"z"}); }},
      {"constant over y", [](GraphBuilder& b) { b.floats("c", {}, {1}); b.node("Div", {"c", "y"}, {"z"}); }},
      {"divide by zero", [](GraphBuilder& b) { b.floats("c", {1, 2, 1, 1}, {1, 0}); b.node("Div", {"y", "c"}, {"z"}); }},
      {"not per channel", [](GraphBuilder& b) { b.floats("c", {1, 1, 3, 1}, {1, 2, 3}); b.node("Mul", {"y", "c"}, {"z"}); }},
      {"y read twice", [](GraphBuilder& b) {
         b.floats("c", {}, {2});
         b.node("Mul", {"y", "c"}, {"m"});
         b.node("Add", {"m", "y"}, {"z"});
       }},
      {"non-constant operand", [](GraphBuilder& b) { b.node("Mul", {"y", "x"}, {"z"}); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.why);
    GraphBuilder b = fused_relu_conv();
    c.build(b);
    const std::string before = op_sequence(b.g);
    EXPECT_EQ(graph::fuse_conv_output_affine(b.g), 0u);
    EXPECT_EQ(op_sequence(b.g), before);
  }
  // No activation: the weights take the constant (fuse_conv_mul), not this pass.
  GraphBuilder plain;
  plain.input("x", {1, 1, 3, 3}).output("z").floats("w", {2, 1, 1, 1}, {1, -2}).floats("c", {}, {2});
  plain.node("Conv", {"x", "w"}, {"y"});
  plain.node("Mul", {"y", "c"}, {"z"});
  EXPECT_EQ(graph::fuse_conv_output_affine(plain.g), 0u);
}

// The kernel side: FusedConv with an output map equals the FusedConv without
// it followed by the map, for the GEMM path and the depthwise path, with
// scalar and per-channel values.
TEST(FusedConvOutputAffine, KernelAppliesTheMapAfterTheActivation) {
  std::mt19937 rng(11);
  auto real = [&](float limit) { return std::uniform_real_distribution<float>(-limit, limit)(rng); };
  for (bool depthwise : {false, true}) {
    for (bool per_channel : {false, true}) {
      SCOPED_TRACE(std::string(depthwise ? "depthwise" : "gemm") + (per_channel ? " per-channel" : " scalar"));
      const int64_t channels = 4, out_channels = 4, h = 9, w = 13;
      graph::Node node = testing::make_node("FusedConv", 3, 1, 1);
      node.domain = "com.kiln";
      node.attrs["activation"] = attr_string("HardSwish");
      node.attrs["activation_params"] = attr_floats({1.0f / 6.0f, 0.5f});
      node.attrs["pads"] = testing::attr_ints({1, 1, 1, 1});
      if (depthwise) node.attrs["group"] = testing::attr_int(channels);
      Tensor x(DataType::kFloat32, {1, channels, h, w});
      Tensor weights(DataType::kFloat32, {out_channels, depthwise ? 1 : channels, 3, 3});
      Tensor bias(DataType::kFloat32, {out_channels});
      for (Tensor* t : {&x, &weights, &bias})
        for (int64_t i = 0; i < t->size(); ++i) t->data<float>()[i] = real(2.0f);
      const Tensor plain = testing::run_op(node, {x, weights, bias}, true)[0];
      std::vector<float> scale, shift;
      for (int64_t m = 0; m < (per_channel ? out_channels : 1); ++m) scale.push_back(real(2.0f)), shift.push_back(real(1.0f));
      node.attrs["output_scale"] = attr_floats(scale);
      node.attrs["output_shift"] = attr_floats(shift);
      const Tensor mapped = testing::run_op(node, {x, weights, bias}, true)[0];
      ASSERT_EQ(mapped.shape(), plain.shape());
      const int64_t plane = plain.size() / out_channels;
      for (int64_t i = 0; i < plain.size(); ++i) {
        const size_t m = per_channel ? static_cast<size_t>(i / plane) : 0;
        const double want = double{plain.data<float>()[i]} * scale[m] + shift[m];
        ASSERT_NEAR(mapped.data<float>()[i], want, 1e-6 * (1 + std::fabs(want))) << "element " << i;
      }
    }
  }
  graph::Node bad = testing::make_node("FusedConv", 3, 1, 1);
  bad.domain = "com.kiln";
  bad.attrs["activation"] = attr_string("Relu");
  bad.attrs["output_scale"] = attr_floats({1, 2});
  bad.attrs["output_shift"] = attr_floats({0, 0});
  Tensor x(DataType::kFloat32, {1, 1, 3, 3}), weights(DataType::kFloat32, {3, 1, 1, 1});
  EXPECT_THROW(testing::run_op(bad, {x, weights, Tensor()}, true), Error);
}

}  // namespace
}  // namespace kiln
