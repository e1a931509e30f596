#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "graph/onnx_loader.h"
#include "graph/onnx_tensor.h"
#include "model_builder.h"

namespace kiln {
namespace {

using testing::ModelBuilder;
namespace fs = std::filesystem;

// Runs `body`, expecting a kiln::Error whose message contains `needle`.
template <class Body>
void expect_error(Body body, const std::string& needle) {
  try {
    body();
    FAIL() << "expected an error containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  }
}

TEST(TensorFromProto, FloatDataAndRawData) {
  onnx::TensorProto p;
  p.set_data_type(onnx::TensorProto::FLOAT);
  p.add_dims(2);
  p.add_float_data(1.5f);
  p.add_float_data(-2.0f);
  Tensor t = graph::tensor_from_proto(p, ".", "t");
  ASSERT_EQ(t.shape(), (Shape{2}));
  EXPECT_EQ(t.data<float>()[0], 1.5f);
  EXPECT_EQ(t.data<float>()[1], -2.0f);

  onnx::TensorProto r;
  r.set_data_type(onnx::TensorProto::INT64);
  r.add_dims(3);
  int64_t values[3] = {7, -8, 1LL << 40};
  r.set_raw_data(values, sizeof(values));
  Tensor u = graph::tensor_from_proto(r, ".", "r");
  EXPECT_EQ(u.data<int64_t>()[2], 1LL << 40);
  EXPECT_EQ(u.data<int64_t>()[1], -8);
}

TEST(TensorFromProto, Int32DataCarriesSmallTypes) {
  onnx::TensorProto h;
  h.set_data_type(onnx::TensorProto::FLOAT16);
  h.add_dims(2);
  h.add_int32_data(float_to_half(0.5f));
  h.add_int32_data(float_to_half(-3.0f));
  Tensor t = graph::tensor_from_proto(h, ".", "h");
  EXPECT_EQ(half_to_float(static_cast<const uint16_t*>(t.raw())[0]), 0.5f);
  EXPECT_EQ(half_to_float(static_cast<const uint16_t*>(t.raw())[1]), -3.0f);

  onnx::TensorProto b;
  b.set_data_type(onnx::TensorProto::BOOL);
  b.add_dims(3);
  b.add_int32_data(1);
  b.add_int32_data(0);
  b.add_int32_data(5);
  Tensor bt = graph::tensor_from_proto(b, ".", "b");
  EXPECT_EQ(bt.data<bool>()[0], true);
  EXPECT_EQ(bt.data<bool>()[1], false);
  EXPECT_EQ(bt.data<bool>()[2], true);

  onnx::TensorProto i8;
  i8.set_data_type(onnx::TensorProto::INT8);
  i8.add_dims(1);
  i8.add_int32_data(-7);
  EXPECT_EQ(graph::tensor_from_proto(i8, ".", "i8").data<int8_t>()[0], -7);
}

TEST(TensorFromProto, RejectsSizeMismatches) {
  onnx::TensorProto p;
  p.set_data_type(onnx::TensorProto::FLOAT);
  p.add_dims(4);
  p.set_raw_data(std::string(12, '\0'));
  expect_error([&] { graph::tensor_from_proto(p, ".", "w"); }, "raw_data has 12 bytes");
  p.clear_raw_data();
  p.add_float_data(1);
  expect_error([&] { graph::tensor_from_proto(p, ".", "w"); }, "float_data has 1 values");
  onnx::TensorProto n;
  n.set_data_type(onnx::TensorProto::FLOAT);
  n.add_dims(-3);
  expect_error([&] { graph::tensor_from_proto(n, ".", "n"); }, "negative dimension");
  onnx::TensorProto huge;
  huge.set_data_type(onnx::TensorProto::FLOAT);
  for (int i = 0; i < 4; ++i) huge.add_dims(1LL << 20);
  expect_error([&] { graph::tensor_from_proto(huge, ".", "huge"); }, "huge");
}

TEST(TensorFromProto, EmptyPbFileSaysItIsEmpty) {
  expect_error([&] { graph::tensor_from_pb_bytes("", ".", "'input_0.pb'"); }, "'input_0.pb' is empty");
  // One byte short of a whole field is still "not a TensorProto", not "empty".
  expect_error([&] { graph::tensor_from_pb_bytes(std::string(1, '\x08'), ".", "'x.pb'"); }, "not a valid ONNX TensorProto");
}

class ExternalData : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kiln_ext_" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "model");
    std::ofstream(dir_ / "model" / "weights.bin", std::ios::binary).write("\0\0\0\0\0\0\x80\x3f\0\0\0\x40", 12);
    std::ofstream(dir_ / "outside.bin", std::ios::binary).write("\0\0\0\0", 4);
  }
  void TearDown() override { fs::remove_all(dir_); }
  onnx::TensorProto external(const std::string& location, const std::string& offset, int64_t count) {
    onnx::TensorProto p;
    p.set_data_type(onnx::TensorProto::FLOAT);
    p.add_dims(count);
    p.set_data_location(onnx::TensorProto::EXTERNAL);
    auto* loc = p.add_external_data();
    loc->set_key("location");
    loc->set_value(location);
    auto* off = p.add_external_data();
    off->set_key("offset");
    off->set_value(offset);
    return p;
  }
  fs::path dir_;
};

TEST_F(ExternalData, ReadsAtOffset) {
  Tensor t = graph::tensor_from_proto(external("weights.bin", "4", 2), (dir_ / "model").string(), "w");
  EXPECT_EQ(t.data<float>()[0], 1.0f);
  EXPECT_EQ(t.data<float>()[1], 2.0f);
}

TEST_F(ExternalData, RefusesEscapesAndOverruns) {
  std::string base = (dir_ / "model").string();
  expect_error([&] { graph::tensor_from_proto(external("../outside.bin", "0", 1), base, "w"); }, "leaves the model's folder");
  expect_error([&] { graph::tensor_from_proto(external((dir_ / "outside.bin").string(), "0", 1), base, "w"); }, "absolute path");
  expect_error([&] { graph::tensor_from_proto(external("weights.bin", "8", 2), base, "w"); }, "runs past the end");
  expect_error([&] { graph::tensor_from_proto(external("weights.bin", "-1", 1), base, "w"); }, "not a non-negative integer");
  fs::create_symlink(dir_ / "outside.bin", dir_ / "model" / "link.bin");
  expect_error([&] { graph::tensor_from_proto(external("link.bin", "0", 1), base, "w"); }, "outside the model's folder");
}

TEST(Loader, ConvertsGraph) {
  ModelBuilder m(13);
  m.input("x", {1, -1}, onnx::TensorProto::FLOAT, {"", "n"});
  m.initializer("w", {2}, {1, 2});
  auto* n = m.node("Add", {"x", "w"}, {"y"});
  auto* a = n->add_attribute();
  a->set_name("alpha");
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(0.25f);
  m.output("y");
  graph::Graph g = graph::load_onnx_bytes(m.bytes(), ".");
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.inputs[0].shape_string(), "1xn");
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].name, "Add_0");  // unnamed nodes get op_type + index
  EXPECT_EQ(g.nodes[0].opset, 13);
  EXPECT_FLOAT_EQ(g.nodes[0].attr_float("alpha", 0), 0.25f);
  EXPECT_EQ(g.initializers.at("w").size(), 2);
}

