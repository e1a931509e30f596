// Pass fuse_elementwise on the spellings exporters write (GELU in its Erf and
// tanh forms, SiLU, HardSwish three ways, Mish, a branchy DAG with Where) and
// on near misses that must not fuse (an intermediate with an outside reader or
// that is a graph output, a small value broadcast onto a big one, integers).
// Each fused graph also runs through sessions at levels none and all, which
// must agree exactly: the fused kernel applies each op's own float formula.
#include "graph/passes/fuse_elementwise.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "graph/onnx_writer.h"
#include "graph/pass.h"
#include "graph/validate_graph.h"
#include "graph_builder.h"
#include "kiln/session.h"
#include "runtime/op_registry.h"

namespace kiln {
namespace {

using testing::attr_float;
using testing::GraphBuilder;
using testing::op_sequence;

const Shape kShape = {1, 4, 6, 7};

GraphBuilder start(int64_t opset = 17) {
  GraphBuilder b(opset);
  b.input("x", kShape).output("y");
  return b;
}

// A scalar float constant named after its value's role.
void constant(GraphBuilder& b, const std::string& name, float v) { b.floats(name, {}, {v}); }

// Sessions at none and all on the graph; returns the node count at all.
// Exact unless `tolerance` (relative) is given.
size_t check_levels_agree(const graph::Graph& g, NamedTensors feeds, float tolerance = 0.0f) {
  const std::string bytes = graph::write_onnx_bytes(g);
  SessionOptions none, all;
  none.opt_level = OptLevel::kNone;
  all.opt_level = OptLevel::kAll;
  Session plain = Session::from_bytes(bytes, none);
  Session fused = Session::from_bytes(bytes, all);
  const NamedTensors a = plain.run(feeds), b = fused.run(feeds);
  for (const auto& [name, want] : a) {
    const Tensor& got = b.at(name);
    EXPECT_EQ(got.shape(), want.shape()) << name;
    for (int64_t i = 0; i < want.size(); ++i) {
      const float u = want.data<float>()[i], v = got.data<float>()[i];
      EXPECT_TRUE((std::isnan(u) && std::isnan(v)) || std::fabs(u - v) <= tolerance * (1 + std::fabs(u))) << name << " element " << i << ": " << u << " vs " << v;
    }
  }
  return fused.optimization_summary().nodes_after;
}

NamedTensors random_x(unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(-5.0f, 5.0f);
  Tensor x(DataType::kFloat32, kShape);
  for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = value(rng);
  NamedTensors feeds;
  feeds.emplace("x", x);
  return feeds;
}

// Fuses a copy of b's graph and expects one FusedElementwise of `ops`
// instructions in `expected` (op sequence), then compares the levels.
void expect_fused(GraphBuilder& b, const std::string& expected, size_t nodes_at_all) {
  graph::Graph original = b.g;
  const size_t fired = graph::fuse_elementwise(b.g, OpRegistry::global());
  EXPECT_GE(fired, 1u);
  EXPECT_EQ(op_sequence(b.g), expected);
  EXPECT_NO_THROW(graph::validate_graph(b.g));
  EXPECT_EQ(check_levels_agree(original, random_x()), nodes_at_all);
}

TEST(PassFuseElementwise, GeluErfForm) {
  GraphBuilder b = start();
  constant(b, "sqrt2", 1.4142135f), constant(b, "one", 1.0f), constant(b, "half", 0.5f);
  b.node("Div", {"x", "sqrt2"}, {"s"});
  b.node("Erf", {"s"}, {"e"});
  b.node("Add", {"e", "one"}, {"p"});
  b.node("Mul", {"x", "p"}, {"m"});
  b.node("Mul", {"m", "half"}, {"y"});
  expect_fused(b, "FusedElementwise", 1);
  const graph::Node& n = b.g.nodes[0];
  EXPECT_EQ(n.inputs, (std::vector<std::string>{"x"}));  // the constants went into the program
  EXPECT_EQ(n.outputs[0], "y");
  EXPECT_EQ(n.attrs.at("ops").strings,
            (std::vector<std::string>{"Input", "Constant", "Div", "Erf", "Constant", "Add", "Mul", "Constant", "Mul"}));
}

TEST(PassFuseElementwise, GeluTanhForm) {
  GraphBuilder b = start();
  constant(b, "three", 3.0f), constant(b, "k", 0.044715f), constant(b, "c", 0.7978845608f);
  constant(b, "one", 1.0f), constant(b, "half", 0.5f);
  b.node("Pow", {"x", "three"}, {"cube"});
  b.node("Mul", {"k", "cube"}, {"kc"});
  b.node("Add", {"x", "kc"}, {"inner"});
  b.node("Mul", {"inner", "c"}, {"scaled"});
  b.node("Tanh", {"scaled"}, {"t"});
  b.node("Add", {"one", "t"}, {"p"});
  b.node("Mul", {"half", "x"}, {"hx"});
  b.node("Mul", {"hx", "p"}, {"y"});
  expect_fused(b, "FusedElementwise", 1);
}

TEST(PassFuseElementwise, SiluAndMish) {
  {
    GraphBuilder b = start();
    b.node("Sigmoid", {"x"}, {"s"});
    b.node("Mul", {"s", "x"}, {"y"});
    expect_fused(b, "FusedElementwise", 1);
  }
  {
    GraphBuilder b = start();
    b.node("Softplus", {"x"}, {"sp"});
    b.node("Tanh", {"sp"}, {"t"});
    b.node("Mul", {"x", "t"}, {"y"});
    expect_fused(b, "FusedElementwise", 1);
  }
}

TEST(PassFuseElementwise, HardSwishInThreeSpellings) {
  {  // x * Clip(x + 3, 0, 6) / 6
    GraphBuilder b = start();
    constant(b, "three", 3), constant(b, "zero", 0), constant(b, "six", 6);
    b.node("Add", {"x", "three"}, {"a"});
    b.node("Clip", {"a", "zero", "six"}, {"c"});
    b.node("Mul", {"x", "c"}, {"m"});
    b.node("Div", {"m", "six"}, {"y"});
    expect_fused(b, "FusedElementwise", 1);
    EXPECT_EQ(b.g.nodes[0].inputs, (std::vector<std::string>{"x"}));
  }
  {  // Min(Max(3 + x, 0), 6) * (1/6) * x, without Clip
    GraphBuilder b = start();
    constant(b, "three", 3), constant(b, "zero", 0), constant(b, "six", 6), constant(b, "sixth", 1.0f / 6.0f);
    b.node("Add", {"three", "x"}, {"a"});
    b.node("Max", {"a", "zero"}, {"lo"});
    b.node("Min", {"lo", "six"}, {"hi"});
    b.node("Mul", {"hi", "sixth"}, {"g"});
    b.node("Mul", {"g", "x"}, {"y"});
    expect_fused(b, "FusedElementwise", 1);
  }
  {  // x * HardSigmoid(x) (PaddleOCR)
    GraphBuilder b = start();
    graph::Node& h = b.node("HardSigmoid", {"x"}, {"g"});
    h.attrs["alpha"] = attr_float(1.0f / 6.0f);
    h.attrs["beta"] = attr_float(0.5f);
    b.node("Mul", {"x", "g"}, {"y"});
    expect_fused(b, "FusedElementwise", 1);
  }
}

// A DAG with two branches meeting twice, a per-channel constant input and
// a Where on a bool computed outside the group.
TEST(PassFuseElementwise, BranchyDagWithWhere) {
  GraphBuilder b = start();
  b.floats("gamma", {4, 1, 1}, {0.5f, -1.0f, 2.0f, 0.25f});
  constant(b, "zero", 0);
  b.node("Greater", {"x", "zero"}, {"positive"});
  b.node("Exp", {"x"}, {"a"});
  b.node("Sigmoid", {"x"}, {"s"});
  b.node("Mul", {"a", "s"}, {"c"});
  b.node("Tanh", {"a"}, {"t"});
  b.node("Add", {"c", "t"}, {"d"});
  b.node("Mul", {"d", "gamma"}, {"e"});
  b.node("Where", {"positive", "e", "s"}, {"y"});
  expect_fused(b, "Greater,FusedElementwise", 2);
  const graph::Node& n = b.g.nodes[1];
  EXPECT_EQ(n.inputs, (std::vector<std::string>{"x", "gamma", "positive"}));
  EXPECT_EQ(n.attrs.at("ops").strings.size(), 10u);
}

TEST(PassFuseElementwise, IntermediateWithAnOutsideReaderStaysOutside) {
  GraphBuilder b = start();
  b.output("mean");
  b.node("Sigmoid", {"x"}, {"s"});
  b.node("ReduceMean", {"s"}, {"mean"}).attrs["keepdims"] = testing::attr_int(1);
  b.node("Mul", {"s", "x"}, {"m"});
  b.node("Relu", {"m"}, {"y"});
  EXPECT_EQ(graph::fuse_elementwise(b.g, OpRegistry::global()), 1u);
  EXPECT_EQ(op_sequence(b.g), "Sigmoid,ReduceMean,FusedElementwise");
  EXPECT_EQ(b.g.nodes[2].inputs, (std::vector<std::string>{"s", "x"}));
}

TEST(PassFuseElementwise, GraphOutputIntermediateStaysOutside) {
  GraphBuilder b = start();
  b.output("s");
  b.node("Sigmoid", {"x"}, {"s"});
  b.node("Mul", {"s", "x"}, {"m"});
  b.node("Neg", {"m"}, {"y"});
  EXPECT_EQ(graph::fuse_elementwise(b.g, OpRegistry::global()), 1u);
  EXPECT_EQ(op_sequence(b.g), "Sigmoid,FusedElementwise");
}

// A squeeze-excitation gate: Sigmoid of a [1, 4, 1, 1] value times the
// feature map. The Sigmoid stays a node of its own (computed 4 times, not
// once per output element); the Mul and the Relu after it fuse.
TEST(PassFuseElementwise, SmallValueBroadcastOntoABigOneIsNotRecomputed) {
  GraphBuilder b = start();
  b.input("p", {1, 4, 1, 1});
  b.node("Sigmoid", {"p"}, {"g"});
  b.node("Mul", {"x", "g"}, {"m"});
  b.node("Relu", {"m"}, {"y"});
  EXPECT_EQ(graph::fuse_elementwise(b.g, OpRegistry::global()), 1u);
  EXPECT_EQ(op_sequence(b.g), "Sigmoid,FusedElementwise");
  EXPECT_EQ(b.g.nodes[1].inputs, (std::vector<std::string>{"x", "g"}));
}

TEST(PassFuseElementwise, IntegerAndSingleNodesAreLeftAlone) {
  {
    GraphBuilder b(17);
    b.input("i", {2, 3}, DataType::kInt64).input("j", {2, 3}, DataType::kInt64).output("y");
    b.node("Add", {"i", "j"}, {"s"});
    b.node("Neg", {"s"}, {"y"});
    EXPECT_EQ(graph::fuse_elementwise(b.g, OpRegistry::global()), 0u);
    EXPECT_EQ(op_sequence(b.g), "Add,Neg");
  }
  {
    GraphBuilder b = start();
    b.node("Sigmoid", {"x"}, {"y"});
    EXPECT_EQ(graph::fuse_elementwise(b.g, OpRegistry::global()), 0u);
  }
  {  // Relu -> Softmax -> Relu: the groups are cut at the Softmax, each of one node
    GraphBuilder b = start();
    b.node("Relu", {"x"}, {"a"});
    b.node("Softmax", {"a"}, {"s"});
    b.node("Relu", {"s"}, {"y"});
    EXPECT_EQ(graph::fuse_elementwise(b.g, OpRegistry::global()), 0u);
  }
}

// The pass leaves the Conv patterns to fuse_conv_activation: at level all,
// Conv + x*Sigmoid(x) is one FusedConv (Swish), not a FusedElementwise.
TEST(PassFuseElementwise, RunsAfterTheConvFusions) {
  GraphBuilder b = start();
  std::vector<float> w(4 * 4, 0.25f);
  b.floats("w", {4, 4, 1, 1}, w);
  b.node("Conv", {"x", "w"}, {"c"});
  b.node("Sigmoid", {"c"}, {"s"});
  b.node("Mul", {"c", "s"}, {"y"});
  SessionOptions all;
  Session session = Session::from_bytes(graph::write_onnx_bytes(b.g), all);
  EXPECT_EQ(session.optimization_summary().nodes_after, 1u);
  // FusedConv's Swish uses its own exp and summation order: within 1e-5.
  EXPECT_EQ(check_levels_agree(b.g, random_x(), 1e-5f), 1u);
}

}  // namespace
}  // namespace kiln
