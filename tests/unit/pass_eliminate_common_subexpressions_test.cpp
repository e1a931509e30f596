#include "graph/passes/eliminate_common_subexpressions.h"

#include <gtest/gtest.h>

#include "graph/validate_graph.h"
#include "graph_builder.h"
#include "runtime/op_registry.h"

namespace kiln {
namespace {

using testing::attr_float;
using testing::attr_ints;
using testing::attr_tensor;
using testing::GraphBuilder;
using testing::op_sequence;

TEST(PassEliminateCommonSubexpressions, MergesIdenticalNodesAndThenTheirReaders) {
  GraphBuilder b;
  b.input("x").output("z");
  b.node("Transpose", {"x"}, {"t1"}).attrs["perm"] = attr_ints({0, 2, 3, 1});
  b.node("Transpose", {"x"}, {"t2"}).attrs["perm"] = attr_ints({0, 2, 3, 1});
  b.node("Relu", {"t1"}, {"r1"});
  b.node("Relu", {"t2"}, {"r2"});  // identical once t2 -> t1
  b.node("Add", {"r1", "r2"}, {"z"});
  EXPECT_EQ(graph::eliminate_common_subexpressions(b.g, OpRegistry::global()), 2u);
  EXPECT_EQ(op_sequence(b.g), "Transpose,Relu,Add");
  EXPECT_EQ(b.g.nodes[2].inputs, (std::vector<std::string>{"r1", "r1"}));
  EXPECT_NO_THROW(graph::validate_graph(b.g));
}

TEST(PassEliminateCommonSubexpressions, DifferentAttributesInputsOrOpsStayApart) {
  GraphBuilder b;
  b.input("x").input("y").output("o");
  b.node("Transpose", {"x"}, {"t1"}).attrs["perm"] = attr_ints({0, 2, 3, 1});
  b.node("Transpose", {"x"}, {"t2"}).attrs["perm"] = attr_ints({0, 3, 1, 2});
  b.node("LeakyRelu", {"x"}, {"l1"}).attrs["alpha"] = attr_float(0.1f);
  b.node("LeakyRelu", {"x"}, {"l2"}).attrs["alpha"] = attr_float(0.2f);
  b.node("LeakyRelu", {"x"}, {"l3"});  // alpha absent is not "same as 0.1"
  b.node("Sub", {"x", "y"}, {"s1"});
  b.node("Sub", {"y", "x"}, {"s2"});  // input order matters
  b.node("Relu", {"x"}, {"r"});
  b.node("Sigmoid", {"x"}, {"o"});
  EXPECT_EQ(graph::eliminate_common_subexpressions(b.g, OpRegistry::global()), 0u);
  EXPECT_EQ(b.g.nodes.size(), 9u);
}

TEST(PassEliminateCommonSubexpressions, TensorAttributesCompareByValue) {
  GraphBuilder b;
  b.output("a").output("b");
  b.node("Constant", {}, {"c1"}).attrs["value"] = attr_tensor(Tensor::from_floats({2}, {1, 2}));
  b.node("Constant", {}, {"c2"}).attrs["value"] = attr_tensor(Tensor::from_floats({2}, {1, 2}));
  b.node("Constant", {}, {"c3"}).attrs["value"] = attr_tensor(Tensor::from_floats({2}, {1, 3}));
  b.node("Add", {"c1", "c3"}, {"a"});
  b.node("Add", {"c2", "c3"}, {"b"});  // identical after c2 -> c1, but b is a graph output
  EXPECT_EQ(graph::eliminate_common_subexpressions(b.g, OpRegistry::global()), 1u);
  EXPECT_EQ(op_sequence(b.g), "Constant,Constant,Add,Add");
  EXPECT_EQ(b.g.nodes[3].inputs[0], "c1");
  EXPECT_EQ(b.g.nodes[3].outputs[0], "b");
}

TEST(PassEliminateCommonSubexpressions, NeverMergesRandomOps) {
  GraphBuilder b;
  b.input("x").output("z");
  b.node("RandomNormalLike", {"x"}, {"n1"});
  b.node("RandomNormalLike", {"x"}, {"n2"});
  b.node("Add", {"n1", "n2"}, {"z"});
  EXPECT_EQ(graph::eliminate_common_subexpressions(b.g, OpRegistry::global()), 0u);
}

TEST(PassEliminateCommonSubexpressions, RequestedOutputsMustMatch) {
  GraphBuilder b;
  b.input("x").output("z");
  b.node("Dropout", {"x"}, {"d1"});
  b.node("TopK", {"x", "k"}, {"v1", "i1"});
  b.node("TopK", {"x", "k"}, {"v2", ""});
  b.g.initializers["k"] = Tensor::from_int64s({1}, {1});
  b.node("Concat", {"v1", "v2", "d1"}, {"z"});
  EXPECT_EQ(graph::eliminate_common_subexpressions(b.g, OpRegistry::global()), 0u);
}

}  // namespace
}  // namespace kiln
