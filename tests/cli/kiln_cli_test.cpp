// Runs the built `kiln` binary (path in KILN_BINARY) as a user would: help,
// exit codes, one-line errors, output files and their names, and inspect's
// report. Test models are built here with the ONNX protobuf API, so the tests
// need no model files beyond the ONNX conformance data for one end-to-end case.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "graph/onnx_loader.h"
#include "graph/onnx_tensor.h"
#include "kiln/tensor_io.h"
#include "kiln_binary_test.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using testing::KilnResult;
using testing::lines_of;
using testing::read_text;

const char* const kConformanceData = "/usr/share/libonnx-testdata/data/node";


// --- models -----------------------------------------------------------------

void set_value_info(onnx::ValueInfoProto* value, const std::string& name, int elem_type,
                    const std::vector<std::string>& dims) {
  value->set_name(name);
  auto* tensor_type = value->mutable_type()->mutable_tensor_type();
  tensor_type->set_elem_type(elem_type);
  auto* shape = tensor_type->mutable_shape();
  for (const std::string& d : dims) {
    auto* dim = shape->add_dim();
    if (!d.empty() && std::isdigit(static_cast<unsigned char>(d[0]))) dim->set_dim_value(std::stoll(d));
    else dim->set_dim_param(d);
  }
}

onnx::ModelProto empty_model() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("kiln-cli-test");
  model.set_producer_version("1.0");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  model.mutable_graph()->set_name("test");
  return model;
}

// Graph outputs that are its inputs: runs with no operator at all.
onnx::ModelProto passthrough_model(const std::vector<std::string>& names, const std::vector<std::string>& dims) {
  onnx::ModelProto model = empty_model();
  for (const std::string& name : names) {
    set_value_info(model.mutable_graph()->add_input(), name, onnx::TensorProto::FLOAT, dims);
    set_value_info(model.mutable_graph()->add_output(), name, onnx::TensorProto::FLOAT, dims);
  }
  return model;
}

// x: 1x3x8x8 -> Conv(W: 4x3x3x3, pads 1) -> Relu -> y: 1x4x8x8.
onnx::ModelProto conv_relu_model() {
  onnx::ModelProto model = empty_model();
  auto* g = model.mutable_graph();
  set_value_info(g->add_input(), "x", onnx::TensorProto::FLOAT, {"1", "3", "8", "8"});
  set_value_info(g->add_output(), "y", onnx::TensorProto::FLOAT, {"1", "4", "8", "8"});
  Tensor w = random_tensor(DataType::kFloat32, {4, 3, 3, 3}, 1);
  onnx::TensorProto* init = g->add_initializer();
  graph::tensor_to_proto(w, init);
  init->set_name("W");
  auto* conv = g->add_node();
  conv->set_op_type("Conv");
  conv->set_name("conv");
  conv->add_input("x");
  conv->add_input("W");
  conv->add_output("c");
  auto* pads = conv->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  auto* relu = g->add_node();
  relu->set_op_type("Relu");
  relu->set_name("relu");
  relu->add_input("c");
  relu->add_output("y");
  return model;
}

class KilnCli : public testing::KilnBinaryTest {};

TEST_F(KilnCli, HelpExitsZeroForEveryCommand) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--help"}, {"run", "--help"}, {"inspect", "--help"}, {"-h"}}) {
    KilnResult r = kiln(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << " " << r.err;
    EXPECT_NE(r.out.find("Usage: kiln"), std::string::npos) << r.out;
    EXPECT_TRUE(r.err.empty()) << r.err;
  }
  KilnResult run_help = kiln({"run", "--help"});
  for (const char* option : {"--input", "--shape", "--dim", "--threads", "--runs", "--opt-level", "--output-dir"})
    EXPECT_NE(run_help.out.find(option), std::string::npos) << option << " missing from:\n" << run_help.out;
  KilnResult inspect_help = kiln({"inspect", "--help"});
  for (const char* option : {"--shape", "--dim", "--nodes"})
    EXPECT_NE(inspect_help.out.find(option), std::string::npos) << option << " missing from:\n" << inspect_help.out;
}

