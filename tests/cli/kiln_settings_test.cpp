// Where `kiln run` (also with --image/--images), `bench`, `profile` and
// `sweep` take threads, opt-level and ISA from: a flag given on the command
// line, else MODEL.kiln-tune.json (unless --no-tune), else the default, with
// KILN_ISA before the tune file for the ISA. Runs the built binary on a tiny
// Conv+Relu model; the tune files are written here, with values the defaults
// never take, so each source shows in what the session did.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "graph/onnx_tensor.h"
#include "kiln/image.h"
#include "kiln/session.h"
#include "kiln/tensor_io.h"
#include "kiln_binary_test.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::KilnResult;
using testing::lines_of;
using testing::read_text;

// Runs with KILN_ISA unset unless a test sets it: the ISA's sources are under test.
const std::string kNoIsaEnv = "env -u KILN_ISA";

// x: 1x4x8x8 -> Conv(4, 1x1) -> Relu -> y. At opt-level all the Relu fuses
// into the Conv (2 -> 1 nodes); at none nothing changes (2 -> 2).
onnx::ModelProto conv_relu_model() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("kiln-settings-test");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  auto* g = model.mutable_graph();
  g->set_name("conv_relu");
  auto set_info = [](onnx::ValueInfoProto* value, const std::string& name) {
    value->set_name(name);
    auto* type = value->mutable_type()->mutable_tensor_type();
    type->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : {1, 4, 8, 8}) type->mutable_shape()->add_dim()->set_dim_value(d);
  };
  set_info(g->add_input(), "x");
  set_info(g->add_output(), "y");
  onnx::TensorProto* w = g->add_initializer();
  graph::tensor_to_proto(random_tensor(DataType::kFloat32, {4, 4, 1, 1}, 7), w);
  w->set_name("W");
  auto* conv = g->add_node();
  conv->set_op_type("Conv");
  conv->set_name("conv");
  conv->add_input("x");
  conv->add_input("W");
  conv->add_output("c");
  auto* relu = g->add_node();
  relu->set_op_type("Relu");
  relu->set_name("relu");
  relu->add_input("c");
  relu->add_output("y");
  return model;
}

// An image model with no nodes (the input is the output), for --image/--images.
onnx::ModelProto image_passthrough_model() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  auto* g = model.mutable_graph();
  g->set_name("passthrough");
  for (onnx::ValueInfoProto* value : {g->add_input(), g->add_output()}) {
    value->set_name("img");
    auto* type = value->mutable_type()->mutable_tensor_type();
    type->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : {1, 6, 5, 3}) type->mutable_shape()->add_dim()->set_dim_value(d);
  }
  return model;
}

class KilnSettings : public testing::KilnBinaryTest {
 protected:
  void SetUp() override {
    KilnBinaryTest::SetUp();
    defaults_threads = physical_core_count();
    tuned_threads = defaults_threads + 1;
  }

  // A tune file next to `model` with threads one above the default, opt-level
  // none and ISA sse2 (every x86-64 CPU has it): none of them defaults.
  std::string write_tune_file(const std::string& model) const {
    json tune = {{"kiln_tune_version", 1}, {"model", model},     {"shape", json::object()},
                 {"threads", tuned_threads}, {"opt_level", "none"}, {"isa", "sse2"}};
    std::string file = model + ".kiln-tune.json";
    std::ofstream(file) << tune.dump(2);
    return file;
  }

  // The one "settings" line of a report (prefix "settings" or "Settings:").
  static std::string settings_line(const std::string& out) {
    std::string found;
    int count = 0;
    for (const std::string& line : lines_of(out))
      if (line.rfind("settings ", 0) == 0 || line.rfind("Settings: ", 0) == 0) found = line, ++count;
    EXPECT_EQ(count, 1) << "expected one settings line in:\n" << out;
    return found;
  }

  // `kiln` with args, expecting success; returns the settings line.
  std::string settings_of(const std::vector<std::string>& args, const std::string& env = kNoIsaEnv) {
    KilnResult r = kiln(args, env);
    std::string shown;
    for (const std::string& a : args) shown += " " + a;
    EXPECT_EQ(r.exit_code, 0) << "kiln" << shown << "\nstderr: " << r.err;
    last_out = r.out;
    return settings_line(r.out);
  }

  std::string image_file() const {
    std::string file = path("in.bmp");
    RgbImage image(5, 6);
    for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>(i * 7);
    write_image(image, file);
    return file;
  }

