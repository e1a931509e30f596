#include "graph/fix_input_shapes.h"

#include <gtest/gtest.h>

#include <functional>

#include "graph_builder.h"

namespace kiln {
namespace {

// x: batch x 3 x H x W (symbols batch, H, W), mask: rank unknown.
graph::Graph dynamic_graph() {
  testing::GraphBuilder b;
  b.input("x", {-1, 3, -1, -1}).input("mask", {});
  b.g.inputs[0].dims[0].symbol = "batch";
  b.g.inputs[0].dims[2].symbol = "H";
  b.g.inputs[0].dims[3].symbol = "W";
  b.g.inputs[1].has_shape = false;
  return b.g;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(FixInputShapes, WholeInputsAndNamedDims) {
  graph::Graph g = dynamic_graph();
  graph::fix_input_shapes(g, {{"mask", {2, 5}}}, {{"batch", 1}, {"H", 32}});
  EXPECT_EQ(g.inputs[0].shape_string(), "1x3x32xW");
  ASSERT_TRUE(g.inputs[1].static_shape());
  EXPECT_EQ(*g.inputs[1].static_shape(), (Shape{2, 5}));

  graph::Graph whole = dynamic_graph();
  graph::fix_input_shapes(whole, {{"x", {2, 3, 8, 16}}}, {});
  ASSERT_TRUE(whole.inputs[0].static_shape());
  EXPECT_EQ(*whole.inputs[0].static_shape(), (Shape{2, 3, 8, 16}));
}

TEST(FixInputShapes, ErrorsNameTheProblem) {
  auto fix = [](std::map<std::string, Shape> shapes, std::map<std::string, int64_t> dims) {
    return error_of([&] {
      graph::Graph g = dynamic_graph();
      graph::fix_input_shapes(g, shapes, dims);
    });
  };
  EXPECT_NE(fix({{"y", {1}}}, {}).find("no such input (inputs: x, mask)"), std::string::npos);
  EXPECT_NE(fix({{"x", {1, 3, 8}}}, {}).find("input 'x' has rank 4"), std::string::npos);
  EXPECT_NE(fix({{"x", {1, 4, 8, 8}}}, {}).find("fixed dimension 1 = 3"), std::string::npos);
  EXPECT_NE(fix({{"x", {1, 3, -2, 8}}}, {}).find("negative dimension"), std::string::npos);
  EXPECT_NE(fix({}, {{"C", 3}}).find("no model input has a dimension named 'C'"), std::string::npos);
  EXPECT_NE(fix({}, {{"H", -1}}).find("negative value -1"), std::string::npos);
}

// set_batch replaces dim 0 whether it is fixed or symbolic; a symbol's other
// uses follow; inputs of unknown rank stay as they are.
TEST(FixInputShapes, SetBatchReplacesFixedAndSymbolicDimZero) {
  testing::GraphBuilder b;
  b.input("x", {1, 3, 8, 8}).input("y", {-1, 4}).input("z", {5, -1}).input("mask", {});
  b.g.inputs[1].dims[0].symbol = "N";
  b.g.inputs[2].dims[1].symbol = "N";
  b.g.inputs[3].has_shape = false;
  graph::set_batch(b.g, 4);
  EXPECT_EQ(b.g.inputs[0].shape_string(), "4x3x8x8");
  EXPECT_EQ(b.g.inputs[1].shape_string(), "4x4");
  EXPECT_EQ(b.g.inputs[2].shape_string(), "4x4") << "dim 0 replaced, and N's other use follows";
  EXPECT_FALSE(b.g.inputs[3].has_shape);
  EXPECT_NE(error_of([&] { graph::set_batch(b.g, 0); }).find("at least 1"), std::string::npos);
}

}  // namespace
}  // namespace kiln
