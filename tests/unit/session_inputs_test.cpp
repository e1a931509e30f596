// run() with inputs of the wrong type, rank or shape: each error names the
// input and gives the expected and the given shape (or type).
#include <gtest/gtest.h>

#include "kiln/session.h"
#include "model_builder.h"
#include "tests/unit/error_test_util.h"

namespace kiln {
namespace {

using testing::ModelBuilder;

using testing::error_of;

// y = a + b with a: [batch, 4] and b: [batch, 4] sharing the symbol "batch", c: [2, 3] fixed.
Session two_input_session() {
  ModelBuilder m;
  m.input("a", {-1, 4}, onnx::TensorProto::FLOAT, {"batch", ""});
  m.input("b", {-1, 4}, onnx::TensorProto::FLOAT, {"batch", ""});
  m.input("c", {2, 3});
  m.node("Add", {"a", "b"}, {"y"}, "add");
  m.node("Relu", {"c"}, {"z"}, "relu");
  m.output("y");
  m.output("z");
  return Session::from_bytes(m.bytes());
}

Tensor floats(Shape shape) { return Tensor::zeros(DataType::kFloat32, std::move(shape)); }

TEST(SessionInputs, WrongRankShapeTypeAndSymbolsAreNamed) {
  Session s = two_input_session();
  NamedTensors good = {{"a", floats({3, 4})}, {"b", floats({3, 4})}, {"c", floats({2, 3})}};
  EXPECT_EQ(s.run(good).at("y").shape(), (Shape{3, 4}));

  NamedTensors wrong_rank = good;
  wrong_rank["c"] = floats({6});
  EXPECT_EQ(error_of([&] { s.run(wrong_rank); }), "input 'c' has shape 6, the model expects 2x3");

  NamedTensors wrong_dim = good;
  wrong_dim["c"] = floats({2, 4});
  EXPECT_EQ(error_of([&] { s.run(wrong_dim); }), "input 'c' has shape 2x4, the model expects 2x3");

  NamedTensors scalar = good;
  scalar["c"] = floats({});
  EXPECT_EQ(error_of([&] { s.run(scalar); }), "input 'c' has shape scalar, the model expects 2x3");

  NamedTensors wrong_type = good;
  wrong_type["a"] = Tensor::zeros(DataType::kInt32, {3, 4});
  EXPECT_EQ(error_of([&] { s.run(wrong_type); }), "input 'a' has type int32, the model expects float32");

  NamedTensors undefined = good;
  undefined["b"] = Tensor();
  EXPECT_EQ(error_of([&] { s.run(undefined); }), "input 'b' has type undefined, the model expects float32");

  NamedTensors symbols_disagree = good;
  symbols_disagree["b"] = floats({5, 4});
  EXPECT_EQ(error_of([&] { s.run(symbols_disagree); }),
            "input 'b' has shape 5x4, but dimension 'batch' was 3 in an earlier input");
}

}  // namespace
}  // namespace kiln
