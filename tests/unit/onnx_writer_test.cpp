#include "graph/onnx_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "graph/onnx_loader.h"
#include "graph/optimizer.h"
#include "graph/passes/eliminate_common_subexpressions.h"
#include "graph_builder.h"
#include "model_builder.h"
#include "runtime/kernel_evaluator.h"

namespace kiln {
namespace {

using testing::ModelBuilder;

void expect_same_value_info(const graph::ValueInfo& a, const graph::ValueInfo& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.dtype, b.dtype) << a.name;
  EXPECT_EQ(a.has_shape, b.has_shape) << a.name;
  ASSERT_EQ(a.dims.size(), b.dims.size()) << a.name;
  for (size_t i = 0; i < a.dims.size(); ++i) {
    EXPECT_EQ(a.dims[i].value, b.dims[i].value) << a.name << " dim " << i;
    EXPECT_EQ(a.dims[i].symbol, b.dims[i].symbol) << a.name << " dim " << i;
  }
}

void expect_same_tensor(const Tensor& a, const Tensor& b, const std::string& what) {
  EXPECT_EQ(a.dtype(), b.dtype()) << what;
  EXPECT_EQ(a.shape(), b.shape()) << what;
  ASSERT_EQ(a.nbytes(), b.nbytes()) << what;
  EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.nbytes()), 0) << what << ": bytes differ";
}

void expect_same_graph(const graph::Graph& a, const graph::Graph& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.opsets, b.opsets);
  EXPECT_EQ(a.producer_name, b.producer_name);
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t n = 0; n < a.nodes.size(); ++n) {
    const graph::Node &x = a.nodes[n], &y = b.nodes[n];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.op_type, y.op_type) << x.name;
    EXPECT_EQ(x.domain, y.domain) << x.name;
    EXPECT_EQ(x.opset, y.opset) << x.name;
    EXPECT_EQ(x.inputs, y.inputs) << x.name;
    EXPECT_EQ(x.outputs, y.outputs) << x.name;
    ASSERT_EQ(x.attrs.size(), y.attrs.size()) << x.name;
    for (const auto& [key, attr] : x.attrs) {
      ASSERT_TRUE(y.attrs.count(key)) << x.name << "." << key;
      EXPECT_TRUE(graph::same_attribute(attr, y.attrs.at(key))) << x.name << "." << key;
    }
  }
  ASSERT_EQ(a.initializers.size(), b.initializers.size());
  for (const auto& [name, t] : a.initializers) {
    ASSERT_TRUE(b.initializers.count(name)) << name;
    expect_same_tensor(t, b.initializers.at(name), name);
  }
  ASSERT_EQ(a.inputs.size(), b.inputs.size());
  for (size_t i = 0; i < a.inputs.size(); ++i) expect_same_value_info(a.inputs[i], b.inputs[i]);
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
  for (size_t i = 0; i < a.outputs.size(); ++i) expect_same_value_info(a.outputs[i], b.outputs[i]);
  ASSERT_EQ(a.value_info.size(), b.value_info.size());
  for (const auto& [name, info] : a.value_info) {
    ASSERT_TRUE(b.value_info.count(name)) << name;
    expect_same_value_info(info, b.value_info.at(name));
  }
}

onnx::AttributeProto* add_attr(onnx::NodeProto* node, const std::string& name, onnx::AttributeProto::AttributeType type) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(type);
  return a;
}

// A model using every attribute kind, several initializer types and encodings,
// symbolic and unknown dims, intermediate value_info and a com.kiln node.
std::string rich_model() {
  ModelBuilder m(13);
  m.proto().set_producer_name("writer-test");
  auto* kiln_domain = m.proto().add_opset_import();
  kiln_domain->set_domain("com.kiln");
  kiln_domain->set_version(1);
  m.input("x", {-1, 3, 8, 8}, onnx::TensorProto::FLOAT, {"batch", "", "", ""});
  m.input("ids", {4}, onnx::TensorProto::INT64);
  m.output("y", {-1, 2, 8, 8});
  m.output("picked", {4});
  m.initializer("w", {2, 3, 1, 1}, {1, -2, 3.5f, 0.25f, -0.0f, 1e-30f});  // float_data encoding
  auto* table = m.graph().add_initializer();  // int64 via raw_data
  table->set_name("table");
  table->set_data_type(onnx::TensorProto::INT64);
  table->add_dims(3);
  int64_t values[3] = {7, -8, int64_t{1} << 40};
  table->set_raw_data(values, sizeof(values));
  auto* half = m.graph().add_initializer();  // float16 via int32_data
  half->set_name("half");
  half->set_data_type(onnx::TensorProto::FLOAT16);
  half->add_dims(2);
  half->add_int32_data(float_to_half(0.5f));
  half->add_int32_data(float_to_half(-3.0f));

  auto* conv = m.node("FusedConv", {"x", "w"}, {"c"}, "conv");
  conv->set_domain("com.kiln");
  add_attr(conv, "strides", onnx::AttributeProto::INTS)->add_ints(1);
  conv->mutable_attribute(0)->add_ints(1);
  add_attr(conv, "group", onnx::AttributeProto::INT)->set_i(1);
  add_attr(conv, "activation", onnx::AttributeProto::STRING)->set_s("Clip");
  auto* params = add_attr(conv, "activation_params", onnx::AttributeProto::FLOATS);
  params->add_floats(-std::numeric_limits<float>::infinity());
  params->add_floats(6);
  auto* leaky = m.node("LeakyRelu", {"c"}, {"y"}, "leaky");
  add_attr(leaky, "alpha", onnx::AttributeProto::FLOAT)->set_f(0.125f);
  auto* constant = m.node("Constant", {}, {"k"}, "const");
  auto* t = add_attr(constant, "value", onnx::AttributeProto::TENSOR)->mutable_t();
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(1);
  t->add_float_data(2);
  auto* strings = m.node("Custom", {"k"}, {"k2"}, "strings");
  strings->set_domain("com.kiln");
  auto* names = add_attr(strings, "labels", onnx::AttributeProto::STRINGS);
  names->add_strings("a");
  names->add_strings("b");
  m.node("Gather", {"table", "ids"}, {"picked"}, "gather");
  auto* vi = m.graph().add_value_info();
  vi->set_name("c");
  vi->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  return m.bytes();
}

