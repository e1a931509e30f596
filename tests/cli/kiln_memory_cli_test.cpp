// --max-memory on the commands that run a model, and the inputs kiln makes or
// loads counting against it before they are allocated. The huge-input runs go
// under `ulimit -v` well below the input's size: a command that made the input
// before checking it would die of it ("out of memory") instead of naming it.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kiln/error.h"
#include "kiln/tensor_io.h"
#include "kiln_binary_test.h"
#include "tools/cli_common.h"

namespace kiln {
namespace {

using testing::KilnResult;
using testing::lines_of;

// x -> Relu -> ... -> y (`relus` nodes, the last of two or more a Softmax; the values between them go in the
// memory arena), x declared float32 of shape `dims`.
onnx::ModelProto relu_model(const std::vector<int64_t>& dims, int relus = 1) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  auto* g = model.mutable_graph();
  g->set_name("relu");
  auto declare = [&](onnx::ValueInfoProto* value, const std::string& name) {
    value->set_name(name);
    auto* type = value->mutable_type()->mutable_tensor_type();
    type->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) type->mutable_shape()->add_dim()->set_dim_value(d);
  };
  declare(g->add_input(), "x");
  declare(g->add_output(), "y");
  for (int i = 0; i < relus; ++i) {
    auto* node = g->add_node();
    // A longer chain ends in a Softmax: fuse_elementwise would make two
    // Relus one node, and the value between them (the arena) would go.
    node->set_op_type(i > 0 && i == relus - 1 ? "Softmax" : "Relu");
    node->set_name("relu" + std::to_string(i));
    node->add_input(i == 0 ? "x" : "v" + std::to_string(i));
    node->add_output(i == relus - 1 ? "y" : "v" + std::to_string(i + 1));
  }
  return model;
}

// About 1.5 GiB of address space: enough for kiln, far from the 4.5 GiB input.
// Not under AddressSanitizer (the asan stage builds these tests and kiln with
// it): its shadow memory needs terabytes of address space, so there the tests
// keep only the exact message check.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
const std::string kSmallAddressSpace;
#else
const std::string kSmallAddressSpace = "ulimit -v 1500000 &&";
#endif

const std::string kHugeInputError =
    "input 'x' (float32 1x3x20000x20000) needs 4.5 GiB (4800000000 bytes), over the session's memory budget of "
    "1.0 GiB (1073741824 bytes) (0 bytes already in use; --max-memory)";

class KilnMemory : public testing::KilnBinaryTest {
 protected:
  // Exit 1 and one error line containing `needle`, under the small address space.
  void expect_fails_small(const std::vector<std::string>& args, const std::string& needle) const {
    KilnResult r = kiln(args, kSmallAddressSpace);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    std::vector<std::string> lines = lines_of(r.err);
    ASSERT_EQ(lines.size(), 1u) << r.err;
    EXPECT_EQ(lines[0].rfind("kiln: error: ", 0), 0u) << lines[0];
    EXPECT_NE(lines[0].find(needle), std::string::npos) << "expected '" << needle << "' in: " << lines[0];
  }
};

TEST_F(KilnMemory, DeclaredHugeInputFailsBeforeItIsMade) {
  const std::string model = save_model("huge.onnx", relu_model({1, 3, 20000, 20000}));
  expect_fails_small({"run", model, "--max-memory", "1G"}, kHugeInputError);
  expect_fails_small({"bench", model, "--max-memory", "1G"}, kHugeInputError);
  expect_fails_small({"profile", model, "--max-memory", "1024M"}, kHugeInputError);
  // sweep and tune measure in child processes, which get the same budget.
  expect_fails_small({"sweep", model, "--max-memory", "1G", "--threads", "1", "--runs", "1"}, kHugeInputError);
}

