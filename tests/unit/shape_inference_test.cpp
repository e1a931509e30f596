#include <gtest/gtest.h>

#include <filesystem>

#include "graph/onnx_loader.h"
#include "graph/onnx_tensor.h"
#include "graph/shape_inference.h"
#include "model_builder.h"
#include "runtime/op_registry.h"

namespace kiln {
namespace {

using testing::ModelBuilder;
namespace fs = std::filesystem;

graph::Attribute ints(std::vector<int64_t> v) {
  graph::Attribute a;
  a.kind = graph::Attribute::Kind::kInts;
  a.ints = std::move(v);
  return a;
}

TEST(ShapeInference, SymbolsPassThroughAndConvNeedsFixedDims) {
  ModelBuilder m;
  m.input("x", {1, 3, -1, -1}, onnx::TensorProto::FLOAT, {"", "", "H", "W"});
  m.initializer("w", {8, 3, 3, 3}, std::vector<float>(8 * 27, 0.1f));
  auto* conv = m.node("Conv", {"x", "w"}, {"c"}, "conv");
  auto* pads = conv->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  m.node("Relu", {"x"}, {"r"}, "relu");
  m.output("c");
  m.output("r");
  graph::Graph g = graph::load_onnx_bytes(m.bytes(), ".");
  auto info = graph::infer_shapes(g, OpRegistry::global());
  EXPECT_EQ(info.at("r").shape_string(), "1x3xHxW");
  EXPECT_EQ(info.at("c").shape_string(), "1x8x?x?");

  g.inputs[0].dims[2] = graph::Dim{736, ""};
  g.inputs[0].dims[3] = graph::Dim{1280, ""};
  info = graph::infer_shapes(g, OpRegistry::global());
  EXPECT_EQ(info.at("c").shape_string(), "1x8x736x1280");
}

// The optimizer infers shapes before any kernel has checked the weights: a
// constant W of the wrong rank must leave the output unknown, not be indexed
// past its dims (ASan caught this through the bad-models suite).
TEST(ShapeInference, ConvWithWrongRankConstantWeightIsUnknown) {
  ModelBuilder m;
  m.input("x", {1, 3, 5, 5});
  m.initializer("w", {8}, std::vector<float>(8, 0.1f));
  m.node("Conv", {"x", "w"}, {"c"}, "conv");
  m.output("c");
  graph::Graph g = graph::load_onnx_bytes(m.bytes(), ".");
  auto info = graph::infer_shapes(g, OpRegistry::global());
  EXPECT_EQ(info.at("c").shape_string(), "?");
}

TEST(ShapeInference, StridedAndCeilModeWindows) {
  graph::Node pool;
  pool.name = "pool";
  pool.op_type = "MaxPool";
  pool.opset = 12;
  pool.inputs = {"x"};
  pool.outputs = {"y"};
  pool.attrs["kernel_shape"] = ints({3, 3});
  pool.attrs["strides"] = ints({2, 2});
  graph::Attribute ceil;
  ceil.kind = graph::Attribute::Kind::kInt;
  ceil.i = 1;
  pool.attrs["ceil_mode"] = ceil;
  graph::ValueInfo x;
  x.dtype = DataType::kFloat32;
  x.has_shape = true;
  for (int64_t d : {1, 16, 32, 33}) x.dims.push_back(graph::Dim{d, ""});
  auto out = graph::infer_node(pool, {&x}, {nullptr}, OpRegistry::global());
  ASSERT_EQ(out.size(), 1u);
  // floor((32-3)/2)+1 = 15 -> ceil: 16; (33-3)/2+1 = 16 exactly.
  EXPECT_EQ(out[0].shape_string(), "1x16x16x16");
}

TEST(ShapeInference, IncompatibleBroadcastNamesTheNode) {
  ModelBuilder m;
  m.input("a", {3, 4});
  m.input("b", {5, 4});
  m.node("Add", {"a", "b"}, {"c"}, "the_add");
  m.output("c");
  graph::Graph g = graph::load_onnx_bytes(m.bytes(), ".");
  try {
    graph::infer_shapes(g, OpRegistry::global());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'the_add' (Add): cannot broadcast dimensions 3 and 5"), std::string::npos)
        << e.what();
  }
}

// Found by kiln_fuzz_model: axes naming one axis twice left too few inserted
// axes and read past the input's dims. Now an error naming the node.
TEST(ShapeInference, UnsqueezeWithRepeatedAxisIsAnError) {
  ModelBuilder m;
  m.input("x", {3, 4});
  auto* axes = m.graph().add_initializer();
  axes->set_name("axes");
  axes->set_data_type(onnx::TensorProto::INT64);
  axes->add_dims(2);
  axes->add_int64_data(0);
  axes->add_int64_data(-4);  // axis 0 again in the rank-4 output
  m.node("Unsqueeze", {"x", "axes"}, {"y"}, "the_unsqueeze");
  m.output("y");
  graph::Graph g = graph::load_onnx_bytes(m.bytes(), ".");
  try {
    graph::infer_shapes(g, OpRegistry::global());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'the_unsqueeze' (Unsqueeze): axes lists axis -4 twice"), std::string::npos)
        << e.what();
  }
}

// Every backend test whose output shape inference can fix must agree with the
// stored output, whether or not kiln runs the op.
TEST(ShapeInference, AgreesWithBackendTestOutputs) {
  const fs::path data = "/usr/share/libonnx-testdata/data/node";
  if (!fs::is_directory(data)) GTEST_SKIP() << "libonnx-testdata is not installed";
  int agreed = 0;
  for (const auto& entry : fs::directory_iterator(data)) {
    graph::Graph g;
    try {
      g = graph::load_onnx_file((entry.path() / "model.onnx").string());
    } catch (const UnsupportedError&) {
      continue;  // sequences, strings, ... are out of scope
    }
    graph::ValueInfoMap info = graph::infer_shapes(g, OpRegistry::global());
    for (size_t i = 0; i < g.outputs.size(); ++i) {
      fs::path expected = entry.path() / "test_data_set_0" / ("output_" + std::to_string(i) + ".pb");
      if (!fs::exists(expected)) continue;
      auto it = info.find(g.outputs[i].name);
      if (it == info.end() || !it->second.static_shape()) continue;
      Tensor want = graph::load_tensor_pb(expected.string());
      EXPECT_EQ(shape_to_string(*it->second.static_shape()), shape_to_string(want.shape()))
          << entry.path().filename().string() << " output " << g.outputs[i].name;
      ++agreed;
    }
  }
  // 476 outputs are inferable today; a drop means a rule stopped working.
  EXPECT_GE(agreed, 470);
}

}  // namespace
}  // namespace kiln
