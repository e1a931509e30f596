#include "graph/passes/sink_transposes.h"

#include <gtest/gtest.h>

#include <random>

#include "graph/passes/cancel_transposes.h"
#include "graph/validate_graph.h"
#include "graph_builder.h"
#include "kiln/session.h"
#include "model_builder.h"
#include "runtime/op_registry.h"

namespace kiln {
namespace {

using testing::attr_ints;
using testing::GraphBuilder;
using testing::op_sequence;

const std::vector<int64_t> kToNhwc = {0, 2, 3, 1};
const std::vector<int64_t> kToNchw = {0, 3, 1, 2};

// x (NCHW) -> Transpose(to NHWC) -> Relu -> Clip(0, 6) -> Transpose(to NCHW) -> Sigmoid -> out
TEST(PassSinkTransposes, UnaryChainBringsTheTransposesTogether) {
  GraphBuilder b;
  b.input("x").output("out");
  b.floats("lo", {}, {0.0f}).floats("hi", {}, {6.0f});
  b.node("Transpose", {"x"}, {"y"}, "t1").attrs["perm"] = attr_ints(kToNhwc);
  b.node("Relu", {"y"}, {"r"}, "relu");
  b.node("Clip", {"r", "lo", "hi"}, {"c"}, "clip");
  b.node("Transpose", {"c"}, {"z"}, "t2").attrs["perm"] = attr_ints(kToNchw);
  b.node("Sigmoid", {"z"}, {"out"});
  EXPECT_EQ(graph::sink_transposes(b.g, OpRegistry::global()), 2u);  // past Relu, then past Clip
  EXPECT_EQ(op_sequence(b.g), "Relu,Clip,Transpose,Transpose,Sigmoid");
  EXPECT_EQ(b.g.nodes[0].inputs[0], "x");
  EXPECT_EQ(b.g.nodes[0].name, "relu");
  EXPECT_EQ(b.g.nodes[1].inputs, (std::vector<std::string>{b.g.nodes[0].outputs[0], "lo", "hi"}));
  EXPECT_EQ(b.g.nodes[2].name, "t1");
  EXPECT_EQ(b.g.nodes[2].inputs.size(), 1u);
  EXPECT_EQ(b.g.nodes[2].outputs[0], "c");
  EXPECT_NO_THROW(graph::validate_graph(b.g));
  EXPECT_EQ(graph::cancel_transposes(b.g), 1u);
  EXPECT_EQ(op_sequence(b.g), "Relu,Clip,Sigmoid");
  EXPECT_NO_THROW(graph::validate_graph(b.g));
}

// A per-channel NHWC bias [C] becomes [C, 1, 1] before the Transpose.
TEST(PassSinkTransposes, ConstantOperandIsTransposedWithIt) {
  GraphBuilder b;
  b.input("x", {1, 3, 2, 2}).output("out");
  b.floats("bias", {3}, {1, 2, 3});
  b.node("Transpose", {"x"}, {"y"}).attrs["perm"] = attr_ints(kToNhwc);
  b.node("Sub", {"bias", "y"}, {"out"});  // the Transpose as the second operand
  EXPECT_EQ(graph::sink_transposes(b.g, OpRegistry::global()), 1u);
  ASSERT_EQ(op_sequence(b.g), "Sub,Transpose");
  const graph::Node& sub = b.g.nodes[0];
  EXPECT_EQ(sub.inputs[1], "x");
  const Tensor& moved = b.g.initializers.at(sub.inputs[0]);
  EXPECT_EQ(moved.shape(), (Shape{1, 3, 1, 1}));
  EXPECT_EQ(testing::floats_of(moved), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(b.g.nodes[1].outputs[0], "out");
  EXPECT_NO_THROW(graph::validate_graph(b.g));
}

// A 2-D constant in NHWC order [W, C] becomes [1, C, 1, W]: element (w, c)
// moves to (0, c, 0, w).
TEST(PassSinkTransposes, TwoDimensionalConstantIsReordered) {
  GraphBuilder b;
  b.input("x", {1, 2, 3, 4}).output("out");
  b.floats("k", {4, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  b.node("Transpose", {"x"}, {"y"}).attrs["perm"] = attr_ints(kToNhwc);  // y: 1x3x4x2
  b.node("Mul", {"y", "k"}, {"out"});
  EXPECT_EQ(graph::sink_transposes(b.g, OpRegistry::global()), 1u);
  ASSERT_EQ(op_sequence(b.g), "Mul,Transpose");
  const Tensor& moved = b.g.initializers.at(b.g.nodes[0].inputs[1]);
  EXPECT_EQ(moved.shape(), (Shape{1, 2, 1, 4}));
  EXPECT_EQ(testing::floats_of(moved), (std::vector<float>{0, 2, 4, 6, 1, 3, 5, 7}));
}

TEST(PassSinkTransposes, TwoTransposedOperandsWithOnePermBecomeOne) {
  GraphBuilder b;
  b.input("a").input("c").output("out");
  b.node("Transpose", {"a"}, {"ta"}).attrs["perm"] = attr_ints(kToNhwc);
  b.node("Transpose", {"c"}, {"tc"}).attrs["perm"] = attr_ints(kToNhwc);
  b.node("Mul", {"ta", "tc"}, {"out"});
  EXPECT_EQ(graph::sink_transposes(b.g, OpRegistry::global()), 1u);
  ASSERT_EQ(op_sequence(b.g), "Mul,Transpose");
  EXPECT_EQ(b.g.nodes[0].inputs, (std::vector<std::string>{"a", "c"}));
  EXPECT_NO_THROW(graph::validate_graph(b.g));

  GraphBuilder mixed;
  mixed.input("a").input("c").output("out");
  mixed.node("Transpose", {"a"}, {"ta"}).attrs["perm"] = attr_ints(kToNhwc);
  mixed.node("Transpose", {"c"}, {"tc"}).attrs["perm"] = attr_ints({0, 1, 3, 2});
  mixed.node("Mul", {"ta", "tc"}, {"out"});
  EXPECT_EQ(graph::sink_transposes(mixed.g, OpRegistry::global()), 0u);
}

TEST(PassSinkTransposes, NearMissesStayPut) {
  // The Transpose's output has a second reader.
  GraphBuilder shared;
  shared.input("x").output("out").output("y");
  shared.node("Transpose", {"x"}, {"y"}).attrs["perm"] = attr_ints(kToNhwc);
  shared.node("Relu", {"y"}, {"out"});
  EXPECT_EQ(graph::sink_transposes(shared.g, OpRegistry::global()), 0u);

  // The other operand is not a constant.
  GraphBuilder variable;
  variable.input("x").input("v").output("out");
  variable.node("Transpose", {"x"}, {"y"}).attrs["perm"] = attr_ints(kToNhwc);
  variable.node("Add", {"y", "v"}, {"out"});
  EXPECT_EQ(graph::sink_transposes(variable.g, OpRegistry::global()), 0u);

  // The constant would make the result larger than the Transposed value
  // (1x4x4x2 + 5x1x1x1 -> 5x4x4x2): the moved Transpose would move more bytes.
  GraphBuilder larger;
  larger.input("x").output("out");
  larger.floats("k", {5, 1, 1, 1}, {1, 2, 3, 4, 5});
  larger.node("Transpose", {"x"}, {"y"}).attrs["perm"] = attr_ints(kToNhwc);
  larger.node("Add", {"y", "k"}, {"out"});
  EXPECT_EQ(graph::sink_transposes(larger.g, OpRegistry::global()), 0u);

  // Not element-wise.
  GraphBuilder softmax;
  softmax.input("x").output("out");
  softmax.node("Transpose", {"x"}, {"y"}).attrs["perm"] = attr_ints(kToNhwc);
  softmax.node("Softmax", {"y"}, {"out"});
  EXPECT_EQ(graph::sink_transposes(softmax.g, OpRegistry::global()), 0u);

  // Clip whose bound is computed at run time.
  GraphBuilder clip;
  clip.input("x").input("lo", {}).output("out");
  clip.node("Transpose", {"x"}, {"y"}).attrs["perm"] = attr_ints(kToNhwc);
  clip.node("Clip", {"y", "lo"}, {"out"});
  EXPECT_EQ(graph::sink_transposes(clip.g, OpRegistry::global()), 0u);
}

// The layout an NHWC exporter leaves around a Conv: the pair around the
// bias+Relu cancels, the Relu and the per-channel Mul fuse into the Conv, and
// only the Transposes at the model's input and output remain. Same numbers
// as level none.
TEST(PassSinkTransposes, NhwcConvBlockKeepsOneTransposeAtEachEnd) {
  testing::ModelBuilder m(13);
  m.input("x", {1, 5, 6, 3});
  m.output("out");
  auto perm = [](onnx::NodeProto* n, std::vector<int64_t> p) {
    auto* a = n->add_attribute();
    a->set_name("perm");
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : p) a->add_ints(v);
  };
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  std::vector<float> w(4 * 3 * 3 * 3);
  for (float& v : w) v = value(rng);
  m.initializer("w", {4, 3, 3, 3}, w);
  m.initializer("bias", {4}, {0.1f, -0.2f, 0.3f, -0.4f});
  m.initializer("scale", {4, 1, 1}, {2.0f, 0.5f, -1.0f, 1.5f});
  perm(m.node("Transpose", {"x"}, {"nchw"}), kToNchw);
  auto* conv = m.node("Conv", {"nchw", "w"}, {"conv"});
  auto* pads = conv->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : {1, 1, 1, 1}) pads->add_ints(v);
  perm(m.node("Transpose", {"conv"}, {"nhwc"}), kToNhwc);
  m.node("Add", {"nhwc", "bias"}, {"biased"});
  m.node("Relu", {"biased"}, {"relu"});
  perm(m.node("Transpose", {"relu"}, {"back"}), kToNchw);
  m.node("Mul", {"back", "scale"}, {"scaled"});
  perm(m.node("Transpose", {"scaled"}, {"out"}), kToNhwc);

  SessionOptions none, all;
  none.opt_level = OptLevel::kNone;
  all.opt_level = OptLevel::kAll;
  Session plain = Session::from_bytes(m.bytes(), none);
  Session optimized = Session::from_bytes(m.bytes(), all);
  const OptimizeReport& report = optimized.optimization_summary();
  EXPECT_EQ(report.nodes_after, 3u) << report.to_string();  // Transpose, FusedConv, Transpose
  Tensor x(DataType::kFloat32, {1, 5, 6, 3});
  for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = value(rng);
  const Tensor a = plain.run({{"x", x}}).at("out"), b = optimized.run({{"x", x}}).at("out");
  ASSERT_EQ(a.shape(), (Shape{1, 5, 6, 4}));
  ASSERT_EQ(a.shape(), b.shape());
  for (int64_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a.data<float>()[i], b.data<float>()[i], 1e-5) << i;
}

}  // namespace
}  // namespace kiln