  // Every command that reads tune files, with `extra` (flags) appended.
  std::vector<std::vector<std::string>> every_command(const std::string& model, const std::string& image_model,
                                                      const std::vector<std::string>& extra) {
    std::string image = image_file();
    fs::create_directories(path("frames"));
    fs::copy_file(image, path("frames/a.bmp"), fs::copy_options::overwrite_existing);
    std::vector<std::vector<std::string>> commands = {
        {"run", model},
        {"run", image_model, "--image", image, "--out", path("out.png")},
        {"run", image_model, "--images", path("frames"), "--out", path("styled")},
        {"bench", model, "--runs", "1", "--warmup", "0"},
        {"profile", model, "--runs", "1", "--warmup", "0"},
        {"sweep", model, "--runs", "1", "--warmup", "0"},
    };
    for (auto& command : commands) command.insert(command.end(), extra.begin(), extra.end());
    return commands;
  }

  int defaults_threads = 0;
  int tuned_threads = 0;
  std::string last_out;
};

TEST_F(KilnSettings, FlagEqualToTheDefaultBeatsTheTuneFile) {
  std::string model = save_model("m.onnx", conv_relu_model());
  std::string image_model = save_model("img.onnx", image_passthrough_model());
  std::string tune = write_tune_file(model);
  std::string image_tune = write_tune_file(image_model);
  std::string threads = std::to_string(defaults_threads);
  for (const auto& args : every_command(model, image_model, {"--threads", threads, "--opt-level", "all"})) {
    std::string line = settings_of(args);
    std::string file = args[1] == model ? tune : image_tune;
    EXPECT_NE(line.find("threads " + threads + " (from --threads), opt-level all (from --opt-level), isa sse2 (from " +
                        file + ")"),
              std::string::npos)
        << args[0] << ": " << line;
  }
  // The sessions did use them: the Relu fused at level all, and the threads.
  settings_of({"run", model, "-t", threads, "-O", "all"});
  EXPECT_NE(last_out.find("graph    all 2 -> 1 nodes"), std::string::npos) << last_out;
  KilnResult bench = kiln({"bench", model, "-t", threads, "-O", "all", "--runs", "1", "--json"}, kNoIsaEnv);
  ASSERT_EQ(bench.exit_code, 0) << bench.err;
  json report = json::parse(bench.out);
  EXPECT_EQ(report.at("threads"), defaults_threads) << bench.out;
  EXPECT_EQ(report.at("opt_level"), "all") << bench.out;
  EXPECT_EQ(report.at("settings_from").at("threads"), "--threads") << bench.out;
  EXPECT_EQ(report.at("settings_from").at("isa"), tune) << bench.out;
}

TEST_F(KilnSettings, TuneFileFillsEveryFlagNotGiven) {
  std::string model = save_model("m.onnx", conv_relu_model());
  std::string image_model = save_model("img.onnx", image_passthrough_model());
  std::string tune = write_tune_file(model);
  std::string image_tune = write_tune_file(image_model);
  std::string tuned = std::to_string(tuned_threads);
  for (const auto& args : every_command(model, image_model, {})) {
    std::string line = settings_of(args);
    std::string file = args[1] == model ? tune : image_tune;
    EXPECT_NE(line.find("threads " + tuned + " (from " + file + "), opt-level none (from " + file +
                        "), isa sse2 (from " + file + ")"),
              std::string::npos)
        << args[0] << ": " << line;
  }
  // One flag given, the others still from the file.
  std::string line = settings_of({"bench", model, "--opt-level", "all", "--runs", "1"});
  EXPECT_NE(line.find("threads " + tuned + " (from " + tune + "), opt-level all (from --opt-level)"),
            std::string::npos)
      << line;

  // What the sessions ran with: no fusion at level none, the file's thread
  // count, and the kernels at the file's ISA (the profile's peak line names
  // the ISA the process selected).
  settings_of({"run", model});
  EXPECT_NE(last_out.find("graph    none 2 -> 2 nodes"), std::string::npos) << last_out;
  KilnResult bench = kiln({"bench", model, "--runs", "1", "--json"}, kNoIsaEnv);
  ASSERT_EQ(bench.exit_code, 0) << bench.err;
  EXPECT_EQ(json::parse(bench.out).at("threads"), tuned_threads) << bench.out;
  settings_of({"profile", model, "--runs", "1", "--warmup", "0"});
  EXPECT_TRUE(std::regex_search(last_out, std::regex("\npeak +[0-9]+ GFLOP/s \\(sse2,"))) << last_out;
  std::string csv = path("sweep.csv");
  settings_of({"sweep", model, "--runs", "1", "--warmup", "0", "--csv", csv});
  std::vector<std::string> rows = lines_of(read_text(csv));
  ASSERT_EQ(rows.size(), 2u) << read_text(csv);
  EXPECT_EQ(rows[1].rfind(tuned + ",none,sse2,", 0), 0u) << rows[1];
}

