#include "graph/passes/eliminate_dead_nodes.h"

#include <gtest/gtest.h>

#include "graph/validate_graph.h"
#include "graph_builder.h"

namespace kiln {
namespace {

using testing::GraphBuilder;
using testing::op_sequence;

TEST(PassEliminateDeadNodes, RemovesAnUnreadChainAndItsInitializers) {
  GraphBuilder b;
  b.input("x").output("z").floats("used", {1}, {2}).floats("dead_w", {1}, {3}).floats("never", {1}, {4});
  b.node("Mul", {"x", "used"}, {"z"});
  b.node("Mul", {"x", "dead_w"}, {"d1"});
  b.node("Relu", {"d1"}, {"d2"});
  b.node("Sigmoid", {"d2"}, {"d3"});
  // 3 nodes + 2 initializers
  EXPECT_EQ(graph::eliminate_dead_nodes(b.g), 5u);
  EXPECT_EQ(op_sequence(b.g), "Mul");
  EXPECT_EQ(b.g.initializers.size(), 1u);
  EXPECT_TRUE(b.g.initializers.count("used"));
  EXPECT_NO_THROW(graph::validate_graph(b.g));
  EXPECT_EQ(graph::eliminate_dead_nodes(b.g), 0u);
}

TEST(PassEliminateDeadNodes, KeepsNodesWithAnyOutputReadAndGraphOutputInitializers) {
  GraphBuilder b;
  b.input("x").output("z").output("c").floats("c", {1}, {1});
  b.node("Split", {"x"}, {"s0", "s1"});  // only s1 is read
  b.node("Relu", {"s1"}, {"z"});
  EXPECT_EQ(graph::eliminate_dead_nodes(b.g), 0u);
  EXPECT_EQ(op_sequence(b.g), "Split,Relu");
  EXPECT_TRUE(b.g.initializers.count("c"));
}

TEST(PassEliminateDeadNodes, KeepsNodesProducingGraphOutputsThatNobodyReads) {
  GraphBuilder b;
  b.input("x").output("a").output("z");
  b.node("Relu", {"x"}, {"a"});
  b.node("Sigmoid", {"x"}, {"z"});
  EXPECT_EQ(graph::eliminate_dead_nodes(b.g), 0u);
  EXPECT_EQ(b.g.nodes.size(), 2u);
}

}  // namespace
}  // namespace kiln
