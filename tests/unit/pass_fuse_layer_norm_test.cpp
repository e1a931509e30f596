// Pass fuse_layer_norm on small graphs, the FusedLayerNorm kernel against a
// float64 computation, and a session at levels none and all agreeing on the
// whole chain with an activation after it.
#include "graph/passes/fuse_layer_norm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "graph/pass.h"
#include "graph/passes/fuse_conv_activation.h"
#include "graph/validate_graph.h"
#include "graph_builder.h"
#include "kiln/session.h"
#include "model_builder.h"
#include "op_test_util.h"
#include "runtime/op_registry.h"

namespace kiln {
namespace {

using testing::attr_ints;
using testing::GraphBuilder;
using testing::op_sequence;

// x [1, 3, 4, 5] -> the layer-norm chain over `axes` -> Mul(gamma) -> Add(beta) -> z.
GraphBuilder layer_norm_chain(std::vector<int64_t> axes = {1, 2, 3}, Shape gamma_shape = {3, 1, 1}) {
  GraphBuilder b(13);
  b.input("x", {1, 3, 4, 5}).output("z");
  b.floats("two", {}, {2}).floats("eps", {}, {1e-5f});
  std::vector<float> gamma(static_cast<size_t>(element_count(gamma_shape)), 1.5f);
  b.floats("gamma", gamma_shape, gamma).floats("beta", {3, 1, 1}, {0.1f, 0.2f, 0.3f});
  b.node("ReduceMean", {"x"}, {"mean"}, "ln/mean").attrs["axes"] = attr_ints(axes);
  b.node("Sub", {"x", "mean"}, {"c"});
  b.node("Pow", {"c", "two"}, {"sq"});
  b.node("ReduceMean", {"sq"}, {"var"}).attrs["axes"] = attr_ints(axes);
  b.node("Add", {"var", "eps"}, {"ve"});
  b.node("Sqrt", {"ve"}, {"std"});
  b.node("Div", {"c", "std"}, {"n"});
  b.node("Mul", {"n", "gamma"}, {"s"});
  b.node("Add", {"beta", "s"}, {"z"});
  return b;
}

TEST(PassFuseLayerNorm, ChainWithScaleAndBiasBecomesOneNode) {
  GraphBuilder b = layer_norm_chain();
  EXPECT_EQ(graph::fuse_layer_norm(b.g, OpRegistry::global()), 1u);
  ASSERT_EQ(op_sequence(b.g), "FusedLayerNorm");
  const graph::Node& norm = b.g.nodes[0];
  EXPECT_EQ(norm.domain, graph::kKilnDomain);
  EXPECT_EQ(norm.name, "ln/mean");
  EXPECT_EQ(norm.inputs, (std::vector<std::string>{"x", "gamma", "beta"}));
  EXPECT_EQ(norm.outputs[0], "z");
  EXPECT_EQ(norm.attr_int("axis", -9), 1);
  EXPECT_FLOAT_EQ(norm.attr_float("epsilon", 0), 1e-5f);
  EXPECT_NO_THROW(graph::validate_graph(b.g));
}

TEST(PassFuseLayerNorm, TakesAnActivationThroughFuseConvActivation) {
  GraphBuilder b = layer_norm_chain();
  b.g.outputs[0].name = "r";
  b.node("LeakyRelu", {"z"}, {"r"}).attrs["alpha"] = testing::attr_float(0.2f);
  EXPECT_EQ(graph::fuse_layer_norm(b.g, OpRegistry::global()), 1u);
  EXPECT_EQ(graph::fuse_conv_activation(b.g), 1u);
  ASSERT_EQ(op_sequence(b.g), "FusedLayerNorm");
  EXPECT_EQ(b.g.nodes[0].attr_string("activation", ""), "LeakyRelu");
  EXPECT_EQ(b.g.nodes[0].outputs[0], "r");
}

TEST(PassFuseLayerNorm, LeavesNearMisses) {
  struct Case {
    const char* why;
    GraphBuilder b;
  };
  std::vector<Case> cases;
  cases.push_back({"axes not trailing", layer_norm_chain({1, 2})});
  cases.push_back({"scale varies along two separate axes", layer_norm_chain({1, 2, 3}, {3, 1, 5})});
  {
    GraphBuilder b = layer_norm_chain();
    b.g.outputs.push_back(b.g.outputs[0]);
    b.g.outputs.back().name = "c";  // the centered value is also a graph output
    cases.push_back({"intermediate is a graph output", std::move(b)});
  }
  {
    GraphBuilder b = layer_norm_chain();
    b.g.initializers.erase("eps");
    b.g.inputs.push_back(b.g.inputs[0]);
    b.g.inputs.back().name = "eps";  // epsilon only known at run time
    cases.push_back({"epsilon not constant", std::move(b)});
  }
  {
    GraphBuilder b = layer_norm_chain();
    for (graph::Node& n : b.g.nodes)
      if (n.op_type == "Pow") n.inputs[1] = "eps";  // Pow by 1e-5, not 2
    cases.push_back({"not a square", std::move(b)});
  }
  for (Case& c : cases) {
    SCOPED_TRACE(c.why);
    // The scale that does not broadcast still lets the normalization fuse
    // without it: the Mul and Add then stay.
    const size_t fired = graph::fuse_layer_norm(c.b.g, OpRegistry::global());
    if (std::string(c.why) == "scale varies along two separate axes") {
      EXPECT_EQ(fired, 1u);
      EXPECT_EQ(op_sequence(c.b.g), "FusedLayerNorm,Mul,Add");
    } else {
      EXPECT_EQ(fired, 0u);
      EXPECT_EQ(c.b.g.nodes.size(), 9u);
    }
  }
}

// Y = f((X - mean) / sqrt(var + eps) * scale + bias) in double, per outer index.
std::vector<double> expected_layer_norm(const Tensor& x, int64_t axis, const std::vector<float>& scale,
                                        int64_t scale_inner, const std::vector<float>& bias, int64_t bias_inner,
                                        float eps, float leaky_alpha) {
  int64_t row = 1;
  for (size_t d = static_cast<size_t>(axis); d < x.rank(); ++d) row *= x.dim(d);
  std::vector<double> y(static_cast<size_t>(x.size()));
  for (int64_t r = 0; r < x.size() / row; ++r) {
    const float* in = x.data<float>() + r * row;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < row; ++i) mean += in[i];
    mean /= static_cast<double>(row);
    for (int64_t i = 0; i < row; ++i) var += (in[i] - mean) * (in[i] - mean);
    var /= static_cast<double>(row);
    for (int64_t i = 0; i < row; ++i) {
      const double s = scale[static_cast<size_t>(i / scale_inner) % scale.size()];
      const double b = bias[static_cast<size_t>(i / bias_inner) % bias.size()];
      const double v = (in[i] - mean) / std::sqrt(var + eps) * s + b;
      y[static_cast<size_t>(r * row + i)] = v >= 0 ? v : leaky_alpha * v;
    }
  }
  return y;
}

TEST(FusedLayerNormKernel, MatchesFloat64ForEachBroadcastKind) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> value(-3.0f, 3.0f);
  struct Case {
    int64_t axis;
    Shape scale_shape, bias_shape;
    int64_t scale_inner, bias_inner;  // elements per value within a row
    int threads;
  };
  // x is [2, 3, 40, 700]: rows of 84000 (axis 1) so the two-thread path cuts each row.
  const Case cases[] = {
      {1, {3, 1, 1}, {3, 1, 1}, 28000, 28000, 2},   // per channel
      {1, {}, {1}, 84000, 84000, 1},                 // scalars
      {2, {40, 700}, {700}, 1, 1, 2},                // per element, per column
      {-1, {700}, {1, 1, 700}, 1, 1, 2},             // last axis only
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("axis " + std::to_string(c.axis));
    Tensor x(DataType::kFloat32, {2, 3, 40, 700});
    for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = value(rng) + 5.0f;  // a mean far from 0
    Tensor scale(DataType::kFloat32, c.scale_shape), bias(DataType::kFloat32, c.bias_shape);
    for (int64_t i = 0; i < scale.size(); ++i) scale.data<float>()[i] = value(rng);
    for (int64_t i = 0; i < bias.size(); ++i) bias.data<float>()[i] = value(rng);
    graph::Node node = testing::make_node("FusedLayerNorm", 3, 1, 1);
    node.domain = "com.kiln";
    node.attrs["axis"] = testing::int_attr(c.axis);
    node.attrs["epsilon"] = testing::float_attr(1e-3f);
    node.attrs["activation"] = testing::string_attr("LeakyRelu");
    node.attrs["activation_params"] = testing::floats_attr({0.2f});
    const Tensor y = testing::run_op(node, {x, scale, bias}, true, c.threads)[0];
    const std::vector<double> want =
        expected_layer_norm(x, c.axis < 0 ? c.axis + 4 : c.axis, testing::to_floats(scale), c.scale_inner,
                            testing::to_floats(bias), c.bias_inner, 1e-3f, 0.2f);
    ASSERT_EQ(y.shape(), x.shape());
    for (int64_t i = 0; i < y.size(); ++i)
      ASSERT_NEAR(y.data<float>()[i], want[static_cast<size_t>(i)], 2e-5 * (1 + std::fabs(want[static_cast<size_t>(i)])))
          << "element " << i;
  }
  // A scale varying along two non-adjacent axes is refused with a message.
  graph::Node node = testing::make_node("FusedLayerNorm", 2, 1, 1);
  node.domain = "com.kiln";
  node.attrs["axis"] = testing::int_attr(1);
  Tensor x(DataType::kFloat32, {1, 3, 4, 5}), odd_scale(DataType::kFloat32, {3, 1, 5});
  for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = 1.0f;
  for (int64_t i = 0; i < odd_scale.size(); ++i) odd_scale.data<float>()[i] = 1.0f;
  EXPECT_THROW(testing::run_op(node, {x, odd_scale}, true), Error);
}

