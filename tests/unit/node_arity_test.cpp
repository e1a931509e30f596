#include "runtime/node_arity.h"

#include <gtest/gtest.h>

#include "tests/unit/op_test_util.h"

namespace kiln {
namespace {

std::string arity_error(const graph::Node& node) {
  try {
    check_node_arity(node);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

graph::Node node_of(const std::string& op, std::vector<std::string> inputs, std::vector<std::string> outputs,
                    int64_t opset = 17) {
  graph::Node node;
  node.op_type = op;
  node.name = "n";
  node.opset = opset;
  node.inputs = std::move(inputs);
  node.outputs = std::move(outputs);
  return node;
}

TEST(NodeArity, AcceptsWhatTheSchemaAllows) {
  EXPECT_EQ(arity_error(node_of("Concat", {"a", "b", "c", "d", "e"}, {"y"})), "(no error)");  // variadic
  EXPECT_EQ(arity_error(node_of("Clip", {"x", "", "max"}, {"y"})), "(no error)");  // omitted optional min
  EXPECT_EQ(arity_error(node_of("Dropout", {"x"}, {"y", "mask"})), "(no error)");  // optional output
  EXPECT_EQ(arity_error(node_of("Conv", {"x", "w"}, {"y"})), "(no error)");
  EXPECT_EQ(arity_error(node_of("Split", {"x"}, {"a", "b", "c"})), "(no error)");
  EXPECT_EQ(arity_error(node_of("NotAnOp", {}, {})), "(no error)");  // no schema: left to the op check
}

TEST(NodeArity, RejectsWrongCountsAndOmittedRequiredInputs) {
  EXPECT_EQ(arity_error(node_of("Concat", {}, {"y"})), "node 'n' (Concat) has 0 inputs; Concat (opset 17) takes 1 or more");
  EXPECT_EQ(arity_error(node_of("Conv", {"x"}, {"y"})), "node 'n' (Conv) has 1 input; Conv (opset 17) takes 2 to 3");
  EXPECT_EQ(arity_error(node_of("Relu", {"x"}, {})), "node 'n' (Relu) has 0 outputs; Relu (opset 17) takes 1");
  EXPECT_EQ(arity_error(node_of("Gemm", {"a", "", "c"}, {"y"})),
            "node 'n' (Gemm): input 1 is required by Gemm but omitted (empty name)");
  // Opset matters: Clip-6 takes its bounds as attributes.
  EXPECT_EQ(arity_error(node_of("Clip", {"x", "lo"}, {"y"}, 6)), "node 'n' (Clip) has 2 inputs; Clip (opset 6) takes 1");
}

}  // namespace
}  // namespace kiln
