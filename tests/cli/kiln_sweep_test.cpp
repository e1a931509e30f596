// Runs the built `kiln` binary's benchmarking commands (bench, sweep) on
// small models built here with the ONNX protobuf API: batch sizes on models
// that fix their batch, concurrent instances, plots and the busy-machine
// warning. Checks the reports' structure and consistency, never timing
// thresholds.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "graph/onnx_tensor.h"
#include "kiln/tensor_io.h"
#include "kiln_binary_test.h"

namespace kiln {
namespace {

using nlohmann::json;
using testing::KilnResult;
using testing::lines_of;
using testing::read_text;

// What follows the Conv in the test model.
enum class Tail {
  kNone,           // x -> Conv -> Relu -> y: any batch works
  kReshapeFixed,   // ... -> Reshape to the constant 1x(C*H*W): another batch cannot reshape
  kReshapeMinus1,  // ... -> Reshape to 1x-1: another batch runs, and the output keeps batch 1
};

// x: 1x4x16x16 (batch fixed at 1, as exporters write it) -> Conv(8, 3x3, pad 1) -> Relu -> [tail] -> y.
onnx::ModelProto fixed_batch_model(Tail tail) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("kiln-sweep-test");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  auto* g = model.mutable_graph();
  g->set_name("fixed_batch");
  auto set_info = [](onnx::ValueInfoProto* value, const std::string& name, const Shape& dims) {
    value->set_name(name);
    auto* type = value->mutable_type()->mutable_tensor_type();
    type->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) type->mutable_shape()->add_dim()->set_dim_value(d);
  };
  set_info(g->add_input(), "x", {1, 4, 16, 16});
  onnx::TensorProto* w = g->add_initializer();
  graph::tensor_to_proto(random_tensor(DataType::kFloat32, {8, 4, 3, 3}, 7), w);
  w->set_name("W");
  auto add_node = [&](const std::string& op, const std::string& name, const std::vector<std::string>& inputs,
                      const std::string& output) {
    auto* node = g->add_node();
    node->set_op_type(op);
    node->set_name(name);
    for (const auto& in : inputs) node->add_input(in);
    node->add_output(output);
    return node;
  };
  auto* conv = add_node("Conv", "conv", {"x", "W"}, "c");
  auto* pads = conv->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  if (tail == Tail::kNone) {
    add_node("Relu", "relu", {"c"}, "y");
    set_info(g->add_output(), "y", {1, 8, 16, 16});
    return model;
  }
  add_node("Relu", "relu", {"c"}, "r");
  Tensor target = Tensor::from_int64s({2}, {1, tail == Tail::kReshapeFixed ? 8 * 16 * 16 : -1});
  onnx::TensorProto* shape = g->add_initializer();
  graph::tensor_to_proto(target, shape);
  shape->set_name("flat_shape");
  add_node("Reshape", "flatten", {"r", "flat_shape"}, "y");
  set_info(g->add_output(), "y", {1, 8 * 16 * 16});
  return model;
}

class KilnSweep : public testing::KilnBinaryTest {};

std::vector<std::vector<std::string>> csv_rows(const std::string& text, std::string* header) {
  std::istringstream in(text);
  std::getline(in, *header);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream fields(line);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

// The index of `name` in the CSV header, -1 when missing.
int column(const std::string& header, const std::string& name) {
  std::stringstream fields(header);
  int i = 0;
  for (std::string cell; std::getline(fields, cell, ','); ++i)
    if (cell == name) return i;
  return -1;
}

// Most exported CNNs fix the batch at 1: --batch replaces it, says so, and
// the rows run at the batch asked for.
TEST_F(KilnSweep, BatchReplacesAFixedBatchDim) {
  std::string model = save_model("fixed.onnx", fixed_batch_model(Tail::kNone));
  std::string csv = path("sweep.csv");
  KilnResult r = kiln({"sweep", model, "--threads", "1", "--batch", "1,2,4", "--runs", "1", "--warmup", "0",
                       "--csv", csv});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("input x: batch dim 1 replaced by 2, 4\n"), std::string::npos) << r.err;
  std::string header;
  auto rows = csv_rows(read_text(csv), &header);
  const int batch = column(header, "batch");
  ASSERT_GE(batch, 0) << header;
  std::vector<std::string> batches;
  for (const auto& row : rows) batches.push_back(row.at(static_cast<size_t>(batch)));
  EXPECT_EQ(batches, (std::vector<std::string>{"1", "2", "4"})) << read_text(csv);

  // bench --batch on its own: the input is made at that batch.
  KilnResult bench = kiln({"bench", model, "--batch", "3", "--threads", "1", "--runs", "1", "--json"});
  ASSERT_EQ(bench.exit_code, 0) << bench.err;
  json report = json::parse(bench.out);
  EXPECT_EQ(report.at("batch"), 3);
  EXPECT_EQ(report.at("inputs"), "x=3x4x16x16");
}