TEST(Loader, InitializerListedAsInputIsAConstant) {
  ModelBuilder m;
  m.input("x", {2});
  m.input("w", {2});
  m.initializer("w", {2}, {1, 2});
  m.node("Add", {"x", "w"}, {"y"});
  m.output("y");
  graph::Graph g = graph::load_onnx_bytes(m.bytes(), ".");
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.inputs[0].name, "x");
}

TEST(Loader, SortsNodesAndRejectsCycles) {
  ModelBuilder m;
  m.input("x", {2});
  m.node("Relu", {"t"}, {"y"}, "second");
  m.node("Relu", {"x"}, {"t"}, "first");
  m.output("y");
  graph::Graph g = graph::load_onnx_bytes(m.bytes(), ".");
  EXPECT_EQ(g.nodes[0].name, "first");

  ModelBuilder c;
  c.input("x", {2});
  c.node("Add", {"x", "b"}, {"a"}, "n1");
  c.node("Relu", {"a"}, {"b"}, "n2");
  c.output("b");
  expect_error([&] { graph::load_onnx_bytes(c.bytes(), "."); }, "cycle");

  ModelBuilder missing;
  missing.input("x", {2});
  missing.node("Add", {"x", "ghost"}, {"y"}, "n1");
  missing.output("y");
  expect_error([&] { graph::load_onnx_bytes(missing.bytes(), "."); }, "reads 'ghost'");

  ModelBuilder twice;
  twice.input("x", {2});
  twice.node("Relu", {"x"}, {"y"}, "a");
  twice.node("Relu", {"x"}, {"y"}, "b");
  twice.output("y");
  expect_error([&] { graph::load_onnx_bytes(twice.bytes(), "."); }, "produced twice");
}

