// kiln::describe_model / kiln::Model (include/kiln/model_info.h) and
// kiln::optimize_model_file (include/kiln/optimize_model.h) on models built here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "kiln/model_info.h"
#include "kiln/optimize_model.h"
#include "kiln/session.h"
#include "model_builder.h"
#include "tests/unit/error_test_util.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using testing::ModelBuilder;

using testing::error_of;

// y = Relu(Conv(x, w)), x: [batch, 3, 8, 8], w: [4, 3, 3, 3] (no padding: 6x6
// out); with `unsupported`, y also goes through an op kiln has never heard of
// and one in a custom domain.
std::string conv_model(bool unsupported) {
  ModelBuilder m;
  m.proto().set_producer_name("model_info_test");
  m.proto().set_producer_version("1.0");
  m.input("x", {-1, 3, 8, 8}, onnx::TensorProto::FLOAT, {"batch"});
  m.initializer("w", {4, 3, 3, 3}, std::vector<float>(4 * 3 * 3 * 3, 0.1f));
  m.node("Conv", {"x", "w"}, {"c"}, "conv");
  if (!unsupported) {
    m.node("Relu", {"c"}, {"y"}, "relu");
  } else {
    auto* custom = m.proto().add_opset_import();
    custom->set_domain("com.example");
    custom->set_version(1);
    m.node("Relu", {"c"}, {"r"}, "relu");
    m.node("Frobnicate", {"r"}, {"f"}, "frob");
    m.node("Thing", {"f"}, {"y"}, "thing")->set_domain("com.example");
  }
  m.output("y");
  return m.bytes();
}

class ModelInfo : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kiln_model_info_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string save(const std::string& name, const std::string& bytes) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  fs::path dir_;
};

const NodeDescription& node_named(const ModelDescription& d, const std::string& name) {
  for (const NodeDescription& node : d.nodes)
    if (node.name == name) return node;
  throw std::runtime_error("no node " + name);
}

TEST_F(ModelInfo, DescribesInputsOpsetsAndParameters) {
  ModelDescription d = describe_model(save("conv.onnx", conv_model(false)));
  EXPECT_EQ(d.ir_version, 8);
  EXPECT_EQ(d.producer_name, "model_info_test");
  EXPECT_EQ(d.producer_version, "1.0");
  EXPECT_EQ(d.opsets, (std::map<std::string, int64_t>{{"", 17}}));
  ASSERT_EQ(d.inputs.size(), 1u);
  EXPECT_EQ(d.inputs[0].name, "x");
  EXPECT_EQ(d.inputs[0].dtype, DataType::kFloat32);
  EXPECT_EQ(d.inputs[0].dims, (std::vector<int64_t>{-1, 3, 8, 8}));
  EXPECT_EQ(d.inputs[0].dim_names[0], "batch");
  EXPECT_EQ(d.inputs[0].shape_string(), "batchx3x8x8");
  EXPECT_EQ(d.fixed_inputs[0].shape_string(), "batchx3x8x8");  // no shapes given
  ASSERT_EQ(d.outputs.size(), 1u);
  EXPECT_EQ(d.outputs[0].name, "y");
  EXPECT_EQ(d.parameters, 108);
  EXPECT_EQ(d.parameter_bytes, 108u * 4);
  EXPECT_EQ(d.initializers, 1u);
  EXPECT_EQ(d.constant_nodes, 0u);
  ASSERT_EQ(d.nodes.size(), 2u);
  EXPECT_TRUE(d.unsupported_nodes().empty());
  EXPECT_TRUE(d.shape_inference_error.empty()) << d.shape_inference_error;
}

