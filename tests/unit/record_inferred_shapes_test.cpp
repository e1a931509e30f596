#include "graph/record_inferred_shapes.h"

#include <gtest/gtest.h>

#include "graph/shape_inference.h"
#include "graph_builder.h"
#include "runtime/op_registry.h"

namespace kiln {
namespace {

graph::ValueInfo declared(const std::string& name, std::vector<graph::Dim> dims) {
  graph::ValueInfo v;
  v.name = name;
  v.dtype = DataType::kFloat32;
  v.has_shape = true;
  v.dims = std::move(dims);
  return v;
}

TEST(RecordInferredShapes, FillsWhatDeclarationsLeaveOpen) {
  // x: 1x2x4x4 -> Relu -> y -> Sigmoid -> z (graph output declared N x 2 x ? x ?).
  testing::GraphBuilder b;
  b.input("x", {1, 2, 4, 4}).output("z");
  b.g.outputs[0] = declared("z", {graph::Dim{-1, "N"}, graph::Dim{2, ""}, graph::Dim{}, graph::Dim{}});
  b.node("Relu", {"x"}, {"y"});
  b.node("Sigmoid", {"y"}, {"z"});
  b.node("Relu", {"x"}, {"other"});
  b.g.outputs.push_back(declared("other", {graph::Dim{7, ""}, graph::Dim{}, graph::Dim{}, graph::Dim{}}));

  const size_t changed = graph::record_inferred_shapes(b.g, graph::infer_shapes(b.g, OpRegistry::global()));
  EXPECT_EQ(b.g.outputs[0].shape_string(), "1x2x4x4");
  // A fixed declaration is kept even when inference disagrees: the loader judges it.
  EXPECT_EQ(b.g.outputs[1].shape_string(), "7x2x4x4");
  ASSERT_TRUE(b.g.value_info.count("y"));
  EXPECT_EQ(b.g.value_info.at("y").shape_string(), "1x2x4x4");
  EXPECT_EQ(b.g.value_info.at("y").dtype, DataType::kFloat32);
  EXPECT_FALSE(b.g.value_info.count("z"));  // graph outputs are declared as outputs only
  EXPECT_EQ(changed, 3u);  // the two outputs and y
  EXPECT_EQ(graph::record_inferred_shapes(b.g, graph::infer_shapes(b.g, OpRegistry::global())), 0u);  // nothing left to learn
}

TEST(RecordInferredShapes, KeepsDeclarationsOfAnotherRank) {
  testing::GraphBuilder b;
  b.input("x", {1, 2, 4, 4}).output("y");
  b.g.outputs[0] = declared("y", {graph::Dim{}, graph::Dim{}});
  b.node("Relu", {"x"}, {"y"});
  graph::record_inferred_shapes(b.g, graph::infer_shapes(b.g, OpRegistry::global()));
  EXPECT_EQ(b.g.outputs[0].shape_string(), "?x?");
}

}  // namespace
}  // namespace kiln