TEST(Loader, RejectsGarbageAndTruncation) {
  expect_error([] { graph::load_onnx_bytes("", "."); }, "empty");
  expect_error([] { graph::load_onnx_bytes("this is not a model at all", "."); }, "not a valid ONNX model");
  ModelBuilder m;
  m.input("x", {2});
  m.initializer("w", {64}, std::vector<float>(64, 1.0f));
  m.node("Add", {"x", "w"}, {"y"});
  m.output("y");
  std::string bytes = m.bytes();
  expect_error([&] { graph::load_onnx_bytes(bytes.substr(0, bytes.size() / 2), "."); }, "not a valid ONNX model");
  expect_error([] { graph::load_onnx_file("/nonexistent/model.onnx"); }, "does not exist");
}

// A model whose node `depth` levels down holds an If with a then_branch graph
// holding the next level: three protobuf messages (node, attribute, graph) per level.
std::string nested_if_model(int depth) {
  ModelBuilder m;
  m.input("x", {1}, onnx::TensorProto::BOOL);
  m.node("If", {"x"}, {"y"}, "if0");
  m.output("y");
  onnx::GraphProto* graph = &m.graph();
  for (int level = 0; level < depth; ++level) {
    onnx::AttributeProto* attr = graph->mutable_node(0)->add_attribute();
    attr->set_name("then_branch");
    attr->set_type(onnx::AttributeProto::GRAPH);
    graph = attr->mutable_g();
    graph->set_name("branch" + std::to_string(level));
    onnx::NodeProto* node = graph->add_node();
    node->set_op_type("If");
    node->add_input("x");
    node->add_output("y");
  }
  return m.bytes();
}

// Parsing stops at 64 nested messages (graph/onnx_loader.cpp), so a crafted
// model cannot recurse the parser into a stack overflow.
TEST(Loader, RejectsDeeplyNestedMessages) {
  EXPECT_NO_THROW(graph::load_onnx_bytes(nested_if_model(15), "."));  // 47 messages deep
  expect_error([] { graph::load_onnx_bytes(nested_if_model(25), "."); }, "not a valid ONNX model");  // 77
  expect_error([] { graph::load_onnx_bytes(nested_if_model(2000), "."); }, "not a valid ONNX model");
}

TEST(Loader, NonTensorInputsAreUnsupported) {
  ModelBuilder m;
  auto* in = m.graph().add_input();
  in->set_name("seq");
  in->mutable_type()->mutable_sequence_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(1);
  m.output("seq");
  EXPECT_THROW(graph::load_onnx_bytes(m.bytes(), "."), UnsupportedError);
}

}  // namespace
}  // namespace kiln