// The whole chain plus LeakyRelu, through sessions at none and all.
TEST(FusedLayerNormKernel, SessionAtLevelAllMatchesLevelNone) {
  testing::ModelBuilder m(13);
  m.input("x", {1, 4, 6, 9});
  m.output("y");
  m.initializer("two", {}, {2});
  m.initializer("eps", {}, {1e-5f});
  m.initializer("gamma", {4, 1, 1}, {1, -2, 0.5f, 3});
  m.initializer("beta", {4, 1, 1}, {0, 1, -1, 0.25f});
  auto axes = [](onnx::NodeProto* n) {
    auto* a = n->add_attribute();
    a->set_name("axes");
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : {1, 2, 3}) a->add_ints(v);
  };
  axes(m.node("ReduceMean", {"x"}, {"mean"}));
  m.node("Sub", {"x", "mean"}, {"c"});
  m.node("Pow", {"c", "two"}, {"sq"});
  axes(m.node("ReduceMean", {"sq"}, {"var"}));
  m.node("Add", {"var", "eps"}, {"ve"});
  m.node("Sqrt", {"ve"}, {"std"});
  m.node("Div", {"c", "std"}, {"n"});
  m.node("Mul", {"n", "gamma"}, {"s"});
  m.node("Add", {"s", "beta"}, {"t"});
  m.node("LeakyRelu", {"t"}, {"y"});
  Tensor x(DataType::kFloat32, {1, 4, 6, 9});
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> value(-2.0f, 2.0f);
  for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = value(rng);
  SessionOptions none, all;
  none.opt_level = OptLevel::kNone;
  all.opt_level = OptLevel::kAll;
  Session plain = Session::from_bytes(m.bytes(), none);
  Session fused = Session::from_bytes(m.bytes(), all);
  EXPECT_EQ(fused.optimization_summary().nodes_after, 1u);
  const Tensor a = plain.run({{"x", x}}).at("y"), b = fused.run({{"x", x}}).at("y");
  ASSERT_EQ(a.shape(), b.shape());
  for (int64_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a.data<float>()[i], b.data<float>()[i], 2e-5) << i;
}

}  // namespace
}  // namespace kiln