TEST_F(KilnCli, UsageErrorsExitTwo) {
  expect_one_line_error({}, 2, "subcommand");
  expect_one_line_error({"frobnicate"}, 2, "unknown command 'frobnicate'");
  expect_one_line_error({"run"}, 2, "model");
  expect_one_line_error({"run", "m.onnx", "--no-such-option"}, 2, "--no-such-option");
  expect_one_line_error({"run", "m.onnx", "--threads", "zero"}, 2, "threads");
  expect_one_line_error({"run", "m.onnx", "--threads", "0"}, 2, "threads");
  expect_one_line_error({"run", "m.onnx", "--opt-level", "fast"}, 2, "opt-level");
}

// Every command that takes a model: no model, an unknown flag, and a --shape
// or --dim that does not parse are a bad command line (exit 2) before any
// work, `sweep` included (it hands --shape on to child processes).
TEST_F(KilnCli, EveryCommandExitsTwoOnABadCommandLine) {
  std::string m = save_model("pass.onnx", passthrough_model({"x"}, {"N", "3"}));
  for (const char* command : {"run", "inspect", "profile", "bench", "sweep", "tune", "optimize"}) {
    SCOPED_TRACE(command);
    expect_one_line_error({command}, 2, "is required");
    // optimize's OUT too: CLI11 reports a missing positional before an unknown flag.
    expect_one_line_error({command, m, path("out.onnx"), "--no-such-flag"}, 2, "--no-such-flag");
    expect_one_line_error({command, m, "--shape", "x=2xx3"}, 2, "bad --shape 'x=2xx3'");
    expect_one_line_error({command, m, "--shape", "x"}, 2, "bad --shape 'x'");
    expect_one_line_error({command, m, "--dim", "N=-1"}, 2, "bad --dim 'N=-1'");
  }
  expect_one_line_error({"optimize", m}, 2, "is required");  // OUT missing
  expect_one_line_error({"info", "extra"}, 2, "extra");
  expect_one_line_error({"--no-such-flag"}, 2, "subcommand is required");
}

// An ISA name that is not a level is reported as an error of where it came
// from, with the valid names, before any node is built: KILN_ISA (exit 1, the
// environment is not the command line) for every command that builds a
// session or folds constants, and sweep's --isa (exit 2).
TEST_F(KilnCli, UnknownIsaNamesItsSource) {
  std::string m = save_model("conv.onnx", conv_relu_model());
  const std::string env_message =
      "kiln: error: the environment variable KILN_ISA='avx' is not an instruction-set level kiln knows; use one of "
      "sse2, sse41, avx2, avx512 (or unset it for the best level this CPU has)\n";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"run", m}, {"bench", m, "--runs", "1"}, {"profile", m, "--runs", "1"},
        {"sweep", m, "--runs", "1"}, {"tune", m, "--budget", "1"}, {"optimize", m, path("out.onnx")}}) {
    KilnResult r = kiln(args, "KILN_ISA=avx");
    EXPECT_EQ(r.exit_code, 1) << args[0] << "\n" << r.err;
    EXPECT_EQ(r.err, env_message) << args[0];
    EXPECT_EQ(r.err.find("conv"), std::string::npos) << "names a node: " << r.err;
  }
  EXPECT_FALSE(fs::exists(path("out.onnx")));
  EXPECT_FALSE(fs::exists(m + ".kiln-tune.json"));
  KilnResult info = kiln({"info"}, "KILN_ISA=avx");
  EXPECT_NE(info.out.find("ISA selected: none: the environment variable KILN_ISA='avx' is not"), std::string::npos)
      << info.out;
  // inspect builds no session to run: its counts do not depend on the ISA.
  KilnResult inspect = kiln({"inspect", m}, "KILN_ISA=avx");
  EXPECT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_NE(inspect.out.find("MACs        6.91 K (6,912)"), std::string::npos) << inspect.out;

  KilnResult sweep = kiln({"sweep", m, "--isa", "sse2,avx", "--runs", "1"}, "env -u KILN_ISA");
  EXPECT_EQ(sweep.exit_code, 2) << sweep.err;
  EXPECT_EQ(sweep.err,
            "kiln: error: --isa='avx' is not an instruction-set level kiln knows; use one of sse2, sse41, avx2, "
            "avx512\n");
}

