// `kiln optimize IN OUT`: the written model loads in kiln and computes what
// the original does, --standard-only keeps to standard ONNX ops, the
// before/after table is complete and true, and bad arguments give one-line errors.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "graph/onnx_loader.h"
#include "graph/onnx_tensor.h"
#include "kiln/session.h"
#include "kiln/tensor_io.h"
#include "kiln_binary_test.h"
#include "tests/unit/model_builder.h"

namespace kiln {
namespace {

using testing::KilnResult;
using testing::lines_of;
using testing::ModelBuilder;

void add_ints_attr(onnx::NodeProto* node, const std::string& name, std::vector<int64_t> ints) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t i : ints) a->add_ints(i);
}

void add_tensor(ModelBuilder& m, const std::string& name, const Tensor& t) {
  onnx::TensorProto* init = m.graph().add_initializer();
  graph::tensor_to_proto(t, init);
  init->set_name(name);
}

// x: N x 3 x H x W -> Conv(W1 4x3x3x3, pads 1, B1) -> BatchNormalization
//   -> hard-swish as exporters spell it (y * Clip(y + 3, 0, 6) / 6)
//   -> Conv(W2 4x4x1x1) -> Relu -> Identity -> y: N x 4 x H x W.
// Opset 13 (no HardSwish op yet). What kiln's optimizer makes of it at level
// all: FusedConv(HardSwish), FusedConv(Relu).
onnx::ModelProto conv_block_model() {
  ModelBuilder m(13);
  m.proto().set_producer_name("kiln-optimize-test");
  m.input("x", {-1, 3, -1, -1}, onnx::TensorProto::FLOAT, {"N", "", "H", "W"});
  m.output("y", {-1, 4, -1, -1});
  add_tensor(m, "W1", random_tensor(DataType::kFloat32, {4, 3, 3, 3}, 11));
  add_tensor(m, "B1", random_tensor(DataType::kFloat32, {4}, 12));
  add_tensor(m, "W2", random_tensor(DataType::kFloat32, {4, 4, 1, 1}, 13));
  m.initializer("scale", {4}, {1.5f, 0.5f, 2.0f, 1.0f});
  m.initializer("bias", {4}, {0.1f, -0.2f, 0.3f, 0.0f});
  m.initializer("mean", {4}, {0.05f, 0.0f, -0.1f, 0.2f});
  m.initializer("var", {4}, {1.0f, 0.25f, 2.0f, 0.5f});
  m.initializer("three", {}, {3});
  m.initializer("zero", {}, {0});
  m.initializer("six", {}, {6});
  add_ints_attr(m.node("Conv", {"x", "W1", "B1"}, {"c1"}, "conv1"), "pads", {1, 1, 1, 1});
  m.node("BatchNormalization", {"c1", "scale", "bias", "mean", "var"}, {"bn"}, "bn");
  m.node("Add", {"bn", "three"}, {"shifted"}, "add3");
  m.node("Clip", {"shifted", "zero", "six"}, {"relu6"}, "clip");
  m.node("Mul", {"bn", "relu6"}, {"product"}, "mul");
  m.node("Div", {"product", "six"}, {"hswish"}, "div6");
  m.node("Conv", {"hswish", "W2"}, {"c2"}, "conv2");
  m.node("Relu", {"c2"}, {"r"}, "relu");
  m.node("Identity", {"r"}, {"y"}, "identity");
  return m.proto();
}

onnx::ModelProto read_model(const std::string& path) {
  onnx::ModelProto proto;
  std::istringstream in(testing::read_text(path));
  EXPECT_TRUE(proto.ParseFromIstream(&in)) << path;
  return proto;
}

std::map<std::string, int64_t> op_counts(const onnx::ModelProto& model) {
  std::map<std::string, int64_t> counts;
  for (const auto& node : model.graph().node())
    ++counts[node.domain().empty() || node.domain() == "ai.onnx" ? node.op_type() : node.domain() + "." + node.op_type()];
  return counts;
}