// A graph that hard-codes its batch: one error line naming the node (the
// Reshape that cannot take the new batch) or the output that keeps the old
// batch; never a table of wrong numbers.
TEST_F(KilnSweep, BatchOnAGraphThatFixesItsBatchIsAClearError) {
  std::string hard = save_model("reshape_fixed.onnx", fixed_batch_model(Tail::kReshapeFixed));
  KilnResult r = kiln({"sweep", hard, "--threads", "1", "--batch", "1,2", "--runs", "1", "--warmup", "0"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  std::vector<std::string> lines = lines_of(r.err);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("kiln: error: ", 0), 0u) << r.err;
  EXPECT_NE(lines.back().find("batch 2"), std::string::npos) << r.err;
  EXPECT_NE(lines.back().find("'flatten' (Reshape)"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("| 1 |"), std::string::npos) << "no table after a failed row:\n" << r.out;

  std::string soft = save_model("reshape_minus1.onnx", fixed_batch_model(Tail::kReshapeMinus1));
  r = kiln({"bench", soft, "--batch", "2", "--threads", "1", "--runs", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("output 'y' (declared 1x2048) came out as 1x4096"), std::string::npos) << r.err;
  // Batch 1 is what the model declares: it runs.
  r = kiln({"bench", soft, "--batch", "1", "--threads", "1", "--runs", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(KilnSweep, BadBatchIsAUsageError) {
  std::string model = save_model("fixed.onnx", fixed_batch_model(Tail::kNone));
  expect_one_line_error({"sweep", model, "--batch", "1,0"}, 2, "--batch");
  expect_one_line_error({"sweep", model, "--batch", "1,,2"}, 2, "--batch");
  KilnResult r = kiln({"bench", model, "--batch", "0"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

// --instances N: N sessions at once; every timed run of every instance is
// reported, and the throughput is all of them over the wall time they shared.
TEST_F(KilnSweep, BenchInstancesReportsTotalThroughput) {
  std::string model = save_model("fixed.onnx", fixed_batch_model(Tail::kNone));
  KilnResult r = kiln({"bench", model, "--instances", "3", "--threads", "1", "--runs", "4", "--warmup", "1",
                       "--batch", "2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json out = json::parse(r.out);
  EXPECT_EQ(out.at("instances"), 3);
  EXPECT_EQ(out.at("throughput_from"), "wall time");
  std::vector<double> times = out.at("times_ms").get<std::vector<double>>();
  ASSERT_EQ(times.size(), 12u) << "4 timed runs x 3 instances: " << r.out;
  const double wall_ms = out.at("wall_ms").get<double>();
  EXPECT_GE(wall_ms, out.at("max_ms").get<double>()) << "every run lies inside the window";
  EXPECT_NEAR(out.at("inferences_per_second").get<double>(), 12 * 1000.0 / wall_ms,
              1e-6 * out.at("inferences_per_second").get<double>());
  EXPECT_NEAR(out.at("samples_per_second").get<double>(), 2 * out.at("inferences_per_second").get<double>(),
              1e-6 * out.at("samples_per_second").get<double>());

  // Without --instances: one session, throughput from the median, as before.
  out = json::parse(kiln({"bench", model, "--threads", "1", "--runs", "3", "--json"}).out);
  EXPECT_EQ(out.at("instances"), 1);
  EXPECT_EQ(out.at("throughput_from"), "median");
  EXPECT_EQ(out.at("times_ms").size(), 3u);

  KilnResult text = kiln({"bench", model, "--instances", "2", "--threads", "1", "--runs", "2"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("in each of 2 instances at once"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("4 runs of 2 instances in"), std::string::npos) << text.out;
}

// The deployment table: threads x batch x instances, one row each, with the
// total throughput and the latency of one inference.
TEST_F(KilnSweep, SweepInstancesGivesTheDeploymentTable) {
  std::string model = save_model("fixed.onnx", fixed_batch_model(Tail::kNone));
  std::string csv = path("deploy.csv");
  KilnResult r = kiln({"sweep", model, "--threads", "1,2", "--batch", "1,2", "--instances", "1,2", "--runs", "2",
                       "--warmup", "0", "--csv", csv});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| # | threads | opt-level | isa | batch | instances | inferences/s | samples/s | median ms |"),
            std::string::npos)
      << r.out;
  std::string header;
  auto rows = csv_rows(read_text(csv), &header);
  ASSERT_EQ(rows.size(), 8u) << read_text(csv);
  const int threads = column(header, "threads"), instances = column(header, "instances"),
            batch = column(header, "batch"), inferences = column(header, "inferences_per_second"),
            samples = column(header, "samples_per_second"), median = column(header, "median_ms");
  ASSERT_TRUE(threads >= 0 && instances >= 0 && batch >= 0 && inferences >= 0 && samples >= 0 && median >= 0)
      << header;
  std::set<std::string> combos;
  for (const auto& row : rows) {
    auto cell = [&](int i) { return row.at(static_cast<size_t>(i)); };
    combos.insert(cell(threads) + "t " + cell(batch) + "b " + cell(instances) + "i");
    EXPECT_GT(std::stod(cell(inferences)), 0);
    EXPECT_GT(std::stod(cell(median)), 0);
    EXPECT_NEAR(std::stod(cell(samples)), std::stod(cell(inferences)) * std::stod(cell(batch)),
                1e-3 * std::stod(cell(samples)) + 1e-3);
  }
  EXPECT_EQ(combos.size(), 8u);
  EXPECT_TRUE(combos.count("2t 2b 2i")) << "every combination once";
  expect_one_line_error({"sweep", model, "--instances", "0"}, 2, "--instances");
}

// How often `needle` occurs in `text`.
size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// A busy machine (KILN_TEST_LOADAVG fakes the 1-minute load average; ctest
// sets it to 0 for the other tests): bench, sweep and tune warn once as
// timing starts, naming the load, and tune notes it with its choice.
TEST_F(KilnSweep, BusyMachineWarnsWhenTimingStarts) {
  std::string model = save_model("fixed.onnx", fixed_batch_model(Tail::kNone));
  const unsigned cpus = std::thread::hardware_concurrency();
  ASSERT_GT(cpus, 0u);
  // The rule: a warning when the load is above max(0.5, CPUs - threads needed).
  const std::string busy = std::to_string(cpus + 1) + ".5";
  const std::string warning = "kiln: warning: the machine is busy: its 1-minute load average (getloadavg) is " + busy;

  KilnResult r = kiln({"bench", model, "--threads", "1", "--runs", "1", "--json"}, "KILN_TEST_LOADAVG=" + busy);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_of(r.err, warning), 1u) << r.err;
  EXPECT_NE(r.err.find("on " + std::to_string(cpus) + " logical CPUs, and the timing needs 1 thread;"),
            std::string::npos) << r.err;
  EXPECT_EQ(json::parse(r.out).at("load_average_1min").get<double>(), std::stod(busy));

  // Idle enough: under 0.5, or with the CPUs the run leaves free carrying the load.
  r = kiln({"bench", model, "--threads", "1", "--runs", "1"}, "KILN_TEST_LOADAVG=0.4");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  if (cpus >= 3) {
    r = kiln({"bench", model, "--threads", "1", "--runs", "1"},
             "KILN_TEST_LOADAVG=" + std::to_string(cpus - 1) + ".0");
    EXPECT_EQ(r.err.find("warning"), std::string::npos) << "load = CPUs - threads is not busy yet: " << r.err;
  }
  // Instances count: two sessions of one thread need two CPUs.
  r = kiln({"bench", model, "--threads", "1", "--instances", "2", "--runs", "1"},
           "KILN_TEST_LOADAVG=" + std::to_string(std::max(cpus, 3u) - 1) + ".5");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("the timing needs 2 threads"), std::string::npos) << r.err;

  // sweep: once before its first child, not once per row; the report says the load.
  r = kiln({"sweep", model, "--threads", "1,2", "--runs", "1", "--warmup", "0"}, "KILN_TEST_LOADAVG=" + busy);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_of(r.err, "kiln: warning: the machine is busy"), 1u) << r.err;
  EXPECT_NE(r.out.find("Load average (1 minute) when the sweep started: " + busy + "0 (busy"), std::string::npos)
      << r.out;

  // More threads than CPUs in some row: said once by the sweep (the children's stderr is not shown).
  r = kiln({"sweep", model, "--threads", "1," + std::to_string(cpus + 1), "--runs", "1", "--warmup", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_of(r.err, "kiln: warning: some rows run " + std::to_string(cpus + 1) + " threads"), 1u) << r.err;

  // tune: the warning, a note with its choice, and the load in the tune file.
  r = kiln({"tune", model, "--budget", "0.5"}, "KILN_TEST_LOADAVG=" + busy);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_of(r.err, warning), 1u) << r.err;
  EXPECT_NE(r.out.find("\nnote     tuned on a busy machine (1-minute load average " + busy + "0 on "), std::string::npos) << r.out;
  json saved = json::parse(read_text(model + ".kiln-tune.json"));
  EXPECT_EQ(saved.at("load_average_1min").get<double>(), std::stod(busy)) << saved.dump();
  EXPECT_NE(saved.at("busy_note").get<std::string>().find("load average"), std::string::npos) << saved.dump();

  r = kiln({"bench", model, "--runs", "1"}, "KILN_TEST_LOADAVG=busy");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("KILN_TEST_LOADAVG='busy' is not a load average"), std::string::npos) << r.err;
}

// Runs Debian's Python (Pillow and the standard library) on `script` with the
// file as argv[1]; its stdout. Skips the test when /usr/bin/python3 or Pillow
// is missing (scripts/install_deps.sh installs python3-pil).
std::string python_says(const std::string& script, const std::string& file, const std::string& scratch) {
  std::string script_file = scratch + "/check.py";
  std::ofstream(script_file) << script;
  std::string out_file = scratch + "/python_out.txt";
  std::string command = "/usr/bin/python3 " + testing::shell_quote(script_file) + " " + testing::shell_quote(file) +
                        " >" + testing::shell_quote(out_file) + " 2>&1";
  int status = std::system(command.c_str());
  std::string out = read_text(out_file);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "python failed: " + out;
  return out;
}

// Pillow reads the header (IHDR) and decodes every pixel; "PNG WxH colours".
const char* const kPngCheck = R"(
import sys
from PIL import Image
with open(sys.argv[1], 'rb') as f:
    head = f.read(24)
assert head[:8] == b'\x89PNG\r\n\x1a\n', 'no PNG signature'
assert head[12:16] == b'IHDR', 'no IHDR first'
w, h = int.from_bytes(head[16:20], 'big'), int.from_bytes(head[20:24], 'big')
im = Image.open(sys.argv[1])
im.load()
assert im.size == (w, h)
print(im.format, '%dx%d' % im.size, len(im.convert('RGB').getcolors(1 << 20)))
)";

bool have_pillow() { return std::system("/usr/bin/python3 -c 'import PIL' >/dev/null 2>&1") == 0; }

TEST_F(KilnSweep, PngPlotIsAValidPngOfTheRequestedSize) {
  if (!have_pillow()) GTEST_SKIP() << "/usr/bin/python3 with Pillow (python3-pil) is needed to read the PNG";
  std::string model = save_model("fixed.onnx", fixed_batch_model(Tail::kNone));
  std::string png = path("sweep.png");
  KilnResult r = kiln({"sweep", model, "--threads", "1,2", "--batch", "1,2", "--runs", "1", "--warmup", "0",
                       "--plot", png, "--plot-size", "700x380"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(PNG, 700x380: throughput vs batch, latency vs threads)"), std::string::npos) << r.out;
  std::string said = python_says(kPngCheck, png, dir_.string());
  ASSERT_EQ(said.rfind("PNG 700x380 ", 0), 0u) << said;
  // Lines, text and grid in several colours, not a blank picture.
  EXPECT_GT(std::stoi(said.substr(12)), 20) << said;

  // Upper-case extension, default size: one panel per varying list.
  std::string upper = path("SWEEP.PNG");
  r = kiln({"sweep", model, "--threads", "1,2", "--runs", "1", "--warmup", "0", "--plot", upper});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(python_says(kPngCheck, upper, dir_.string()).rfind("PNG 520x420 ", 0), 0u);
}

TEST_F(KilnSweep, SvgPlotParsesAsXml) {
  std::string model = save_model("fixed.onnx", fixed_batch_model(Tail::kNone));
  std::string svg = path("sweep.svg");
  KilnResult r = kiln({"sweep", model, "--threads", "1,2", "--batch", "1,2", "--runs", "1", "--warmup", "0",
                       "--plot", svg});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string said = python_says(R"(
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
print(root.tag, root.get('width'), root.get('height'), len(list(root.iter())))
)", svg, dir_.string());
  ASSERT_EQ(said.rfind("{http://www.w3.org/2000/svg}svg 1040px 420px ", 0), 0u) << said;
  EXPECT_GT(std::stoi(said.substr(said.rfind(' ') + 1)), 50) << "an SVG with drawing in it: " << said;
}

// A panel is drawn only when its axis has more than one value: a sweep of one
// batch size has no batch panel (and the picture is one panel wide).
TEST_F(KilnSweep, SingleBatchSweepDrawsNoBatchPanel) {
  if (!have_pillow()) GTEST_SKIP() << "/usr/bin/python3 with Pillow (python3-pil) is needed to read the PNG";
  std::string model = save_model("fixed.onnx", fixed_batch_model(Tail::kNone));
  std::string png = path("one_batch.png");
  KilnResult r = kiln({"sweep", model, "--threads", "1,2", "--batch", "2", "--runs", "1", "--warmup", "0",
                       "--plot", png});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(PNG, 520x420: latency vs threads)\n"), std::string::npos) << r.out;
  EXPECT_EQ(python_says(kPngCheck, png, dir_.string()).rfind("PNG 520x420 ", 0), 0u);

  // Only opt-levels differ: latency per setting as bars.
  r = kiln({"sweep", model, "--threads", "1", "--opt-level", "none,all", "--runs", "1", "--warmup", "0", "--plot",
            png});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(PNG, 520x420: latency by setting)\n"), std::string::npos) << r.out;
}

// Plot problems are found before anything runs, as command-line errors.
TEST_F(KilnSweep, BadPlotIsAUsageErrorBeforeTheSweep) {
  std::string model = save_model("fixed.onnx", fixed_batch_model(Tail::kNone));
  expect_one_line_error({"sweep", model, "--threads", "1,2", "--plot", path("sweep.pdf")}, 2, "must end in .png or .svg");
  expect_one_line_error({"sweep", model, "--threads", "1", "--plot", path("one.png")}, 2, "nothing to draw");
  expect_one_line_error({"sweep", model, "--threads", "1,2", "--plot", path("p.png"), "--plot-size", "10x10"}, 2,
                        "--plot-size");
  expect_one_line_error({"sweep", model, "--threads", "1,2", "--plot", path("no/such/folder/p.png")}, 1,
                        "does not exist");
  EXPECT_FALSE(std::filesystem::exists(path("sweep.pdf")));
}

}  // namespace
}  // namespace kiln