TEST_F(ModelInfo, NodesHaveInferredShapesAndMacsOnceTheBatchIsKnown) {
  const Model model = Model::open(save("conv.onnx", conv_model(false)));

  // Symbolic batch: the shape is known up to it, so no MACs.
  ModelDescription symbolic = model.describe();
  const NodeDescription& conv = node_named(symbolic, "conv");
  EXPECT_EQ(conv.op_type, "Conv");
  EXPECT_EQ(conv.domain, "");
  EXPECT_EQ(conv.opset, 17);
  EXPECT_TRUE(conv.supported);
  ASSERT_EQ(conv.inputs.size(), 2u);
  EXPECT_EQ(conv.inputs[1].name, "w");
  EXPECT_EQ(conv.inputs[1].shape_string(), "4x3x3x3");
  ASSERT_EQ(conv.outputs.size(), 1u);
  EXPECT_EQ(conv.outputs[0].name, "c");
  EXPECT_EQ(conv.outputs[0].shape_string(), "batchx4x6x6");
  EXPECT_FALSE(conv.macs);

  DescribeOptions options;
  options.dim_values["batch"] = 2;
  ModelDescription fixed = model.describe(options);
  EXPECT_EQ(fixed.inputs[0].shape_string(), "batchx3x8x8");  // as declared
  EXPECT_EQ(fixed.fixed_inputs[0].dims, (std::vector<int64_t>{2, 3, 8, 8}));
  const NodeDescription& fixed_conv = node_named(fixed, "conv");
  EXPECT_EQ(fixed_conv.outputs[0].dims, (std::vector<int64_t>{2, 4, 6, 6}));
  EXPECT_EQ(fixed_conv.macs, 2 * 4 * 6 * 6 * (3 * 3 * 3));
  EXPECT_EQ(node_named(fixed, "relu").outputs[0].shape_string(), "2x4x6x6");
  EXPECT_FALSE(fixed.folded_macs);  // not asked for

  options.count_folded_macs = true;
  EXPECT_EQ(model.describe(options).folded_macs, 2 * 4 * 6 * 6 * (3 * 3 * 3));

  DescribeOptions declared_only;
  declared_only.infer_shapes = false;
  ModelDescription declared = model.describe(declared_only);
  ASSERT_EQ(declared.nodes.size(), 2u);
  EXPECT_FALSE(declared.nodes[0].outputs[0].has_shape);
  EXPECT_EQ(declared.nodes[0].outputs[0].shape_string(), "?");
}

TEST_F(ModelInfo, ListsEveryUnsupportedNode) {
  ModelDescription d = Model::from_bytes(conv_model(true)).describe();
  std::vector<const NodeDescription*> unsupported = d.unsupported_nodes();
  ASSERT_EQ(unsupported.size(), 2u);
  EXPECT_EQ(unsupported[0]->name, "frob");
  EXPECT_EQ(unsupported[0]->qualified_op_type(), "Frobnicate");
  EXPECT_EQ(unsupported[1]->name, "thing");
  EXPECT_EQ(unsupported[1]->qualified_op_type(), "com.example.Thing");
  EXPECT_EQ(unsupported[1]->opset, 1);
  EXPECT_TRUE(node_named(d, "conv").supported);
  EXPECT_TRUE(node_named(d, "relu").supported);
  // Shapes before the unknown ops are still inferred.
  EXPECT_EQ(node_named(d, "relu").outputs[0].shape_string(), "batchx4x6x6");
}

TEST_F(ModelInfo, MissingTruncatedAndBadShapesAreErrors) {
  const std::string missing = (dir_ / "missing.onnx").string();
  EXPECT_NE(error_of([&] { describe_model(missing); }).find("missing.onnx"), std::string::npos);

  const std::string bytes = conv_model(false);
  const std::string truncated = save("truncated.onnx", bytes.substr(0, bytes.size() / 2));
  std::string message = error_of([&] { describe_model(truncated); });
  EXPECT_NE(message.find("truncated or not an ONNX file"), std::string::npos) << message;
  message = error_of([&] { Model::from_bytes(bytes.substr(0, bytes.size() / 2)); });
  EXPECT_NE(message.find("truncated or not an ONNX file"), std::string::npos) << message;

  const Model model = Model::from_bytes(bytes);
  DescribeOptions unknown_dim;
  unknown_dim.dim_values["Z"] = 8;
  message = error_of([&] { model.describe(unknown_dim); });
  EXPECT_NE(message.find("'Z'"), std::string::npos) << message;
  DescribeOptions wrong_channels;
  wrong_channels.input_shapes["x"] = {1, 4, 8, 8};
  message = error_of([&] { model.describe(wrong_channels); });
  EXPECT_NE(message.find("1x4x8x8"), std::string::npos) << message;
}