// The table's rows: first word -> the two cells after it ("Conv" -> {"2", "0"}).
std::map<std::string, std::pair<std::string, std::string>> table_rows(const std::string& out) {
  std::map<std::string, std::pair<std::string, std::string>> rows;
  bool in_table = false;
  for (const std::string& line : lines_of(out)) {
    if (line.find("original") != std::string::npos && line.find("optimized") != std::string::npos &&
        line.find("->") == std::string::npos) {
      in_table = true;
      continue;
    }
    if (!in_table || line.find("---") != std::string::npos) continue;
    if (line.empty()) break;
    // Label, then two right-aligned cells separated by two or more spaces.
    std::vector<std::string> cells;
    size_t pos = line.find_first_not_of(' ');
    while (pos != std::string::npos) {
      size_t end = line.find("  ", pos);
      cells.push_back(line.substr(pos, end == std::string::npos ? std::string::npos : end - pos));
      pos = end == std::string::npos ? end : line.find_first_not_of(' ', end);
    }
    if (cells.size() == 3) rows[cells[0]] = {cells[1], cells[2]};
    else ADD_FAILURE() << "table line with " << cells.size() << " cells: '" << line << "'";
  }
  return rows;
}

// Runs `path` in kiln at level none (the graph exactly as written) on x.
Tensor run_model(const std::string& path, const Tensor& x) {
  SessionOptions options;
  options.threads = 1;
  options.opt_level = OptLevel::kNone;
  Session session = Session::open(path, options);
  return session.run({{"x", x}}).at("y");
}

// BatchNormalization folded into the weights and the fused hard-swish round
// differently from the original's separate ops: a few float ulp of values of
// magnitude ~10, so |got - want| <= 1e-5 + 1e-4 * |want|.
void expect_same_outputs(const std::string& original, const std::string& optimized, const Shape& shape) {
  const Tensor x = random_tensor(DataType::kFloat32, shape, 5);
  const Tensor want = run_model(original, x);
  const Tensor got = run_model(optimized, x);
  ASSERT_EQ(got.shape(), want.shape());
  int64_t bad = 0;
  for (int64_t i = 0; i < want.size(); ++i) {
    const float g = got.data<float>()[i], w = want.data<float>()[i];
    if (!(std::fabs(g - w) <= 1e-5f + 1e-4f * std::fabs(w)) && bad++ < 5)
      ADD_FAILURE() << "element " << i << ": optimized " << g << ", original " << w;
  }
  EXPECT_EQ(bad, 0);
}

class KilnOptimize : public testing::KilnBinaryTest {};