// KILN_CACHES replaces the detected sizes (and the GEMM blocking with them);
// a malformed value is one error line, exit 1.
TEST_F(KilnCli, InfoFollowsKilnCaches) {
  KilnResult r = kiln({"info"}, "KILN_CACHES=32,256,0");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Caches:       L1d 32 KiB, L2 256 KiB (per core), L3 none (shared); from KILN_CACHES"),
            std::string::npos)
      << r.out;
  KilnResult bad = kiln({"info"}, "KILN_CACHES=32,256");
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  std::vector<std::string> lines = lines_of(bad.err);
  ASSERT_EQ(lines.size(), 1u) << bad.err;
  EXPECT_NE(lines[0].find("KILN_CACHES='32,256'"), std::string::npos) << lines[0];
}

TEST_F(KilnCli, BadModelFilesGiveOneLineAndExitOne) {
  expect_one_line_error({"run", path("missing.onnx")}, 1, "missing.onnx");
  expect_one_line_error({"inspect", path("missing.onnx")}, 1, "missing.onnx");
  std::ofstream(path("text.onnx")) << "this is not a protobuf \xff\xff\xff\xff\xff";
  expect_one_line_error({"run", path("text.onnx")}, 1, "not a valid ONNX model");
  std::string full;
  conv_relu_model().SerializeToString(&full);
  std::ofstream(path("truncated.onnx"), std::ios::binary) << full.substr(0, full.size() / 2);
  expect_one_line_error({"run", path("truncated.onnx")}, 1, "truncated or not an ONNX file");
  expect_one_line_error({"inspect", path("truncated.onnx")}, 1, "truncated or not an ONNX file");
  fs::create_directories(path("folder.onnx"));
  expect_one_line_error({"run", path("folder.onnx")}, 1, "folder");
}

