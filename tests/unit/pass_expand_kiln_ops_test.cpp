#include "graph/passes/expand_kiln_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>

#include "graph/onnx_writer.h"
#include "graph/optimizer.h"
#include "graph/validate_graph.h"
#include "graph_builder.h"
#include "kiln/session.h"
#include "runtime/kernel_evaluator.h"

namespace kiln {
namespace {

using testing::attr_float;
using testing::attr_floats;
using testing::attr_int;
using testing::attr_string;
using testing::GraphBuilder;
using testing::op_sequence;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kSixth = 1.0f / 6.0f;

// x -> FusedConv "conv" (activation, params) -> z, at ai.onnx `opset`.
GraphBuilder fused_graph(const std::string& activation, std::vector<float> params, int64_t opset = 17) {
  GraphBuilder b(opset);
  b.g.opsets["com.kiln"] = 1;
  b.input("x", {1, 1, 3, 3}).output("z").floats("w", {2, 1, 1, 1}, {1, -1}).floats("b", {2}, {0, 0});
  graph::Node& n = b.node("FusedConv", {"x", "w", "b"}, {"z"}, "conv", "com.kiln");
  n.attrs["group"] = attr_int(1);
  if (!activation.empty()) n.attrs["activation"] = attr_string(activation);
  if (!params.empty()) n.attrs["activation_params"] = attr_floats(std::move(params));
  return b;
}

// The Conv every expansion starts with: the FusedConv's name, inputs and Conv attributes.
void expect_plain_conv(const graph::Graph& g, int64_t opset) {
  ASSERT_FALSE(g.nodes.empty());
  const graph::Node& conv = g.nodes[0];
  EXPECT_EQ(conv.op_type, "Conv");
  EXPECT_EQ(conv.domain, "");
  EXPECT_EQ(conv.opset, opset);
  EXPECT_EQ(conv.name, "conv");
  EXPECT_EQ(conv.inputs, (std::vector<std::string>{"x", "w", "b"}));
  EXPECT_EQ(conv.attr_int("group", -1), 1);
  EXPECT_FALSE(conv.has_attr("activation"));
  EXPECT_FALSE(conv.has_attr("activation_params"));
  EXPECT_FALSE(g.opsets.count("com.kiln"));
  EXPECT_EQ(g.nodes.back().outputs, (std::vector<std::string>{"z"}));
  for (const graph::Node& n : g.nodes) {
    EXPECT_TRUE(n.domain.empty()) << n.op_type;
    EXPECT_EQ(n.opset, opset) << n.op_type;
  }
  EXPECT_NO_THROW(graph::validate_graph(g));
}

TEST(PassExpandKilnOps, SingleOpActivations) {
  struct Case {
    std::string activation;
    std::vector<float> params;
    std::string ops;
  };
  std::vector<Case> cases = {
      {"", {}, "Conv"},
      {"Relu", {}, "Conv,Relu"},
      {"Sigmoid", {}, "Conv,Sigmoid"},
      {"LeakyRelu", {0.1f}, "Conv,LeakyRelu"},
      {"HardSigmoid", {0.25f, 0.4f}, "Conv,HardSigmoid"},
      {"HardSwish", {kSixth, 0.5f}, "Conv,HardSwish"},
      {"Swish", {}, "Conv,Sigmoid,Mul"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.activation);
    GraphBuilder b = fused_graph(c.activation, c.params);
    EXPECT_EQ(graph::expand_kiln_ops(b.g, OpRegistry::global()), 1u);
    EXPECT_EQ(op_sequence(b.g), c.ops);
    expect_plain_conv(b.g, 17);
  }
  GraphBuilder leaky = fused_graph("LeakyRelu", {0.1f});
  graph::expand_kiln_ops(leaky.g, OpRegistry::global());
  EXPECT_EQ(leaky.g.nodes[1].attr_float("alpha", 0), 0.1f);
  EXPECT_EQ(leaky.g.nodes[1].inputs, leaky.g.nodes[0].outputs);

  GraphBuilder hard_sigmoid = fused_graph("HardSigmoid", {0.25f, 0.4f});
  graph::expand_kiln_ops(hard_sigmoid.g, OpRegistry::global());
  EXPECT_EQ(hard_sigmoid.g.nodes[1].attr_float("alpha", 0), 0.25f);
  EXPECT_EQ(hard_sigmoid.g.nodes[1].attr_float("beta", 0), 0.4f);

  // Swish: y * Sigmoid(y), both reading the Conv's output.
  GraphBuilder swish = fused_graph("Swish", {});
  graph::expand_kiln_ops(swish.g, OpRegistry::global());
  const std::string y = swish.g.nodes[0].outputs[0];
  EXPECT_NE(y, "z");
  EXPECT_EQ(swish.g.nodes[1].inputs, (std::vector<std::string>{y}));
  EXPECT_EQ(swish.g.nodes[2].inputs, (std::vector<std::string>{y, swish.g.nodes[1].outputs[0]}));
}

TEST(PassExpandKilnOps, HardSwishNeedsOpset14AndItsOwnParameters) {
  // Before opset 14 there is no HardSwish; other parameters are not ONNX's HardSwish.
  for (auto [opset, alpha] : {std::pair<int64_t, float>{13, kSixth}, {14, 0.2f}, {11, 0.1666667f}}) {
    SCOPED_TRACE(opset);
    GraphBuilder b = fused_graph("HardSwish", {alpha, 0.5f}, opset);
    EXPECT_EQ(graph::expand_kiln_ops(b.g, OpRegistry::global()), 1u);
    EXPECT_EQ(op_sequence(b.g), "Conv,HardSigmoid,Mul");
    expect_plain_conv(b.g, opset);
    const std::string y = b.g.nodes[0].outputs[0];
    EXPECT_EQ(b.g.nodes[1].attr_float("alpha", 0), alpha);
    EXPECT_EQ(b.g.nodes[1].attr_float("beta", 0), 0.5f);
    EXPECT_EQ(b.g.nodes[2].inputs, (std::vector<std::string>{y, b.g.nodes[1].outputs[0]}));
  }
}

TEST(PassExpandKilnOps, ClipBoundsAsInputsOrAttributes) {
  GraphBuilder both = fused_graph("Clip", {0, 6}, 13);
  graph::expand_kiln_ops(both.g, OpRegistry::global());
  EXPECT_EQ(op_sequence(both.g), "Conv,Clip");
  expect_plain_conv(both.g, 13);
  const graph::Node& clip = both.g.nodes[1];
  ASSERT_EQ(clip.inputs.size(), 3u);
  EXPECT_EQ(testing::initializer_floats(both.g, clip.inputs[1]), (std::vector<float>{0}));
  EXPECT_EQ(testing::initializer_floats(both.g, clip.inputs[2]), (std::vector<float>{6}));
  EXPECT_EQ(both.g.initializers.at(clip.inputs[1]).rank(), 0u);  // Clip's bounds are scalars

  GraphBuilder max_only = fused_graph("Clip", {-kInf, 6}, 13);
  graph::expand_kiln_ops(max_only.g, OpRegistry::global());
  ASSERT_EQ(max_only.g.nodes[1].inputs.size(), 3u);
  EXPECT_EQ(max_only.g.nodes[1].inputs[1], "");
  EXPECT_EQ(testing::initializer_floats(max_only.g, max_only.g.nodes[1].inputs[2]), (std::vector<float>{6}));

  GraphBuilder min_only = fused_graph("Clip", {0, kInf}, 13);
  graph::expand_kiln_ops(min_only.g, OpRegistry::global());
  ASSERT_EQ(min_only.g.nodes[1].inputs.size(), 2u);
  EXPECT_EQ(testing::initializer_floats(min_only.g, min_only.g.nodes[1].inputs[1]), (std::vector<float>{0}));

  GraphBuilder old = fused_graph("Clip", {0, 6}, 9);
  graph::expand_kiln_ops(old.g, OpRegistry::global());
  expect_plain_conv(old.g, 9);
  ASSERT_EQ(old.g.nodes[1].inputs.size(), 1u);
  EXPECT_EQ(old.g.nodes[1].attr_float("min", -1), 0.0f);
  EXPECT_EQ(old.g.nodes[1].attr_float("max", -1), 6.0f);
}

TEST(PassExpandKilnOps, OutputAffineMapBecomesMulAndAdd) {
  // One value each: scalars.
  GraphBuilder both = fused_graph("Relu", {});
  both.g.nodes[0].attrs["output_scale"] = attr_floats({2});
  both.g.nodes[0].attrs["output_shift"] = attr_floats({0.5f});
  EXPECT_EQ(graph::expand_kiln_ops(both.g, OpRegistry::global()), 1u);
  EXPECT_EQ(op_sequence(both.g), "Conv,Relu,Mul,Add");
  expect_plain_conv(both.g, 17);
  EXPECT_FALSE(both.g.nodes[0].has_attr("output_scale"));
  const graph::Node& mul = both.g.nodes[2];
  const graph::Node& add = both.g.nodes[3];
  EXPECT_EQ(mul.inputs[0], both.g.nodes[1].outputs[0]);
  EXPECT_EQ(both.g.initializers.at(mul.inputs[1]).rank(), 0u);
  EXPECT_EQ(testing::initializer_floats(both.g, mul.inputs[1]), (std::vector<float>{2}));
  EXPECT_EQ(add.inputs[0], mul.outputs[0]);
  EXPECT_EQ(testing::initializer_floats(both.g, add.inputs[1]), (std::vector<float>{0.5f}));

  // Per channel (M = 2), shift all zero: only the Mul, its constant [2, 1, 1].
  GraphBuilder scale_only = fused_graph("HardSwish", {kSixth, 0.5f});
  scale_only.g.nodes[0].attrs["output_scale"] = attr_floats({1, 3});
  scale_only.g.nodes[0].attrs["output_shift"] = attr_floats({0, 0});
  graph::expand_kiln_ops(scale_only.g, OpRegistry::global());
  EXPECT_EQ(op_sequence(scale_only.g), "Conv,HardSwish,Mul");
  const graph::Node& channel_mul = scale_only.g.nodes[2];
  EXPECT_EQ(scale_only.g.initializers.at(channel_mul.inputs[1]).shape(), (Shape{2, 1, 1}));
  EXPECT_EQ(testing::initializer_floats(scale_only.g, channel_mul.inputs[1]), (std::vector<float>{1, 3}));
  expect_plain_conv(scale_only.g, 17);

  // Equal per-channel values become one scalar again.
  GraphBuilder uniform = fused_graph("Relu", {});
  uniform.g.nodes[0].attrs["output_scale"] = attr_floats({1, 1});
  uniform.g.nodes[0].attrs["output_shift"] = attr_floats({0.5f, 0.5f});
  graph::expand_kiln_ops(uniform.g, OpRegistry::global());
  EXPECT_EQ(op_sequence(uniform.g), "Conv,Relu,Add");
  EXPECT_EQ(uniform.g.initializers.at(uniform.g.nodes[2].inputs[1]).rank(), 0u);
  EXPECT_EQ(testing::initializer_floats(uniform.g, uniform.g.nodes[2].inputs[1]), (std::vector<float>{0.5f}));

  // The identity map writes nothing.
  GraphBuilder identity = fused_graph("Relu", {});
  identity.g.nodes[0].attrs["output_scale"] = attr_floats({1, 1});
  identity.g.nodes[0].attrs["output_shift"] = attr_floats({0, 0});
  graph::expand_kiln_ops(identity.g, OpRegistry::global());
  EXPECT_EQ(op_sequence(identity.g), "Conv,Relu");
  expect_plain_conv(identity.g, 17);

  // Half a map is an error, as in the kernel.
  GraphBuilder half = fused_graph("Relu", {});
  half.g.nodes[0].attrs["output_scale"] = attr_floats({2});
  EXPECT_THROW(graph::expand_kiln_ops(half.g, OpRegistry::global()), Error);
}

TEST(PassExpandKilnOps, NamesStayUnique) {
  // Names the expansion would pick are taken: a node "conv/Sigmoid" and a value "z_conv".
  GraphBuilder b = fused_graph("Swish", {});
  b.g.outputs[0].name = "out";
  b.node("Relu", {"z"}, {"z_conv"}, "conv/Sigmoid");
  graph::Node& second = b.node("FusedConv", {"z_conv", "w"}, {"out"}, "conv2", "com.kiln");
  second.attrs["activation"] = attr_string("Swish");
  EXPECT_EQ(graph::expand_kiln_ops(b.g, OpRegistry::global()), 2u);
  EXPECT_EQ(op_sequence(b.g), "Conv,Sigmoid,Mul,Relu,Conv,Sigmoid,Mul");
  std::set<std::string> node_names, values;
  for (const graph::Node& n : b.g.nodes) {
    EXPECT_TRUE(node_names.insert(n.name).second) << "node name used twice: " << n.name;
    for (const std::string& out : n.outputs) EXPECT_TRUE(values.insert(out).second) << "value produced twice: " << out;
  }
  EXPECT_NO_THROW(graph::validate_graph(b.g));
}

TEST(PassExpandKilnOps, LeavesOtherGraphsAlone) {
  GraphBuilder b;
  b.input("x").output("z").floats("w", {2, 2, 1, 1}, {1, 0, 0, 1});
  b.node("Conv", {"x", "w"}, {"y"});
  b.node("Relu", {"y"}, {"z"});
  EXPECT_EQ(graph::expand_kiln_ops(b.g, OpRegistry::global()), 0u);
  EXPECT_EQ(op_sequence(b.g), "Conv,Relu");
}

TEST(PassExpandKilnOps, RejectsWhatItCannotExpress) {
  GraphBuilder unknown = fused_graph("Gelu", {});
  try {
    graph::expand_kiln_ops(unknown.g, OpRegistry::global());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("node 'conv'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("unknown activation 'Gelu'"), std::string::npos) << e.what();
  }
  GraphBuilder short_params = fused_graph("Clip", {0});
  try {
    graph::expand_kiln_ops(short_params.g, OpRegistry::global());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("takes 2 activation_params, got 1"), std::string::npos) << e.what();
  }
}

// --- numbers: the expanded graph computes what the fused one does ------------

// x: 1x3x5x5 -> Conv(W 4x3x3x3, pads 1, bias) -> `activation` spelled in
// standard ops the way exporters write them -> z.
GraphBuilder exporter_activation_graph(const std::string& activation, int64_t opset) {
  GraphBuilder b(opset);
  b.input("x", {1, 3, 5, 5}).output("z");
  std::vector<float> w(4 * 3 * 3 * 3);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>((static_cast<int>(i * 7) % 11) - 5) / 8.0f;
  b.floats("w", {4, 3, 3, 3}, w).floats("b", {4}, {0.5f, -0.25f, 0, 1});
  b.floats("three", {}, {3}).floats("zero", {}, {0}).floats("six", {}, {6});
  b.node("Conv", {"x", "w", "b"}, {"y"}, "conv").attrs["pads"] = testing::attr_ints({1, 1, 1, 1});
  if (activation == "hardswish_spelled") {  // y * Clip(y + 3, 0, 6) / 6
    b.node("Add", {"y", "three"}, {"shifted"});
    b.node("Clip", {"shifted", "zero", "six"}, {"relu6"});
    b.node("Mul", {"y", "relu6"}, {"product"});
    b.node("Div", {"product", "six"}, {"z"});
  } else if (activation == "paddle_hardswish") {  // y * HardSigmoid(y), PaddleOCR's alpha
    graph::Node& gate = b.node("HardSigmoid", {"y"}, {"gate"});
    gate.attrs["alpha"] = attr_float(0.1666667f);
    gate.attrs["beta"] = attr_float(0.5f);
    b.node("Mul", {"y", "gate"}, {"z"});
  } else if (activation == "paddle_hardswish_affine") {  // PP-LCNet: hard-swish, then a per-channel scale and shift
    graph::Node& gate = b.node("HardSigmoid", {"y"}, {"gate"});
    gate.attrs["alpha"] = attr_float(0.1666667f);
    gate.attrs["beta"] = attr_float(0.5f);
    b.node("Mul", {"y", "gate"}, {"hswish"});
    b.floats("scale", {1, 4, 1, 1}, {0.5f, 2, -1, 1.5f}).floats("shift", {1}, {0.25f});
    b.node("Mul", {"hswish", "scale"}, {"scaled"});
    b.node("Add", {"scaled", "shift"}, {"z"});
  } else if (activation == "reflect_pad_layer_norm_leaky") {
    // AnimeGAN: Pad(reflect) -> Conv -> layer-norm chain -> LeakyRelu. Here
    // the Conv above reads the padded image instead of x.
    graph::Node& conv = b.g.nodes.back();
    conv.inputs[0] = "x_padded";
    conv.attrs.erase("pads");
    Tensor pads(DataType::kInt64, {8});
    const int64_t pad_values[8] = {0, 0, 1, 1, 0, 0, 1, 1};
    std::copy(pad_values, pad_values + 8, pads.data<int64_t>());
    b.initializer("pads", pads);
    graph::Node pad;
    pad.name = "pad";
    pad.op_type = "Pad";
    pad.opset = opset;
    pad.inputs = {"x", "pads"};
    pad.outputs = {"x_padded"};
    pad.attrs["mode"] = testing::attr_string("reflect");
    b.g.nodes.insert(b.g.nodes.begin(), pad);
    b.floats("two", {}, {2}).floats("eps", {}, {1e-3f});
    b.floats("gamma", {4, 1, 1}, {1, -0.5f, 2, 0.75f}).floats("beta", {4, 1, 1}, {0, 0.5f, -1, 0.25f});
    b.node("ReduceMean", {"y"}, {"mean"}).attrs["axes"] = testing::attr_ints({1, 2, 3});
    b.node("Sub", {"y", "mean"}, {"c"});
    b.node("Pow", {"c", "two"}, {"sq"});
    b.node("ReduceMean", {"sq"}, {"var"}).attrs["axes"] = testing::attr_ints({1, 2, 3});
    b.node("Add", {"var", "eps"}, {"ve"});
    b.node("Sqrt", {"ve"}, {"std"});
    b.node("Div", {"c", "std"}, {"n"});
    b.node("Mul", {"n", "gamma"}, {"s"});
    b.node("Add", {"s", "beta"}, {"t"});
    b.node("LeakyRelu", {"t"}, {"z"}).attrs["alpha"] = attr_float(0.2f);
  } else if (activation == "swish") {
    b.node("Sigmoid", {"y"}, {"gate"});
    b.node("Mul", {"gate", "y"}, {"z"});
  } else if (activation == "relu6") {
    b.node("Clip", {"y", "zero", "six"}, {"z"});
  } else if (activation == "leaky") {
    b.node("LeakyRelu", {"y"}, {"z"}).attrs["alpha"] = attr_float(0.2f);
  } else {
    b.node(activation, {"y"}, {"z"});
  }
  return b;
}

Tensor run_graph(const graph::Graph& g, const Tensor& x) {
  SessionOptions options;
  options.threads = 1;
  options.opt_level = OptLevel::kNone;
  Session session = Session::from_bytes(graph::write_onnx_bytes(g), options);
  return session.run({{"x", x}}).at("z");
}

TEST(PassExpandKilnOps, StandardOnlyOptimizationKeepsTheNumbers) {
  struct Case {
    std::string activation;
    int64_t opset;
    std::string expanded;  // op sequence after optimizing with standard_only
  };
  std::vector<Case> cases = {
      {"hardswish_spelled", 13, "Conv,HardSigmoid,Mul"}, {"hardswish_spelled", 14, "Conv,HardSwish"},
      {"paddle_hardswish", 11, "Conv,HardSigmoid,Mul"},  {"swish", 13, "Conv,Sigmoid,Mul"},
      {"paddle_hardswish_affine", 11, "Conv,HardSigmoid,Mul,Mul,Add"},
      {"relu6", 13, "Conv,Clip"},                         {"leaky", 13, "Conv,LeakyRelu"},
      {"Relu", 13, "Conv,Relu"},                          {"Sigmoid", 13, "Conv,Sigmoid"},
      {"HardSigmoid", 13, "Conv,HardSigmoid"},
      {"reflect_pad_layer_norm_leaky", 13,
       "Pad,Conv,ReduceMean,Sub,Mul,ReduceMean,Add,Sqrt,Div,Mul,Add,LeakyRelu"},
  };
  std::vector<float> values(75);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(static_cast<int>(i * 13) % 17 - 8) / 4.0f;
  const Tensor x = Tensor::from_floats({1, 3, 5, 5}, values);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.activation + " opset " + std::to_string(c.opset));
    GraphBuilder original = exporter_activation_graph(c.activation, c.opset);
    const Tensor want = run_graph(original.g, x);

    GraphBuilder optimized = exporter_activation_graph(c.activation, c.opset);
    graph::OptimizeOptions options;
    options.standard_only = true;
    options.validate = true;
    OptimizeReport report = graph::optimize(optimized.g, with_kernels(options));
    EXPECT_EQ(op_sequence(optimized.g), c.expanded);
    ASSERT_FALSE(report.passes.empty());
    EXPECT_EQ(report.passes.back().pass, "expand_kiln_ops");
    EXPECT_EQ(report.passes.back().rewrites, c.activation == "reflect_pad_layer_norm_leaky" ? 2u : 1u);
    EXPECT_EQ(report.nodes_after, optimized.g.nodes.size());
    const Tensor got = run_graph(optimized.g, x);

    // Spelled-out forms and their fused equivalents differ by float rounding
    // only (a few ulp of values below 10): 1e-5 absolute + 1e-5 relative.
    ASSERT_EQ(got.shape(), want.shape());
    for (int64_t i = 0; i < want.size(); ++i) {
      const float g = got.data<float>()[i], w = want.data<float>()[i];
      EXPECT_LE(std::fabs(g - w), 1e-5f + 1e-5f * std::fabs(w)) << "element " << i;
    }
  }
}

}  // namespace
}  // namespace kiln