TEST_F(KilnSettings, DefaultsWithNoTuneOrWithoutATuneFile) {
  std::string model = save_model("m.onnx", conv_relu_model());
  std::string image_model = save_model("img.onnx", image_passthrough_model());
  const std::regex defaults("threads " + std::to_string(defaults_threads) +
                            " \\(default\\), opt-level all \\(default\\), isa [a-z0-9]+ \\(default\\), "
                            "max-memory available \\(default\\)$");
  // No tune file: the defaults, and --no-tune is accepted.
  for (const auto& args : every_command(model, image_model, {}))
    EXPECT_TRUE(std::regex_search(settings_of(args), defaults)) << args[0] << ":\n" << last_out;
  for (const auto& args : every_command(model, image_model, {"--no-tune"}))
    EXPECT_TRUE(std::regex_search(settings_of(args), defaults)) << args[0] << ":\n" << last_out;
  // A tune file, skipped with --no-tune by every command that reads it.
  write_tune_file(model);
  write_tune_file(image_model);
  for (const auto& args : every_command(model, image_model, {"--no-tune"}))
    EXPECT_TRUE(std::regex_search(settings_of(args), defaults)) << args[0] << ":\n" << last_out;
  settings_of({"run", model, "--no-tune"});
  EXPECT_NE(last_out.find("graph    all 2 -> 1 nodes"), std::string::npos) << last_out;
}

// More threads than logical CPUs: a warning on stderr before the run, naming
// where the number came from; none at the default.
TEST_F(KilnSettings, ThreadsAboveTheCpuCountAreWarnedAbout) {
  std::string model = save_model("m.onnx", conv_relu_model());
  const unsigned cpus = std::thread::hardware_concurrency();
  ASSERT_GT(cpus, 0u);
  const std::string many = std::to_string(cpus + 1);
  KilnResult r = kiln({"bench", model, "-t", many, "--runs", "1", "--warmup", "0", "--no-tune"}, kNoIsaEnv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("kiln: warning: threads " + many + " (from --threads) is more than this machine's " +
                       std::to_string(cpus) + " logical CPUs"),
            std::string::npos)
      << r.err;
  r = kiln({"bench", model, "--runs", "1", "--warmup", "0", "--no-tune"}, kNoIsaEnv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("warning: threads"), std::string::npos) << r.err;
}

TEST_F(KilnSettings, KilnIsaComesBeforeTheTuneFile) {
  std::string model = save_model("m.onnx", conv_relu_model());
  std::string tune = model + ".kiln-tune.json";
  // The file names sse41, the environment sse2 (every x86-64 CPU has it):
  // the environment wins, and the file's ISA is not even checked.
  json file = {{"shape", json::object()}, {"threads", 1}, {"opt_level", "all"}, {"isa", "sse41"}};
  std::ofstream(tune) << file.dump();
  std::string line = settings_of({"profile", model, "--runs", "1", "--warmup", "0"}, "KILN_ISA=sse2");
  EXPECT_NE(line.find("threads 1 (from " + tune + "), opt-level all (from " + tune + "), isa sse2 (from KILN_ISA)"),
            std::string::npos)
      << line;
  EXPECT_TRUE(std::regex_search(last_out, std::regex("\npeak +[0-9]+ GFLOP/s \\(sse2,"))) << last_out;
}

TEST_F(KilnSettings, HelpNamesTheTuneFileAndNoTune) {
  for (const char* command : {"run", "bench", "profile", "sweep"}) {
    KilnResult r = kiln({command, "--help"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("--no-tune"), std::string::npos) << command << ":\n" << r.out;
    EXPECT_NE(r.out.find("kiln-tune.json"), std::string::npos) << command << ":\n" << r.out;
  }
}

}  // namespace
}  // namespace kiln