TEST_F(KilnCli, UnsupportedOpIsNamed) {
  onnx::ModelProto model = passthrough_model({"x"}, {"2"});
  auto* node = model.mutable_graph()->add_node();
  node->set_op_type("KilnNoSuchOp");
  node->add_input("x");
  node->add_output("z");
  set_value_info(model.mutable_graph()->add_output(), "z", onnx::TensorProto::FLOAT, {"2"});
  std::string m = save_model("unsupported.onnx", model);
  expect_one_line_error({"run", m}, 1, "KilnNoSuchOp");
  // inspect still describes the model and says why it has no shapes.
  KilnResult r = kiln({"inspect", m});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("op types    1 (1 not supported by kiln yet)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("KilnNoSuchOp  1       not supported"), std::string::npos) << r.out;
}

TEST_F(KilnCli, VersionPrintsTheProjectVersion) {
  KilnResult r = kiln({"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_match(r.out, std::regex("kiln [0-9]+\\.[0-9]+\\.[0-9]+\n"))) << r.out;
  r = kiln({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("subcommand is required"), std::string::npos) << r.err;
}

// Exit 1 for a bad model or input, 2 for a bad command line (an option value
// that does not parse included), as `kiln --help` says.
TEST_F(KilnCli, BadInputsGiveOneLineAndExitOneOrTwo) {
  std::string m = save_model("pass.onnx", passthrough_model({"x"}, {"N", "3"}));
  expect_one_line_error({"run", m}, 1, "--shape x=");  // dynamic and not given
  expect_one_line_error({"run", m, "--shape", "x=2xx3"}, 2, "bad --shape");
  expect_one_line_error({"run", m, "--shape", "x=2x-3"}, 2, "bad --shape");
  expect_one_line_error({"run", m, "--shape", "x"}, 2, "bad --shape");
  expect_one_line_error({"run", m, "--shape", "y=2x3"}, 1, "'y'");
  expect_one_line_error({"run", m, "--shape", "x=2x4"}, 1, "2x4");  // fixed dim 3
  expect_one_line_error({"run", m, "--dim", "N=two"}, 2, "bad --dim");
  expect_one_line_error({"run", m, "--input", "y=" + path("y.npy")}, 1, "no such input");
  expect_one_line_error({"run", m, "--input", "x=" + path("absent.npy")}, 1, "absent.npy");
  std::ofstream(path("plain_file")) << "x";
  expect_one_line_error({"run", m, "--shape", "x=2x3", "--output-dir", path("plain_file")}, 1, "plain_file");
  save_npy(path("wide.npy"), Tensor::zeros(DataType::kFloat32, {2, 4}));
  expect_one_line_error({"run", m, "--input", "x=" + path("wide.npy")}, 1, "shape");
  save_npy(path("ints.npy"), Tensor::zeros(DataType::kInt32, {2, 3}));
  expect_one_line_error({"run", m, "--input", "x=" + path("ints.npy")}, 1, "int32");
  std::ofstream(path("bad.npy"), std::ios::binary) << "\x93NUMPY\x01";
  expect_one_line_error({"run", m, "--input", "x=" + path("bad.npy")}, 1, "bad.npy");
  expect_one_line_error({"run", m, "--input", "x=" + path("x.csv")}, 1, ".csv");
}

TEST_F(KilnCli, RunWritesSanitizedOutputFiles) {
  // Two outputs whose names need sanitizing; both pass the inputs through.
  std::string m = save_model("names.onnx", passthrough_model({"a/b:c", "feat.map-1"}, {"N", "3"}));
  std::string out_dir = path("out");
  KilnResult r = kiln({"run", m, "--dim", "N=2", "--output-dir", out_dir, "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(out_dir)) files.push_back(entry.path().filename().string());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"a_b_c.npy", "feat.map-1.npy"}));

  // The output is the deterministic pseudo-random input, seeded by the input's name.
  Tensor written = load_npy(out_dir + "/a_b_c.npy");
  Tensor expected = random_tensor(DataType::kFloat32, {2, 3}, seed_from_name("a/b:c"));
  ASSERT_EQ(written.shape(), expected.shape());
  for (int64_t i = 0; i < expected.size(); ++i) EXPECT_EQ(written.data<float>()[i], expected.data<float>()[i]) << i;

  // The report names every output with dtype and shape, and both timings.
  EXPECT_NE(r.out.find("output   a/b:c: float32 2x3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("output   feat.map-1: float32 2x3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("session  created in"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("graph    all 0 -> 0 nodes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("run      "), std::string::npos) << r.out;
}

TEST_F(KilnCli, RunSavesBfloat16AsFloat32) {
  onnx::ModelProto model = empty_model();
  set_value_info(model.mutable_graph()->add_input(), "h", onnx::TensorProto::BFLOAT16, {"5"});
  set_value_info(model.mutable_graph()->add_output(), "h", onnx::TensorProto::BFLOAT16, {"5"});
  KilnResult r = kiln({"run", save_model("bf16.onnx", model), "-o", path("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(as float32: .npy has no bfloat16)"), std::string::npos) << r.out;
  Tensor written = load_npy(path("out/h.npy"));
  Tensor expected = random_tensor(DataType::kBFloat16, {5}, seed_from_name("h"));
  ASSERT_EQ(written.dtype(), DataType::kFloat32);
  for (int64_t i = 0; i < 5; ++i) EXPECT_EQ(written.data<float>()[i], expected.value_as_double(i)) << i;
}

TEST_F(KilnCli, RunRepeatsWithRuns) {
  std::string m = save_model("pass.onnx", passthrough_model({"x"}, {"4"}));
  KilnResult r = kiln({"run", m, "--runs", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("run      3 runs: first "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(", median "), std::string::npos) << r.out;
  expect_one_line_error({"run", m, "--runs", "0"}, 2, "runs");
}

TEST_F(KilnCli, RunRefusesOutputNamesThatCollide) {
  std::string m = save_model("collide.onnx", passthrough_model({"a/b", "a:b"}, {"2"}));
  expect_one_line_error({"run", m, "--output-dir", path("out")}, 1, "a_b.npy");
  EXPECT_FALSE(fs::exists(path("out")));
  // Without --output-dir nothing is written, so nothing collides.
  EXPECT_EQ(kiln({"run", m}).exit_code, 0);
}

TEST_F(KilnCli, RunReadsNpyAndPbInputs) {
  std::string m = save_model("pass.onnx", passthrough_model({"x"}, {"2", "3"}));
  Tensor values = Tensor::from_floats({2, 3}, {1, -2, 3.5f, 4, 5, 6});
  save_npy(path("x.npy"), values);
  onnx::TensorProto proto;
  graph::tensor_to_proto(values, &proto);
  std::ofstream(path("x.pb"), std::ios::binary) << proto.SerializeAsString();
  for (const char* file : {"x.npy", "x.pb"}) {
    std::string out_dir = path(std::string("out_") + file);
    KilnResult r = kiln({"run", m, "--input", std::string("x=") + path(file), "-o", out_dir});
    ASSERT_EQ(r.exit_code, 0) << file << ": " << r.err;
    Tensor written = load_npy(out_dir + "/x.npy");
    ASSERT_EQ(written.shape(), values.shape());
    for (int64_t i = 0; i < values.size(); ++i) EXPECT_EQ(written.data<float>()[i], values.data<float>()[i]);
    EXPECT_NE(r.out.find("min -2  max 6  mean 2.91667  [1, -2, 3.5, 4, 5, ...]"), std::string::npos) << r.out;
  }
}

TEST_F(KilnCli, InspectReportsDeclaredFacts) {
  std::string m = save_model("conv.onnx", conv_relu_model());
  KilnResult r = kiln({"inspect", m});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* expected : {"producer    kiln-cli-test 1.0", "opsets      ai.onnx 17", "x  float32  1x3x8x8",
                               "y  float32  1x4x8x8", "parameters  108 (432 B) in 1 initializers and 0 Constant nodes", "nodes       2",
                               "  Conv  1", "  Relu  1"})
    EXPECT_NE(r.out.find(expected), std::string::npos) << "'" << expected << "' missing from:\n" << r.out;

  std::string dynamic = save_model("dyn.onnx", passthrough_model({"x"}, {"batch", "3"}));
  r = kiln({"inspect", dynamic});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("x  float32  batchx3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MACs        0 (no Conv, ConvTranspose, Gemm or MatMul nodes)"), std::string::npos) << r.out;
}

TEST_F(KilnCli, InspectCountsMacsFromStaticShapes) {
  std::string m = save_model("conv.onnx", conv_relu_model());
  KilnResult r = kiln({"inspect", m, "--nodes", "--no-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // 1x4x8x8 outputs, each 3x3x3 multiply-accumulates.
  EXPECT_NE(r.out.find("MACs        6.91 K (6,912): Conv 6.91 K"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  conv  Conv  1x3x8x8, 4x3x3x3 -> 1x4x8x8  6.91 K"), std::string::npos) << r.out;

  // One node of each other counted op, each fed by its own graph input.
  onnx::ModelProto model = empty_model();
  auto* g = model.mutable_graph();
  auto add_node = [&](const std::string& op, const std::vector<std::string>& inputs, const std::string& output) {
    auto* node = g->add_node();
    node->set_op_type(op);
    node->set_name(op);
    for (const auto& in : inputs) node->add_input(in);
    node->add_output(output);
    set_value_info(g->add_output(), output, onnx::TensorProto::FLOAT, {});
    g->mutable_output()->rbegin()->mutable_type()->mutable_tensor_type()->clear_shape();
    return node;
  };
  auto add_input = [&](const std::string& name, const std::vector<std::string>& dims) {
    set_value_info(g->add_input(), name, onnx::TensorProto::FLOAT, dims);
  };
  add_input("a", {"2", "5", "7"});
  add_input("b", {"7", "3"});
  add_node("MatMul", {"a", "b"}, "ab");  // 2x5x3 outputs x K=7: 210
  add_input("ga", {"6", "4"});
  add_input("gb", {"6", "5"});
  auto* gemm = add_node("Gemm", {"ga", "gb"}, "g");  // transA: 4x5 outputs x K=6: 120
  auto* trans_a = gemm->add_attribute();
  trans_a->set_name("transA");
  trans_a->set_type(onnx::AttributeProto::INT);
  trans_a->set_i(1);
  add_input("tx", {"1", "2", "3", "3"});
  add_input("tw", {"2", "3", "2", "2"});
  add_node("ConvTranspose", {"tx", "tw"}, "t");  // 18 inputs x 3x2x2: 216
  r = kiln({"inspect", save_model("macs.onnx", model), "--nodes", "--no-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("MACs        546 (546): ConvTranspose 216, MatMul 210, Gemm 120"), std::string::npos) << r.out;
}

// Range has no static shape rule, so the MatMul it feeds has unknown shapes
// until inspect runs the model once.
TEST_F(KilnCli, InspectRunsTheModelForShapesInferenceMisses) {
  onnx::ModelProto model = empty_model();
  auto* g = model.mutable_graph();
  set_value_info(g->add_input(), "a", onnx::TensorProto::FLOAT, {"4", "6"});
  set_value_info(g->add_output(), "y", onnx::TensorProto::FLOAT, {});
  g->mutable_output(0)->mutable_type()->mutable_tensor_type()->clear_shape();
  for (auto [name, value] : {std::pair<const char*, float>{"start", 0.f}, {"limit", 6.f}, {"delta", 1.f}}) {
    onnx::TensorProto* init = g->add_initializer();
    graph::tensor_to_proto(Tensor::from_floats({}, {value}), init);
    init->set_name(name);
  }
  auto* range = g->add_node();
  range->set_op_type("Range");
  range->set_name("range");
  for (const char* in : {"start", "limit", "delta"}) range->add_input(in);
  range->add_output("r");
  auto* matmul = g->add_node();
  matmul->set_op_type("MatMul");
  matmul->set_name("matmul");
  matmul->add_input("a");
  matmul->add_input("r");
  matmul->add_output("y");
  std::string m = save_model("range.onnx", model);

  KilnResult r = kiln({"inspect", m, "--no-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\nMACs        unknown (not run (--no-run))\n"), std::string::npos) << r.out;
  // A Range whose inputs disagree in type cannot run; inspect says so and still exits 0.
  onnx::ModelProto broken = model;
  broken.mutable_graph()->mutable_initializer(1)->set_data_type(onnx::TensorProto::INT32);
  r = kiln({"inspect", save_model("broken.onnx", broken)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\nMACs        unknown (the model cannot run: node 'range' (Range)"), std::string::npos) << r.out;

  r = kiln({"inspect", m, "--nodes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Range and MatMul are operators kiln claims: "not supported" here is a regression, not a skip.
  ASSERT_EQ(r.out.find("not supported"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("shapes      from one run on pseudo-random inputs (a: 4x6, "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MACs        24 (24): MatMul 24"), std::string::npos) << r.out;  // 4 outputs x K=6
  EXPECT_NE(r.out.find("  matmul  MatMul  4x6, 6 -> 4  24"), std::string::npos) << r.out;
}

TEST_F(KilnCli, InspectSaysWhyShapesAreUnknown) {
  onnx::ModelProto model = conv_relu_model();
  auto* dims = model.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  dims->mutable_dim(2)->set_dim_param("H");
  dims->mutable_dim(3)->set_dim_param("W");
  std::string m = save_model("dynamic_conv.onnx", model);
  KilnResult r = kiln({"inspect", m});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("x  float32  1x3xHxW"), std::string::npos) << r.out;
  // Not "MACs 0": nothing could be counted, and the line says which dims are missing.
  EXPECT_NE(r.out.find("\nMACs        unknown (input 'x' has dynamic dims H, W (1x3xHxW); give --shape x=DIMS or "
                       "--dim H=N)\n"),
            std::string::npos)
      << r.out;
  r = kiln({"inspect", m, "--no-run", "--dim", "H=8"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\nMACs        unknown (not run (--no-run))\n"), std::string::npos) << r.out;

  // A second Conv on an input with fixed dims is counted; the total is then a
  // lower bound and says so, and the note names the input still dynamic.
  auto* g = model.mutable_graph();
  set_value_info(g->add_input(), "x2", onnx::TensorProto::FLOAT, {"1", "3", "8", "8"});
  set_value_info(g->add_output(), "y2", onnx::TensorProto::FLOAT, {"1", "4", "8", "8"});
  onnx::NodeProto* conv2 = g->add_node();
  *conv2 = g->node(0);
  conv2->set_name("conv2");
  conv2->set_input(0, "x2");
  conv2->set_output(0, "y2");
  r = kiln({"inspect", save_model("half_dynamic.onnx", model)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\nMACs        at least 6.91 K (6,912): Conv 6.91 K\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 of 2 Conv/ConvTranspose/Gemm/MatMul nodes have unknown shapes and are not counted: "
                       "input 'x' has dynamic dims H, W (1x3xHxW); give --shape x=DIMS or --dim H=N"),
            std::string::npos)
      << r.out;
  r = kiln({"inspect", m, "--dim", "H=8", "--dim", "W=8"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(6,912)"), std::string::npos) << r.out;
  r = kiln({"inspect", m, "--shape", "x=1x3x8x8"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(6,912)"), std::string::npos) << r.out;
  // A bad --shape or --dim is an error, not a note.
  expect_one_line_error({"inspect", m, "--shape", "x=1x4x8x8"}, 1, "1x4x8x8");
  expect_one_line_error({"inspect", m, "--shape", "y=1x3x8x8"}, 1, "no such input");
  expect_one_line_error({"inspect", m, "--dim", "Z=8"}, 1, "'Z'");
}

// x -> Relu -> Softsign -> Transpose -> y: Softsign writes over Relu's
// output, so the arena holds one 1x3x8x8 float tensor (768 B). (Softsign is
// not an op FusedElementwise computes, so fuse_elementwise leaves the two
// nodes apart; Sigmoid would be fused with the Relu.)
TEST_F(KilnCli, RunAndInspectPrintTheMemoryPlan) {
  onnx::ModelProto model = empty_model();
  auto* g = model.mutable_graph();
  set_value_info(g->add_input(), "x", onnx::TensorProto::FLOAT, {"1", "3", "8", "8"});
  set_value_info(g->add_output(), "y", onnx::TensorProto::FLOAT, {});
  g->mutable_output(0)->mutable_type()->mutable_tensor_type()->clear_shape();
  const std::vector<std::array<const char*, 3>> chain = {{"Relu", "x", "a"}, {"Softsign", "a", "b"}, {"Transpose", "b", "y"}};
  for (const auto& [op, in, out] : chain) {
    auto* node = g->add_node();
    node->set_op_type(op);
    node->set_name(op);
    node->add_input(in);
    node->add_output(out);
  }
  std::string m = save_model("chain.onnx", model);
  const std::string plan = "arena 768 B for 2 values (1 in place), largest live set 768 B (arena 1.00x of it); 1.5 KiB without reuse";
  KilnResult r = kiln({"inspect", m});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("memory plan " + plan + " (opt level all, "), std::string::npos) << r.out;
  r = kiln({"run", m});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("memory   " + plan + "\n"), std::string::npos) << r.out;

  // Without a known input shape there is no plan, and inspect says why.
  auto* dims = g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  dims->mutable_dim(2)->set_dim_param("H");
  r = kiln({"inspect", save_model("chain_dynamic.onnx", model)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("memory plan not planned: input 'x' has dynamic dims H (1x3xHx8); give --shape x=DIMS or --dim H=N"), std::string::npos) << r.out;
}

TEST_F(KilnCli, InspectCountsConstantNodeWeights) {
  onnx::ModelProto model = passthrough_model({"x"}, {"2"});
  auto* node = model.mutable_graph()->add_node();
  node->set_op_type("Constant");
  node->add_output("k");
  auto* value = node->add_attribute();
  value->set_name("value");
  value->set_type(onnx::AttributeProto::TENSOR);
  graph::tensor_to_proto(Tensor::zeros(DataType::kFloat32, {2, 3}), value->mutable_t());
  set_value_info(model.mutable_graph()->add_output(), "k", onnx::TensorProto::FLOAT, {"2", "3"});
  KilnResult r = kiln({"inspect", save_model("constant.onnx", model)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("parameters  6 (24 B) in 0 initializers and 1 Constant nodes"), std::string::npos) << r.out;
}

// Conformance models run through the command line: inputs from .pb files,
// every output written to <name>.npy and equal to the reference output.
TEST_F(KilnCli, RunsConformanceModels) {
  // Split, Conv and Relu are operators kiln claims, and libonnx-testdata is
  // installed by scripts/install_deps.sh: a missing file or an "unsupported
  // operator" is a failure here, never a skip.
  for (const char* name : {"test_split_equal_parts_1d", "test_conv_with_strides_padding", "test_relu"}) {
    fs::path test = fs::path(kConformanceData) / name;
    ASSERT_TRUE(fs::exists(test / "model.onnx")) << "no ONNX conformance data at " << test;
    graph::Graph g = graph::load_onnx_file((test / "model.onnx").string());
    fs::path data = test / "test_data_set_0";
    std::string out_dir = path(std::string("out_") + name);
    std::vector<std::string> args = {"run", (test / "model.onnx").string(), "--output-dir", out_dir};
    for (size_t i = 0; i < g.inputs.size(); ++i)
      args.insert(args.end(), {"--input", g.inputs[i].name + "=" + (data / ("input_" + std::to_string(i) + ".pb")).string()});
    KilnResult r = kiln(args);
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    std::vector<std::string> expected_files, files;
    for (const auto& output : g.outputs) expected_files.push_back(output.name + ".npy");
    for (const auto& entry : fs::directory_iterator(out_dir)) files.push_back(entry.path().filename().string());
    std::sort(expected_files.begin(), expected_files.end());
    std::sort(files.begin(), files.end());
    EXPECT_EQ(files, expected_files) << name;
    for (size_t i = 0; i < g.outputs.size(); ++i) {
      Tensor written = load_npy(out_dir + "/" + g.outputs[i].name + ".npy");
      Tensor expected = graph::load_tensor_pb((data / ("output_" + std::to_string(i) + ".pb")).string());
      ASSERT_EQ(written.dtype(), expected.dtype()) << name;
      ASSERT_EQ(written.shape(), expected.shape()) << name;
      // The stored outputs come from numpy in another summation order: a few
      // float32 roundings of O(1) values (~1e-7 each) apart, far inside this bound.
      for (int64_t k = 0; k < expected.size(); ++k)
        EXPECT_NEAR(written.value_as_double(k), expected.value_as_double(k), 1e-5 + 1e-4 * std::abs(expected.value_as_double(k)))
            << name << " output " << g.outputs[i].name << " element " << k;
    }
  }
}

}  // namespace
}  // namespace kiln