TEST_F(ModelInfo, SessionsOpenFromAParsedModel) {
  const Model model = Model::from_bytes(conv_model(false));
  for (int64_t batch : {1, 3}) {
    SessionOptions options;
    options.threads = 1;
    options.dim_values["batch"] = batch;
    Session session = Session::open(model, options);
    NamedTensors outputs = session.run({{"x", Tensor::from_floats({batch, 3, 8, 8}, std::vector<float>(
                                                                                      batch * 3 * 8 * 8, 1.0f))}});
    const Tensor& y = outputs.at("y");
    EXPECT_EQ(y.shape(), (Shape{batch, 4, 6, 6}));
    EXPECT_NEAR(y.data<float>()[0], 2.7f, 1e-4f);  // 27 products of 1 x 0.1
  }
  // The model is unchanged by the sessions' optimizer: still two nodes.
  EXPECT_EQ(model.describe().nodes.size(), 2u);
}

// Shared weights count against each session's budget, as loaded ones would.
TEST_F(ModelInfo, SharedWeightsCountAgainstTheSessionBudget) {
  const Model model = Model::from_bytes(conv_model(false));
  SessionOptions options;
  options.threads = 1;
  options.max_memory_bytes = 256;  // w is 432 bytes
  std::string message = error_of([&] { Session::open(model, options); });
  EXPECT_NE(message.find("the model's weights needs 448 bytes"), std::string::npos) << message;
  options.max_memory_bytes = 1 << 20;
  Session session = Session::open(model, options);
  EXPECT_GE(session.peak_memory_bytes(), 448u);
}

TEST(CountMacs, FromShapesAlone) {
  EXPECT_EQ(count_macs("Gemm", {Shape{2, 5}, Shape{5, 7}}, {Shape{2, 7}}), 2 * 7 * 5);
  EXPECT_EQ(count_macs("MatMul", {Shape{3, 4, 5}, Shape{5, 6}}, {Shape{3, 4, 6}}), 3 * 4 * 6 * 5);
  EXPECT_EQ(count_macs("ConvTranspose", {Shape{1, 2, 4, 4}, Shape{2, 3, 2, 2}}, {std::nullopt}),
            1 * 2 * 4 * 4 * (3 * 2 * 2));
  EXPECT_FALSE(count_macs("Conv", {Shape{1, 3, 8, 8}, Shape{4, 3, 3, 3}}, {std::nullopt}));
  EXPECT_FALSE(count_macs("Relu", {Shape{1}}, {Shape{1}}));
  EXPECT_TRUE(counts_macs("FusedConv"));
  EXPECT_FALSE(counts_macs("Add"));
}

TEST_F(ModelInfo, OptimizeModelFileWritesWhatTheSessionWouldRun) {
  const std::string in = save("conv.onnx", conv_model(false));
  const std::string out = (dir_ / "conv_opt.onnx").string();
  OptimizeModelOptions options;
  options.level = OptLevel::kAll;
  options.dim_values["batch"] = 1;
  OptimizeModelResult result = optimize_model_file(in, out, options);
  EXPECT_EQ(result.report.nodes_before, 2u);
  EXPECT_EQ(result.report.nodes_after, 1u);  // Conv+Relu -> com.kiln FusedConv
  EXPECT_EQ(result.original.nodes.size(), 2u);
  EXPECT_EQ(result.original.folded_macs, 4 * 6 * 6 * 27);
  ASSERT_EQ(result.optimized.nodes.size(), 1u);
  EXPECT_EQ(result.optimized.nodes[0].qualified_op_type(), "com.kiln.FusedConv");
  EXPECT_EQ(result.optimized.inputs[0].shape_string(), "1x3x8x8");
  EXPECT_EQ(result.optimized.folded_macs, 4 * 6 * 6 * 27);
  EXPECT_EQ(describe_model(out).nodes.size(), 1u);

  options.standard_only = true;
  result = optimize_model_file(in, out, options);
  ASSERT_EQ(result.optimized.nodes.size(), 2u);
  EXPECT_EQ(result.optimized.nodes[0].qualified_op_type(), "Conv");

  std::string message = error_of([&] { optimize_model_file(in, in, options); });
  EXPECT_NE(message.find("is the input model"), std::string::npos) << message;
}

}  // namespace
}  // namespace kiln