TEST_F(KilnOptimize, WritesAModelThatComputesTheSame) {
  const std::string in = save_model("block.onnx", conv_block_model());
  const std::string out = path("block_opt.onnx");
  KilnResult r = kiln({"optimize", in, out, "--shape", "x=1x3x8x8", "--no-timing"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;

  onnx::ModelProto written = read_model(out);
  EXPECT_EQ(op_counts(written), (std::map<std::string, int64_t>{{"com.kiln.FusedConv", 2}}));
  // The fixed input shape and the inferred output shape are declared.
  graph::Graph g = graph::load_onnx_file(out);
  EXPECT_EQ(g.inputs.at(0).shape_string(), "1x3x8x8");
  EXPECT_EQ(g.outputs.at(0).shape_string(), "1x4x8x8");
  expect_same_outputs(in, out, {1, 3, 8, 8});
  EXPECT_NE(r.out.find("fuse_conv_batchnorm 1"), std::string::npos) << r.out;
}

TEST_F(KilnOptimize, StandardOnlyWritesNoKilnOps) {
  const std::string in = save_model("block.onnx", conv_block_model());
  const std::string out = path("block_std.onnx");
  KilnResult r = kiln({"optimize", in, out, "--shape", "x=1x3x8x8", "--standard-only", "--no-timing"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  onnx::ModelProto written = read_model(out);
  for (const auto& op : written.opset_import()) EXPECT_NE(op.domain(), "com.kiln");
  for (const auto& node : written.graph().node())
    EXPECT_TRUE(node.domain().empty()) << node.name() << " is in domain " << node.domain();
  // The spelled-out hard-swish became one HardSigmoid and a Mul (opset 13 has no HardSwish).
  EXPECT_EQ(op_counts(written),
            (std::map<std::string, int64_t>{{"Conv", 2}, {"HardSigmoid", 1}, {"Mul", 1}, {"Relu", 1}}));
  EXPECT_NE(r.out.find("standard ONNX ops only"), std::string::npos) << r.out;
  expect_same_outputs(in, out, {1, 3, 8, 8});
}

TEST_F(KilnOptimize, TableListsEveryOpTypeAndTheTotals) {
  const std::string in = save_model("block.onnx", conv_block_model());
  const std::string out = path("block_opt.onnx");
  KilnResult r = kiln({"optimize", in, out, "--shape", "x=1x3x8x8"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto rows = table_rows(r.out);
  std::map<std::string, int64_t> before = op_counts(read_model(in)), after = op_counts(read_model(out));
  std::map<std::string, bool> listed;
  for (const auto& [op, count] : before) listed[op] = true;
  for (const auto& [op, count] : after) listed[op] = true;
  for (const auto& [op, unused] : listed) {
    ASSERT_TRUE(rows.count(op)) << op << " missing from the table:\n" << r.out;
    EXPECT_EQ(rows[op].first, std::to_string(before[op])) << op;
    EXPECT_EQ(rows[op].second, std::to_string(after[op])) << op;
  }
  EXPECT_EQ(rows["nodes"], std::make_pair(std::string("9"), std::string("2")));
  // Parameters: W1 108 + B1 4 + W2 16 + BN 4 x 4 + three scalars = 147; after
  // folding: W1 108 + B1 4 + W2 16 = 128.
  EXPECT_EQ(rows["parameters"], std::make_pair(std::string("147"), std::string("128")));
  // MACs: 1x4x8x8 outputs x 27 (conv1) + 1x4x8x8 x 4 (conv2) = 6912 + 1024.
  EXPECT_EQ(rows["MACs"], std::make_pair(std::string("7.94 K"), std::string("7.94 K")));
  EXPECT_EQ(rows.count("file size"), 1u);
  EXPECT_EQ(rows.size(), listed.size() + 4);
  EXPECT_NE(r.out.find("session creation"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("original"), std::string::npos);

  // Without fixed shapes the MACs are unknown.
  KilnResult dynamic = kiln({"optimize", in, path("dynamic.onnx"), "--no-timing"});
  ASSERT_EQ(dynamic.exit_code, 0) << dynamic.err;
  EXPECT_EQ(table_rows(dynamic.out)["MACs"], std::make_pair(std::string("?"), std::string("?"))) << dynamic.out;
}

TEST_F(KilnOptimize, OptLevelNoneOnlyFixesShapes) {
  const std::string in = save_model("block.onnx", conv_block_model());
  const std::string out = path("block_none.onnx");
  KilnResult r = kiln({"optimize", in, out, "--dim", "N=1", "--opt-level", "none", "--no-timing"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(op_counts(read_model(out)), op_counts(read_model(in)));
  EXPECT_EQ(graph::load_onnx_file(out).inputs.at(0).shape_string(), "1x3xHxW");
  expect_same_outputs(in, out, {1, 3, 5, 7});
}

TEST_F(KilnOptimize, HelpNamesTheOptionsAndTheKilnDomain) {
  KilnResult r = kiln({"optimize", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* text : {"--shape", "--dim", "--opt-level", "--standard-only", "com.kiln", "onnxruntime"})
    EXPECT_NE(r.out.find(text), std::string::npos) << text << " missing from:\n" << r.out;
}

TEST_F(KilnOptimize, BadArgumentsGiveOneLineErrors) {
  const std::string in = save_model("block.onnx", conv_block_model());
  const std::string original = testing::read_text(in);
  expect_one_line_error({"optimize"}, 2, "in");
  expect_one_line_error({"optimize", in}, 2, "out");
  expect_one_line_error({"optimize", in, path("o.onnx"), "--opt-level", "max"}, 2, "opt-level");
  expect_one_line_error({"optimize", in, in}, 1, "is the input model");
  expect_one_line_error({"optimize", in, dir_.string() + "/./block.onnx"}, 1, "is the input model");
  EXPECT_EQ(testing::read_text(in), original) << "the input model was changed";
  expect_one_line_error({"optimize", path("missing.onnx"), path("o.onnx")}, 1, "missing.onnx");
  expect_one_line_error({"optimize", in, path("o.onnx"), "--shape", "y=1x3x8x8"}, 1, "no such input");
  expect_one_line_error({"optimize", in, path("o.onnx"), "--shape", "x=1x4x8x8"}, 1, "fixed dimension 1 = 3");
  expect_one_line_error({"optimize", in, path("o.onnx"), "--shape", "x=1xAx8"}, 2, "--shape");
  expect_one_line_error({"optimize", in, path("o.onnx"), "--dim", "C=3"}, 1, "dimension named 'C'");
  expect_one_line_error({"optimize", in, path("no/such/dir/o.onnx")}, 1, "cannot open");
}

}  // namespace
}  // namespace kiln
