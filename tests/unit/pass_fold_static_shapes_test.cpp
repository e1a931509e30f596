#include "graph/passes/fold_static_shapes.h"

#include <gtest/gtest.h>

#include "graph/optimizer.h"
#include "graph/validate_graph.h"
#include "graph_builder.h"
#include "runtime/kernel_evaluator.h"

namespace kiln {
namespace {

using testing::attr_int;
using testing::GraphBuilder;
using testing::op_sequence;

std::vector<int64_t> int64s_of(const graph::Graph& g, const std::string& name) {
  auto it = g.initializers.find(name);
  if (it == g.initializers.end()) {
    ADD_FAILURE() << "no initializer '" << name << "'";
    return {};
  }
  EXPECT_EQ(it->second.dtype(), DataType::kInt64);
  return it->second.to_int64_vector();
}

TEST(PassFoldStaticShapes, ShapeAndSizeOfKnownShapes) {
  // x: 1x2x4x4 -> Relu -> r; Shape(r), Shape(r, start 1, end -1), Size(r).
  GraphBuilder b(15);
  b.input("x", {1, 2, 4, 4}).output("s").output("middle").output("n");
  b.node("Relu", {"x"}, {"r"});
  b.node("Shape", {"r"}, {"s"});
  graph::Node& sliced = b.node("Shape", {"r"}, {"middle"});
  sliced.attrs["start"] = attr_int(1);
  sliced.attrs["end"] = attr_int(-1);
  b.node("Size", {"r"}, {"n"});
  EXPECT_EQ(graph::fold_static_shapes(b.g, OpRegistry::global()), 3u);
  EXPECT_EQ(op_sequence(b.g), "Relu");
  EXPECT_EQ(int64s_of(b.g, "s"), (std::vector<int64_t>{1, 2, 4, 4}));
  EXPECT_EQ(int64s_of(b.g, "middle"), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(int64s_of(b.g, "n"), (std::vector<int64_t>{32}));
  EXPECT_EQ(b.g.initializers.at("n").rank(), 0u);
  EXPECT_EQ(b.g.initializers.at("s").shape(), (Shape{4}));
  EXPECT_NO_THROW(graph::validate_graph(b.g));
}

TEST(PassFoldStaticShapes, LeavesDynamicShapesAlone) {
  // x: N x 2 (N symbolic): its shape is only known at run time.
  GraphBuilder b;
  b.input("x", {-1, 2}).output("s").output("n");
  b.g.inputs[0].dims[0].symbol = "N";
  b.node("Shape", {"x"}, {"s"});
  b.node("Size", {"x"}, {"n"});
  EXPECT_EQ(graph::fold_static_shapes(b.g, OpRegistry::global()), 0u);
  EXPECT_EQ(op_sequence(b.g), "Shape,Size");

  // Shape of a value with a known rank but one unknown dim: still dynamic.
  GraphBuilder unknown;
  unknown.input("x", {-1, 3}).output("s");
  unknown.node("Shape", {"x"}, {"s"});
  EXPECT_EQ(graph::fold_static_shapes(unknown.g, OpRegistry::global()), 0u);
}

TEST(PassFoldStaticShapes, ExporterReshapeChainBecomesConstant) {
  // Reshape(y, Concat(Gather(Shape(y), 0), [-1])) on a fixed 2x3x4 input: the
  // optimizer folds the whole chain and the Reshape gets a constant shape.
  GraphBuilder b(13);
  b.input("x", {2, 3, 4}).output("z");
  b.initializer("zero", Tensor::from_int64s({}, {0}));
  b.initializer("minus_one", Tensor::from_int64s({1}, {-1}));
  b.node("Relu", {"x"}, {"y"});
  b.node("Shape", {"y"}, {"shape"});
  b.node("Gather", {"shape", "zero"}, {"batch"});
  b.node("Unsqueeze", {"batch", "zero"}, {"batch1"});
  graph::Node& concat = b.node("Concat", {"batch1", "minus_one"}, {"target"});
  concat.attrs["axis"] = attr_int(0);
  b.node("Reshape", {"y", "target"}, {"z"});
  graph::OptimizeOptions options;
  options.level = OptLevel::kBasic;
  options.validate = true;
  OptimizeReport report = graph::optimize(b.g, with_kernels(options));
  EXPECT_EQ(op_sequence(b.g), "Relu,Reshape");
  EXPECT_EQ(int64s_of(b.g, b.g.nodes[1].inputs[1]), (std::vector<int64_t>{2, -1}));
  size_t shapes_folded = 0;
  for (const auto& p : report.passes)
    if (p.pass == "fold_static_shapes") shapes_folded = p.rewrites;
  EXPECT_EQ(shapes_folded, 1u);
}

}  // namespace
}  // namespace kiln