TEST_F(KilnMemory, InspectBuildsItsSessionsWithinTheBudget) {
  // Relu, Softmax: the value between them (480000 bytes) is the memory arena.
  const std::string model = save_model("relu2.onnx", relu_model({1, 3, 200, 200}, 2));
  KilnResult r = kiln({"inspect", model, "--max-memory", "100K"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("not planned: the model cannot be prepared: the memory arena of the model's 1 planned "
                       "intermediate values (largest 'v1' float32 1x3x200x200 468.8 KiB) needs 468.8 KiB (480000 "
                       "bytes), over the session's memory budget of 100.0 KiB (102400 bytes) (0 bytes already in use; "
                       "--max-memory)"),
            std::string::npos)
      << r.out;
  r = kiln({"inspect", model, "--max-memory", "1M"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("arena 468.8 KiB for 1 values"), std::string::npos) << r.out;
}

TEST_F(KilnMemory, InputFilesAreCheckedBeforeTheyAreRead) {
  const std::string model = save_model("relu.onnx", relu_model({1, 3, 200, 200}));
  const std::string npy = path("x.npy");
  save_npy(npy, random_tensor(DataType::kFloat32, {1, 3, 200, 200}, 1));
  expect_fails_small({"run", model, "--input", "x=" + npy, "--max-memory", "100K"},
                     "input 'x' from " + npy + " needs about 468.9 KiB");
  KilnResult ok = kiln({"run", model, "--input", "x=" + npy, "--max-memory", "2M"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST_F(KilnMemory, TheSettingsLineNamesTheBudget) {
  const std::string model = save_model("relu.onnx", relu_model({1, 3, 8, 8}));
  KilnResult r = kiln({"run", model, "--max-memory", "64M", "--no-tune"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("max-memory 64M (from --max-memory)"), std::string::npos) << r.out;
  r = kiln({"bench", model, "--no-tune", "--runs", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("max-memory available (default)"), std::string::npos) << r.out;
  // Too small for the run's own tensors: the node's output is named.
  expect_fails_small({"run", model, "--max-memory", "1K"}, "over the session's memory budget of 1.0 KiB");
}

TEST_F(KilnMemory, BadSizesAreUsageErrors) {
  const std::string model = save_model("relu.onnx", relu_model({1, 3, 8, 8}));
  for (const char* size : {"lots", "1X", "-1G", "0", "1.G", "99999999999999999999"})
    expect_one_line_error({"run", model, "--max-memory", size}, 2, "--max-memory");
  expect_one_line_error({"bench", model, "--max-memory", "12Q"}, 2, "bad size '12Q': unknown unit");
  expect_one_line_error({"tune", model, "--max-memory", "0"}, 2, "bad size '0': the budget must be at least 1 byte");
}

std::string error_of_size(const std::string& text) {
  try {
    cli::parse_byte_size(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ByteSize, ParsesBytesAndBinarySuffixes) {
  EXPECT_EQ(cli::parse_byte_size("1"), 1u);
  EXPECT_EQ(cli::parse_byte_size("1073741824"), 1073741824u);
  EXPECT_EQ(cli::parse_byte_size("512K"), 512u << 10);
  EXPECT_EQ(cli::parse_byte_size("512M"), 512u << 20);
  EXPECT_EQ(cli::parse_byte_size("512m"), 512u << 20);
  EXPECT_EQ(cli::parse_byte_size("1G"), 1u << 30);
  EXPECT_EQ(cli::parse_byte_size("1GB"), 1u << 30);
  EXPECT_EQ(cli::parse_byte_size("1GiB"), 1u << 30);
  EXPECT_EQ(cli::parse_byte_size("1.5G"), 3u << 29);
  EXPECT_EQ(cli::parse_byte_size("2T"), uint64_t{2} << 40);
  EXPECT_EQ(cli::parse_byte_size("100B"), 100u);
  EXPECT_EQ(cli::parse_byte_size("18446744073709551615"), UINT64_MAX);
}

TEST(ByteSize, RejectsGarbageZeroAndOverflow) {
  EXPECT_EQ(error_of_size(""), "bad size '': expected a number (write bytes, or a number with K, M, G or T, e.g. "
                               "512M or 1G)");
  for (const char* text : {"G", "-1", "+1", " 1G", "1..5G", ".5G", "1.G"})
    EXPECT_NE(error_of_size(text).find("expected a number"), std::string::npos) << text << ": " << error_of_size(text);
  for (const char* text : {"1X", "1GG", "1G ", "1e9", "1KiBB", "1P"})
    EXPECT_NE(error_of_size(text).find("unknown unit"), std::string::npos) << text << ": " << error_of_size(text);
  EXPECT_NE(error_of_size("0").find("at least 1 byte"), std::string::npos);
  EXPECT_NE(error_of_size("0.0001K").find("at least 1 byte"), std::string::npos);
  EXPECT_NE(error_of_size("18446744073709551616").find("too large"), std::string::npos);
  EXPECT_NE(error_of_size("16777216T").find("too large"), std::string::npos);
}

}  // namespace
}  // namespace kiln
