#include "graph/graph_editor.h"

#include <gtest/gtest.h>

#include "graph/validate_graph.h"
#include "graph_builder.h"

namespace kiln {
namespace {

using graph::GraphEditor;
using testing::GraphBuilder;

GraphBuilder chain() {
  GraphBuilder b;
  b.input("x").output("z");
  b.node("Relu", {"x"}, {"a"}, "relu");
  b.node("Mul", {"a", "a"}, {"b"}, "square");
  b.node("Sigmoid", {"b"}, {"z"}, "sigmoid");
  return b;
}

TEST(GraphEditor, IndexesProducersAndUses) {
  GraphBuilder b = chain();
  GraphEditor e(b.g);
  EXPECT_EQ(e.producer("a"), 0u);
  EXPECT_FALSE(e.producer("x").has_value());
  ASSERT_EQ(e.uses("a").size(), 2u);
  EXPECT_EQ(e.uses("a")[0].node, 1u);
  EXPECT_EQ(e.uses("a")[1].input, 1u);
  EXPECT_FALSE(e.sole_reader("a").has_value());  // read twice
  EXPECT_EQ(e.sole_reader("b"), 2u);
  EXPECT_FALSE(e.sole_reader("z").has_value());  // graph output, no reader
  EXPECT_TRUE(e.is_graph_output("z"));
  EXPECT_TRUE(e.is_graph_input("x"));
}

TEST(GraphEditor, ReplaceUsesAndRemoveKeepIndexConsistent) {
  GraphBuilder b = chain();
  GraphEditor e(b.g);
  e.remove_node(1);
  e.replace_uses("b", "a");  // sigmoid now reads a
  EXPECT_EQ(e.node(2).inputs[0], "a");
  ASSERT_EQ(e.uses("a").size(), 1u);
  EXPECT_EQ(e.uses("a")[0].node, 2u);
  EXPECT_TRUE(e.uses("b").empty());
  e.commit();
  EXPECT_EQ(testing::op_sequence(b.g), "Relu,Sigmoid");
  EXPECT_NO_THROW(graph::validate_graph(b.g));
}

TEST(GraphEditor, SetOutputRefusesToStealALiveProducersValue) {
  GraphBuilder b = chain();
  GraphEditor e(b.g);
  EXPECT_THROW(e.set_output(0, 0, "b"), Error);
  e.remove_node(1);
  e.set_output(0, 0, "b");
  EXPECT_EQ(e.producer("b"), 0u);
  EXPECT_FALSE(e.producer("a").has_value());
}

TEST(GraphEditor, UniqueNamesAvoidEveryExistingName) {
  GraphBuilder b = chain();
  b.floats("w", {1}, {1});
  GraphEditor e(b.g);
  EXPECT_EQ(e.unique_name("a"), "a_1");
  EXPECT_EQ(e.unique_name("a"), "a_2");
  EXPECT_EQ(e.unique_name("w"), "w_1");
  EXPECT_EQ(e.add_initializer("x", Tensor::from_floats({}, {2})), "x_1");
  EXPECT_EQ(e.unique_name("fresh"), "fresh");
  EXPECT_TRUE(b.g.initializers.count("x_1"));
}

TEST(GraphEditor, SetInputGrowsOptionalInputs) {
  GraphBuilder b;
  b.input("x").output("y").floats("w", {1, 2, 1, 1}, {1, 1}).floats("bias", {1}, {0});
  b.node("Conv", {"x", "w"}, {"y"});
  GraphEditor e(b.g);
  e.set_input(0, 2, "bias");
  EXPECT_EQ(b.g.nodes[0].inputs, (std::vector<std::string>{"x", "w", "bias"}));
  EXPECT_EQ(e.uses("bias").size(), 1u);
}

// Validation: each broken graph is reported, the intact one is not.
TEST(ValidateGraph, AcceptsAValidGraph) {
  GraphBuilder b = chain();
  EXPECT_NO_THROW(graph::validate_graph(b.g));
}

template <class Break>
std::string validation_error(Break breaker) {
  GraphBuilder b = chain();
  breaker(b.g);
  try {
    graph::validate_graph(b.g);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ValidateGraph, RejectsMissingInputs) {
  std::string message = validation_error([](graph::Graph& g) { g.nodes[1].inputs[0] = "nowhere"; });
  EXPECT_NE(message.find("'nowhere', which no node, input or initializer provides"), std::string::npos) << message;
}

TEST(ValidateGraph, RejectsNodesOutOfOrder) {
  std::string message = validation_error([](graph::Graph& g) { std::swap(g.nodes[0], g.nodes[1]); });
  EXPECT_NE(message.find("not in topological order"), std::string::npos) << message;
}

TEST(ValidateGraph, RejectsDuplicateProducers) {
  std::string message = validation_error([](graph::Graph& g) { g.nodes[1].outputs[0] = "a"; });
  EXPECT_NE(message.find("produced twice"), std::string::npos) << message;
}

TEST(ValidateGraph, RejectsMissingGraphOutputsAndUnimportedDomains) {
  std::string missing = validation_error([](graph::Graph& g) { g.nodes[2].outputs[0] = "other"; });
  EXPECT_NE(missing.find("graph output 'z'"), std::string::npos) << missing;
  std::string domain = validation_error([](graph::Graph& g) { g.nodes[0].domain = "com.kiln"; });
  EXPECT_NE(domain.find("does not import"), std::string::npos) << domain;
}

TEST(ValidateGraph, RejectsWritingAnInitializer) {
  std::string message = validation_error([](graph::Graph& g) { g.initializers["a"] = Tensor::from_floats({}, {1}); });
  EXPECT_NE(message.find("graph input or initializer"), std::string::npos) << message;
}

}  // namespace
}  // namespace kiln