TEST(OnnxWriter, LoadWriteLoadGivesTheSameGraph) {
  graph::Graph original = graph::load_onnx_bytes(rich_model(), ".");
  std::string written = graph::write_onnx_bytes(original);
  graph::Graph reloaded = graph::load_onnx_bytes(written, ".");
  expect_same_graph(original, reloaded);
  EXPECT_EQ(reloaded.ir_version, original.ir_version);
  // Writing is deterministic: the reloaded graph writes the same bytes.
  EXPECT_EQ(graph::write_onnx_bytes(reloaded), written);
}

TEST(OnnxWriter, InitializersAreRawDataAndStaleValueInfoIsDropped) {
  graph::Graph g = graph::load_onnx_bytes(rich_model(), ".");
  g.value_info["gone"] = graph::ValueInfo{"gone", DataType::kFloat32, false, {}};
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(graph::write_onnx_bytes(g)));
  for (const auto& init : proto.graph().initializer()) {
    EXPECT_TRUE(init.has_raw_data()) << init.name();
    EXPECT_EQ(init.float_data_size() + init.int32_data_size() + init.int64_data_size(), 0) << init.name();
  }
  ASSERT_EQ(proto.graph().value_info_size(), 1);
  EXPECT_EQ(proto.graph().value_info(0).name(), "c");
  EXPECT_EQ(proto.graph().input_size(), 2);  // initializers are not listed as inputs
}

TEST(OnnxWriter, FusedConvImportsTheKilnDomain) {
  testing::GraphBuilder b(13);
  b.input("x", {1, 1, 3, 3}).output("z").floats("w", {2, 1, 1, 1}, {1, 2});
  b.node("Conv", {"x", "w"}, {"y"}, "conv");
  b.node("Relu", {"y"}, {"z"});
  graph::OptimizeOptions options;
  options.emit_kiln_ops_without_kernels = true;
  graph::optimize(b.g, with_kernels(options));
  ASSERT_EQ(testing::op_sequence(b.g), "FusedConv");
  b.g.opsets.erase("com.kiln");  // the writer adds it even when the graph forgot to
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(graph::write_onnx_bytes(b.g)));
  bool imported = false;
  for (const auto& op : proto.opset_import()) imported = imported || (op.domain() == "com.kiln" && op.version() == 1);
  EXPECT_TRUE(imported);
  EXPECT_EQ(proto.graph().node(0).domain(), "com.kiln");
  graph::Graph reloaded = graph::load_onnx_bytes(proto.SerializeAsString(), ".");
  EXPECT_EQ(reloaded.nodes[0].opset, 1);
  EXPECT_EQ(reloaded.nodes[0].attr_string("activation", ""), "Relu");
}

TEST(OnnxWriter, StandardOnlyOptimizationWritesNoKilnOps) {
  testing::GraphBuilder b(13);
  b.input("x", {1, 1, 3, 3}).output("z").floats("w", {2, 1, 1, 1}, {1, 2});
  b.node("Conv", {"x", "w"}, {"y"}, "conv");
  b.node("Relu", {"y"}, {"z"});
  graph::OptimizeOptions options;
  options.emit_kiln_ops_without_kernels = true;
  options.standard_only = true;
  graph::optimize(b.g, with_kernels(options));
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(graph::write_onnx_bytes(b.g)));
  for (const auto& op : proto.opset_import()) EXPECT_NE(op.domain(), "com.kiln");
  for (const auto& node : proto.graph().node()) EXPECT_TRUE(node.domain().empty()) << node.op_type();
}

TEST(OnnxWriter, WritesFilesAndRefusesSubgraphs) {
  graph::Graph g = graph::load_onnx_bytes(rich_model(), ".");
  auto path = std::filesystem::temp_directory_path() / "kiln_onnx_writer_test.onnx";
  graph::write_onnx_file(g, path.string());
  expect_same_graph(g, graph::load_onnx_file(path.string()));
  std::filesystem::remove(path);

  EXPECT_THROW(graph::write_onnx_file(g, "/nonexistent-folder/x.onnx"), Error);

  graph::Attribute subgraph;
  subgraph.kind = graph::Attribute::Kind::kGraph;
  g.nodes[0].attrs["body"] = subgraph;
  try {
    graph::write_onnx_bytes(g);
    FAIL() << "expected an error";
  } catch (const UnsupportedError& e) {
    EXPECT_NE(std::string(e.what()).find("node 'conv'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kiln
