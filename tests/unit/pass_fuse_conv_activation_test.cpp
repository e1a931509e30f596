#include "graph/passes/fuse_conv_activation.h"

#include <gtest/gtest.h>

#include <limits>

#include "graph/validate_graph.h"
#include "graph_builder.h"

namespace kiln {
namespace {

using testing::attr_float;
using testing::attr_string;
using testing::GraphBuilder;
using testing::op_sequence;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kSixth = 1.0f / 6.0f;

// x -> Conv "conv" -> y; the test adds the activation, ending in graph output "z".
GraphBuilder conv_graph(int64_t opset = 17) {
  GraphBuilder b(opset);
  b.input("x", {1, 1, 3, 3}).output("z").floats("w", {2, 1, 1, 1}, {1, -1}).floats("b", {2}, {0, 0});
  b.node("Conv", {"x", "w", "b"}, {"y"}, "conv").attrs["group"] = testing::attr_int(1);
  return b;
}

// Asserts the graph is one FusedConv with the given activation, and returns it.
const graph::Node& expect_fused(const GraphBuilder& b, const std::string& activation, std::vector<float> params) {
  EXPECT_EQ(op_sequence(b.g), "FusedConv");
  const graph::Node& n = b.g.nodes.at(0);
  EXPECT_EQ(n.domain, "com.kiln");
  EXPECT_EQ(n.opset, 1);
  EXPECT_EQ(n.name, "conv");
  EXPECT_EQ(n.inputs, (std::vector<std::string>{"x", "w", "b"}));
  EXPECT_EQ(n.outputs, (std::vector<std::string>{"z"}));
  EXPECT_EQ(n.attr_int("group", -1), 1);  // Conv attributes carried over
  EXPECT_EQ(n.attr_string("activation", ""), activation);
  EXPECT_EQ(n.attr_floats("activation_params"), params);
  EXPECT_EQ(n.has_attr("activation_params"), !params.empty());
  EXPECT_EQ(b.g.opsets.at("com.kiln"), 1);
  EXPECT_NO_THROW(graph::validate_graph(b.g));
  return n;
}

TEST(PassFuseConvActivation, SingleOpActivations) {
  struct Case {
    std::string op;
    std::map<std::string, graph::Attribute> attrs;
    std::string activation;
    std::vector<float> params;
  };
  std::vector<Case> cases = {
      {"Relu", {}, "Relu", {}},
      {"Sigmoid", {}, "Sigmoid", {}},
      {"LeakyRelu", {}, "LeakyRelu", {0.01f}},
      {"LeakyRelu", {{"alpha", attr_float(0.1f)}}, "LeakyRelu", {0.1f}},
      {"HardSigmoid", {}, "HardSigmoid", {0.2f, 0.5f}},
      {"HardSigmoid", {{"alpha", attr_float(0.25f)}, {"beta", attr_float(0.4f)}}, "HardSigmoid", {0.25f, 0.4f}},
      {"HardSwish", {}, "HardSwish", {kSixth, 0.5f}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op);
    GraphBuilder b = conv_graph();
    b.node(c.op, {"y"}, {"z"}).attrs = c.attrs;
    EXPECT_EQ(graph::fuse_conv_activation(b.g), 1u);
    expect_fused(b, c.activation, c.params);
  }
}

TEST(PassFuseConvActivation, ClipWithConstantInputs) {
  GraphBuilder b = conv_graph(13);
  b.floats("lo", {}, {0}).floats("hi", {}, {6});
  b.node("Clip", {"y", "lo", "hi"}, {"z"});
  EXPECT_EQ(graph::fuse_conv_activation(b.g), 1u);
  expect_fused(b, "Clip", {0, 6});

  GraphBuilder max_only = conv_graph(13);
  max_only.floats("hi", {1}, {6});
  max_only.node("Clip", {"y", "", "hi"}, {"z"});
  EXPECT_EQ(graph::fuse_conv_activation(max_only.g), 1u);
  expect_fused(max_only, "Clip", {-kInf, 6});

  GraphBuilder unbounded = conv_graph(13);
  unbounded.node("Clip", {"y"}, {"z"});
  EXPECT_EQ(graph::fuse_conv_activation(unbounded.g), 1u);
  expect_fused(unbounded, "Clip", {-kInf, kInf});
}

TEST(PassFuseConvActivation, ClipWithOpset6Attributes) {
  GraphBuilder b = conv_graph(6);
  auto& clip = b.node("Clip", {"y"}, {"z"});
  clip.attrs["min"] = attr_float(-1);
  clip.attrs["max"] = attr_float(1);
  EXPECT_EQ(graph::fuse_conv_activation(b.g), 1u);
  expect_fused(b, "Clip", {-1, 1});

  GraphBuilder defaults = conv_graph(6);
  defaults.node("Clip", {"y"}, {"z"});
  EXPECT_EQ(graph::fuse_conv_activation(defaults.g), 1u);
  expect_fused(defaults, "Clip", {std::numeric_limits<float>::lowest(), std::numeric_limits<float>::max()});
}

TEST(PassFuseConvActivation, SwishInBothOperandOrders) {
  for (bool sigmoid_first : {false, true}) {
    GraphBuilder b = conv_graph();
    b.node("Sigmoid", {"y"}, {"s"});
    b.node("Mul", sigmoid_first ? std::vector<std::string>{"s", "y"} : std::vector<std::string>{"y", "s"}, {"z"});
    EXPECT_EQ(graph::fuse_conv_activation(b.g), 1u);
    expect_fused(b, "Swish", {});
  }
}

TEST(PassFuseConvActivation, PaddleSwishWithBetaOne) {
  GraphBuilder b = conv_graph();
  b.floats("one", {}, {1});
  b.node("Mul", {"y", "one"}, {"scaled"});
  b.node("Sigmoid", {"scaled"}, {"s"});
  b.node("Mul", {"y", "s"}, {"z"});
  EXPECT_EQ(graph::fuse_conv_activation(b.g), 1u);
  expect_fused(b, "Swish", {});
}

TEST(PassFuseConvActivation, TimesHardSigmoidIsHardSwishWithItsParameters) {
  GraphBuilder b = conv_graph();
  auto& hs = b.node("HardSigmoid", {"y"}, {"h"});
  hs.attrs["alpha"] = attr_float(kSixth);
  hs.attrs["beta"] = attr_float(0.5f);
  b.node("Mul", {"h", "y"}, {"z"});
  EXPECT_EQ(graph::fuse_conv_activation(b.g), 1u);
  expect_fused(b, "HardSwish", {kSixth, 0.5f});

  GraphBuilder paddle = conv_graph();  // MobileNetV3-style slope 0.2
  paddle.node("HardSigmoid", {"y"}, {"h"}).attrs["alpha"] = attr_float(0.2f);
  paddle.node("Mul", {"y", "h"}, {"z"});
  EXPECT_EQ(graph::fuse_conv_activation(paddle.g), 1u);
  expect_fused(paddle, "HardSwish", {0.2f, 0.5f});
}

// y * Clip(y + 3, 0, 6) / 6 in the orders exporters write it.
void add_shifted_relu6(GraphBuilder& b, bool three_first = false) {
  b.floats("three", {}, {3}).floats("zero", {}, {0}).floats("six", {}, {6}).floats("sixth", {1}, {0.16666667f});
  b.node("Add", three_first ? std::vector<std::string>{"three", "y"} : std::vector<std::string>{"y", "three"}, {"t"});
  b.node("Clip", {"t", "zero", "six"}, {"h"});
}

TEST(PassFuseConvActivation, SpelledOutHardSwishVariants) {
  {
    SCOPED_TRACE("(y * h) / 6");
    GraphBuilder b = conv_graph();
    add_shifted_relu6(b);
    b.node("Mul", {"y", "h"}, {"p"});
    b.node("Div", {"p", "six"}, {"z"});
    EXPECT_EQ(graph::fuse_conv_activation(b.g), 1u);
    expect_fused(b, "HardSwish", {kSixth, 0.5f});
  }
  {
    SCOPED_TRACE("(h * y) * 1/6, 3 + y");
    GraphBuilder b = conv_graph();
    add_shifted_relu6(b, true);
    b.node("Mul", {"h", "y"}, {"p"});
    b.node("Mul", {"sixth", "p"}, {"z"});
    EXPECT_EQ(graph::fuse_conv_activation(b.g), 1u);
    expect_fused(b, "HardSwish", {kSixth, 0.5f});
  }
  {
    SCOPED_TRACE("y * (h / 6)");
    GraphBuilder b = conv_graph();
    add_shifted_relu6(b);
    b.node("Div", {"h", "six"}, {"q"});
    b.node("Mul", {"y", "q"}, {"z"});
    EXPECT_EQ(graph::fuse_conv_activation(b.g), 1u);
    expect_fused(b, "HardSwish", {kSixth, 0.5f});
  }
  {
    SCOPED_TRACE("(h * 1/6) * y");
    GraphBuilder b = conv_graph();
    add_shifted_relu6(b);
    b.node("Mul", {"h", "sixth"}, {"q"});
    b.node("Mul", {"q", "y"}, {"z"});
    EXPECT_EQ(graph::fuse_conv_activation(b.g), 1u);
    expect_fused(b, "HardSwish", {kSixth, 0.5f});
  }
}

TEST(PassFuseConvActivation, SpelledOutHardSigmoid) {
  GraphBuilder b = conv_graph();
  add_shifted_relu6(b);
  b.node("Div", {"h", "six"}, {"z"});
  EXPECT_EQ(graph::fuse_conv_activation(b.g), 1u);
  expect_fused(b, "HardSigmoid", {kSixth, 0.5f});
}

TEST(PassFuseConvActivation, FusedConvWithoutActivationTakesOne) {
  GraphBuilder b = conv_graph();
  b.g.opsets["com.kiln"] = 1;
  b.g.nodes[0].op_type = "FusedConv";
  b.g.nodes[0].domain = "com.kiln";
  b.node("Relu", {"y"}, {"z"});
  EXPECT_EQ(graph::fuse_conv_activation(b.g), 1u);
  expect_fused(b, "Relu", {});
}

// Near misses: each must leave the graph exactly as it was.
void expect_untouched(GraphBuilder& b) {
  const std::string before = op_sequence(b.g);
  EXPECT_EQ(graph::fuse_conv_activation(b.g), 0u);
  EXPECT_EQ(op_sequence(b.g), before);
  EXPECT_FALSE(b.g.opsets.count("com.kiln") && before.find("FusedConv") == std::string::npos);
}

TEST(PassFuseConvActivation, NearMissesOfSingleOpForms) {
  {
    SCOPED_TRACE("conv output read twice");
    GraphBuilder b = conv_graph();
    b.node("Relu", {"y"}, {"z"});
    b.node("Tanh", {"y"}, {"t"});
    expect_untouched(b);
  }
  {
    SCOPED_TRACE("conv output is a graph output");
    GraphBuilder b = conv_graph();
    b.output("y");
    b.node("Relu", {"y"}, {"z"});
    expect_untouched(b);
  }
  {
    SCOPED_TRACE("Clip with a non-constant min");
    GraphBuilder b = conv_graph(13);
    b.input("lo", {}).floats("hi", {}, {6});
    b.node("Clip", {"y", "lo", "hi"}, {"z"});
    expect_untouched(b);
  }
  {
    SCOPED_TRACE("Clip min with two values");
    GraphBuilder b = conv_graph(13);
    b.floats("lo", {2}, {0, 0});
    b.node("Clip", {"y", "lo"}, {"z"});
    expect_untouched(b);
  }
  {
    SCOPED_TRACE("non-constant weight");
    GraphBuilder b = conv_graph();
    b.g.initializers.erase("w");
    b.input("w", {2, 1, 1, 1});
    b.node("Relu", {"y"}, {"z"});
    expect_untouched(b);
  }
  {
    SCOPED_TRACE("FusedConv that already has an activation");
    GraphBuilder b = conv_graph();
    b.g.opsets["com.kiln"] = 1;
    b.g.nodes[0].op_type = "FusedConv";
    b.g.nodes[0].domain = "com.kiln";
    b.g.nodes[0].attrs["activation"] = attr_string("Relu");
    b.node("Sigmoid", {"y"}, {"z"});
    EXPECT_EQ(graph::fuse_conv_activation(b.g), 0u);
  }
  {
    SCOPED_TRACE("unsupported activation");
    GraphBuilder b = conv_graph();
    b.node("Tanh", {"y"}, {"z"});
    expect_untouched(b);
  }
}

TEST(PassFuseConvActivation, NearMissesOfGatedForms) {
  {
    SCOPED_TRACE("sigmoid output read elsewhere too");
    GraphBuilder b = conv_graph();
    b.output("s");
    b.node("Sigmoid", {"y"}, {"s"});
    b.node("Mul", {"y", "s"}, {"z"});
    expect_untouched(b);
  }
  {
    SCOPED_TRACE("Mul by something else than y");
    GraphBuilder b = conv_graph();
    b.input("other", {1, 2, 3, 3});
    b.node("Sigmoid", {"y"}, {"s"});
    b.node("Mul", {"other", "s"}, {"z"});
    b.node("Relu", {"y"}, {"r"});
    expect_untouched(b);
  }
  {
    SCOPED_TRACE("y read a third time");
    GraphBuilder b = conv_graph();
    b.node("Sigmoid", {"y"}, {"s"});
    b.node("Mul", {"y", "s"}, {"z"});
    b.node("Relu", {"y"}, {"r"});
    expect_untouched(b);
  }
  {
    SCOPED_TRACE("Clip(y + 3, 0, 5)");
    GraphBuilder b = conv_graph();
    add_shifted_relu6(b);
    b.g.initializers["six"] = Tensor::from_floats({}, {5});
    b.floats("real_six", {}, {6});
    b.node("Mul", {"y", "h"}, {"p"});
    b.node("Div", {"p", "real_six"}, {"z"});
    expect_untouched(b);
  }
  {
    SCOPED_TRACE("y + 2");
    GraphBuilder b = conv_graph();
    add_shifted_relu6(b);
    b.g.initializers["three"] = Tensor::from_floats({}, {2});
    b.node("Mul", {"y", "h"}, {"p"});
    b.node("Div", {"p", "six"}, {"z"});
    expect_untouched(b);
  }
  {
    SCOPED_TRACE("divided by 5");
    GraphBuilder b = conv_graph();
    add_shifted_relu6(b);
    b.floats("five", {}, {5});
    b.node("Mul", {"y", "h"}, {"p"});
    b.node("Div", {"p", "five"}, {"z"});
    expect_untouched(b);
  }
  {
    SCOPED_TRACE("swish with beta 2");
    GraphBuilder b = conv_graph();
    b.floats("two", {}, {2});
    b.node("Mul", {"y", "two"}, {"scaled"});
    b.node("Sigmoid", {"scaled"}, {"s"});
    b.node("Mul", {"y", "s"}, {"z"});
    expect_untouched(b);
  }
  {
    SCOPED_TRACE("a rank-5 constant 3 would broadcast y to rank 5");
    GraphBuilder b = conv_graph();
    add_shifted_relu6(b);
    b.g.initializers["three"] = Tensor::from_floats({1, 1, 1, 1, 1}, {3});
    b.node("Mul", {"y", "h"}, {"p"});
    b.node("Div", {"p", "six"}, {"z"});
    expect_untouched(b);
  }
  {
    SCOPED_TRACE("product read twice");
    GraphBuilder b = conv_graph();
    add_shifted_relu6(b);
    b.node("Mul", {"y", "h"}, {"p"});
    b.node("Div", {"p", "six"}, {"z"});
    b.node("Relu", {"p"}, {"r"});
    expect_untouched(b);
  }
}

}  // namespace
}  // namespace kiln
