#include "graph/passes/remove_identity.h"

#include <gtest/gtest.h>

#include "graph/validate_graph.h"
#include "graph_builder.h"

namespace kiln {
namespace {

using testing::GraphBuilder;
using testing::op_sequence;

TEST(PassRemoveIdentity, RewiresReadersOfAnInnerIdentity) {
  GraphBuilder b;
  b.input("x").output("z");
  b.node("Relu", {"x"}, {"a"});
  b.node("Identity", {"a"}, {"b"});
  b.node("Sigmoid", {"b"}, {"z"});
  b.node("Tanh", {"b"}, {"w"});
  EXPECT_EQ(graph::remove_identity(b.g), 1u);
  EXPECT_EQ(op_sequence(b.g), "Relu,Sigmoid,Tanh");
  EXPECT_EQ(b.g.nodes[1].inputs[0], "a");
  EXPECT_EQ(b.g.nodes[2].inputs[0], "a");
  EXPECT_NO_THROW(graph::validate_graph(b.g));
}

TEST(PassRemoveIdentity, ChainsOfIdentitiesGoInOneSweep) {
  GraphBuilder b;
  b.input("x").output("z");
  b.node("Identity", {"x"}, {"a"});
  b.node("Identity", {"a"}, {"b"});
  b.node("Relu", {"b"}, {"z"});
  EXPECT_EQ(graph::remove_identity(b.g), 2u);
  EXPECT_EQ(op_sequence(b.g), "Relu");
  EXPECT_EQ(b.g.nodes[0].inputs[0], "x");
}

TEST(PassRemoveIdentity, GraphOutputKeepsItsNameByRenamingTheProducer) {
  GraphBuilder b;
  b.input("x").output("y");
  b.node("Relu", {"x"}, {"a"}, "relu");
  b.node("Sigmoid", {"a"}, {"s"});
  b.node("Identity", {"a"}, {"y"});
  b.node("Tanh", {"y"}, {"t"});
  EXPECT_EQ(graph::remove_identity(b.g), 1u);
  EXPECT_EQ(op_sequence(b.g), "Relu,Sigmoid,Tanh");
  EXPECT_EQ(b.g.nodes[0].outputs[0], "y");
  EXPECT_EQ(b.g.nodes[1].inputs[0], "y");  // the other reader of a follows the rename
  EXPECT_EQ(b.g.nodes[2].inputs[0], "y");
  EXPECT_NO_THROW(graph::validate_graph(b.g));
}

TEST(PassRemoveIdentity, KeepsIdentityBetweenGraphInputAndGraphOutput) {
  GraphBuilder b;
  b.input("x").output("y");
  b.node("Identity", {"x"}, {"y"});
  EXPECT_EQ(graph::remove_identity(b.g), 0u);
  EXPECT_EQ(op_sequence(b.g), "Identity");
}

TEST(PassRemoveIdentity, KeepsIdentityCopyingOneGraphOutputToAnother) {
  GraphBuilder b;
  b.input("x").output("a").output("y");
  b.node("Relu", {"x"}, {"a"});
  b.node("Identity", {"a"}, {"y"});
  EXPECT_EQ(graph::remove_identity(b.g), 0u);
  EXPECT_EQ(op_sequence(b.g), "Relu,Identity");
}

TEST(PassRemoveIdentity, KeepsIdentityFromInitializerToGraphOutput) {
  GraphBuilder b;
  b.input("x").output("y").floats("c", {1}, {1});
  b.node("Identity", {"c"}, {"y"});
  EXPECT_EQ(graph::remove_identity(b.g), 0u);
}

TEST(PassRemoveIdentity, RemovesInferenceDropoutInEveryOpsetForm) {
  GraphBuilder b(17);
  b.input("x").output("z");
  b.g.initializers["no"] = Tensor::zeros(DataType::kBool, {});
  b.node("Dropout", {"x"}, {"a"});                 // no ratio, no training_mode
  b.node("Dropout", {"a", "", "no"}, {"b", ""});   // training_mode constant false
  b.node("Dropout", {"b"}, {"c", "unused_mask"});  // mask requested but unread
  b.node("Relu", {"c"}, {"z"});
  EXPECT_EQ(graph::remove_identity(b.g), 3u);
  EXPECT_EQ(op_sequence(b.g), "Relu");
  EXPECT_EQ(b.g.nodes[0].inputs[0], "x");
}

TEST(PassRemoveIdentity, KeepsDropoutInTrainingModeOrWithItsMaskRead) {
  GraphBuilder b(17);
  b.input("x").input("train", {}, DataType::kBool).output("z").output("m");
  b.g.initializers["yes"] = Tensor::zeros(DataType::kBool, {});
  static_cast<bool*>(b.g.initializers["yes"].raw())[0] = true;
  b.node("Dropout", {"x", "", "yes"}, {"a"});    // constant true
  b.node("Dropout", {"a", "", "train"}, {"b"});  // decided at run time
  b.node("Dropout", {"b"}, {"c", "mask"});
  b.node("Not", {"mask"}, {"m"});
  b.node("Relu", {"c"}, {"z"});
  EXPECT_EQ(graph::remove_identity(b.g), 0u);
  EXPECT_EQ(op_sequence(b.g), "Dropout,Dropout,Dropout,Not,Relu");
}

}  // namespace
}  // namespace kiln
