#include "graph/passes/cancel_transposes.h"

#include <gtest/gtest.h>

#include "graph/validate_graph.h"
#include "graph_builder.h"

namespace kiln {
namespace {

using testing::attr_ints;
using testing::GraphBuilder;
using testing::op_sequence;

const std::vector<int64_t> kToNhwc = {0, 2, 3, 1};
const std::vector<int64_t> kToNchw = {0, 3, 1, 2};

// x -> Transpose(p1) -> y -> Transpose(p2) -> z -> Relu -> out
GraphBuilder two_transposes(std::vector<int64_t> p1, std::vector<int64_t> p2) {
  GraphBuilder b;
  b.input("x").output("out");
  auto& t1 = b.node("Transpose", {"x"}, {"y"}, "t1");
  if (!p1.empty()) t1.attrs["perm"] = attr_ints(p1);
  auto& t2 = b.node("Transpose", {"y"}, {"z"}, "t2");
  if (!p2.empty()) t2.attrs["perm"] = attr_ints(p2);
  b.node("Relu", {"z"}, {"out"});
  return b;
}

TEST(PassCancelTransposes, InversePairDisappears) {
  GraphBuilder b = two_transposes(kToNhwc, kToNchw);
  EXPECT_EQ(graph::cancel_transposes(b.g), 1u);
  EXPECT_EQ(op_sequence(b.g), "Relu");
  EXPECT_EQ(b.g.nodes[0].inputs[0], "x");
  EXPECT_NO_THROW(graph::validate_graph(b.g));
}

TEST(PassCancelTransposes, ConsecutivePermsCompose) {
  // y[i] = x[p1[i]], z[i] = y[p2[i]] = x[p1[p2[i]]]
  GraphBuilder b = two_transposes({1, 2, 0}, {1, 2, 0});
  EXPECT_EQ(graph::cancel_transposes(b.g), 1u);
  ASSERT_EQ(op_sequence(b.g), "Transpose,Relu");
  EXPECT_EQ(b.g.nodes[0].inputs[0], "x");
  EXPECT_EQ(b.g.nodes[0].outputs[0], "z");
  EXPECT_EQ(b.g.nodes[0].attr_ints("perm"), (std::vector<int64_t>{2, 0, 1}));

  GraphBuilder c = two_transposes({0, 2, 3, 1}, {0, 2, 1, 3});
  EXPECT_EQ(graph::cancel_transposes(c.g), 1u);
  EXPECT_EQ(c.g.nodes[0].attr_ints("perm"), (std::vector<int64_t>{0, 3, 2, 1}));
}

TEST(PassCancelTransposes, MissingPermMeansReversedAxes) {
  GraphBuilder both_missing = two_transposes({}, {});
  EXPECT_EQ(graph::cancel_transposes(both_missing.g), 1u);
  EXPECT_EQ(op_sequence(both_missing.g), "Relu");

  GraphBuilder one_missing = two_transposes({}, {3, 2, 1, 0});
  EXPECT_EQ(graph::cancel_transposes(one_missing.g), 1u);
  EXPECT_EQ(op_sequence(one_missing.g), "Relu");

  GraphBuilder composed = two_transposes({1, 0, 2}, {});  // reverse(3) = {2, 1, 0}
  EXPECT_EQ(graph::cancel_transposes(composed.g), 1u);
  EXPECT_EQ(composed.g.nodes[0].attr_ints("perm"), (std::vector<int64_t>{2, 0, 1}));
}

TEST(PassCancelTransposes, FirstTransposeStaysForItsOtherReaders) {
  GraphBuilder b = two_transposes(kToNhwc, kToNchw);
  b.node("Sigmoid", {"y"}, {"s"});
  b.output("s");
  EXPECT_EQ(graph::cancel_transposes(b.g), 1u);
  EXPECT_EQ(op_sequence(b.g), "Transpose,Relu,Sigmoid");
  EXPECT_EQ(b.g.nodes[1].inputs[0], "x");
  EXPECT_EQ(b.g.nodes[2].inputs[0], "y");
  EXPECT_NO_THROW(graph::validate_graph(b.g));
}

TEST(PassCancelTransposes, CancelledPairFeedingAGraphOutputLeavesAnIdentity) {
  GraphBuilder b;
  b.input("x").output("z");
  b.node("Transpose", {"x"}, {"y"}).attrs["perm"] = attr_ints(kToNhwc);
  b.node("Transpose", {"y"}, {"z"}).attrs["perm"] = attr_ints(kToNchw);
  EXPECT_EQ(graph::cancel_transposes(b.g), 1u);
  ASSERT_EQ(op_sequence(b.g), "Identity");
  EXPECT_EQ(b.g.nodes[0].inputs[0], "x");
  EXPECT_EQ(b.g.nodes[0].outputs[0], "z");
  EXPECT_TRUE(b.g.nodes[0].attrs.empty());
  EXPECT_EQ(graph::cancel_transposes(b.g), 0u);
}

TEST(PassCancelTransposes, IdentityPermAloneIsDropped) {
  GraphBuilder b;
  b.input("x").output("z");
  b.node("Transpose", {"x"}, {"y"}).attrs["perm"] = attr_ints({0, 1, 2, 3});
  b.node("Relu", {"y"}, {"z"});
  EXPECT_EQ(graph::cancel_transposes(b.g), 1u);
  EXPECT_EQ(op_sequence(b.g), "Relu");
}

TEST(PassCancelTransposes, LongChainCollapsesInOneSweep) {
  GraphBuilder b;
  b.input("x").output("z");
  b.node("Transpose", {"x"}, {"a"}).attrs["perm"] = attr_ints(kToNhwc);
  b.node("Transpose", {"a"}, {"b"}).attrs["perm"] = attr_ints(kToNchw);
  b.node("Transpose", {"b"}, {"c"}).attrs["perm"] = attr_ints(kToNhwc);
  b.node("Transpose", {"c"}, {"d"}).attrs["perm"] = attr_ints(kToNhwc);
  b.node("Relu", {"d"}, {"z"});
  EXPECT_GE(graph::cancel_transposes(b.g), 1u);
  ASSERT_EQ(op_sequence(b.g), "Transpose,Relu");
  // NHWC twice: x[0, 2, 3, 1] then [0, 2, 3, 1] again = x[0, 3, 1, 2]
  EXPECT_EQ(b.g.nodes[0].attr_ints("perm"), kToNchw);
  EXPECT_EQ(b.g.nodes[0].inputs[0], "x");
  EXPECT_NO_THROW(graph::validate_graph(b.g));
}

TEST(PassCancelTransposes, LeavesMalformedOrUnrelatedTransposesAlone) {
  GraphBuilder bad = two_transposes({0, 0, 1}, {0, 2, 1});
  EXPECT_EQ(graph::cancel_transposes(bad.g), 0u);

  GraphBuilder ranks = two_transposes({1, 0}, {0, 2, 1});
  EXPECT_EQ(graph::cancel_transposes(ranks.g), 0u);

  GraphBuilder apart;
  apart.input("x").output("z");
  apart.node("Transpose", {"x"}, {"y"}).attrs["perm"] = attr_ints(kToNhwc);
  apart.node("Relu", {"y"}, {"r"});
  apart.node("Transpose", {"r"}, {"z"}).attrs["perm"] = attr_ints(kToNchw);
  EXPECT_EQ(graph::cancel_transposes(apart.g), 0u);
}

}  // namespace
}  // namespace kiln
