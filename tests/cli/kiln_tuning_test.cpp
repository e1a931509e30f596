// Runs the built `kiln` binary's tuning commands (profile, bench, sweep, tune)
// on a small Conv model built here with the ONNX protobuf API. Checks the
// reports' structure and consistency, never timing thresholds.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "graph/onnx_tensor.h"
#include "kiln/tensor_io.h"
#include "kiln_binary_test.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::KilnResult;
using testing::read_text;


void add_initializer(onnx::GraphProto* g, const std::string& name, const Shape& shape, uint64_t seed) {
  onnx::TensorProto* init = g->add_initializer();
  graph::tensor_to_proto(random_tensor(DataType::kFloat32, shape, seed), init);
  init->set_name(name);
}

onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op, const std::string& name,
                          const std::vector<std::string>& inputs, const std::string& output) {
  auto* node = g->add_node();
  node->set_op_type(op);
  node->set_name(name);
  for (const auto& in : inputs) node->add_input(in);
  node->add_output(output);
  return node;
}

void set_pads(onnx::NodeProto* conv) {
  auto* pads = conv->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
}

// x: Bx16x64x64 -> Conv(32, 3x3) -> Relu -> Conv(32, 3x3) -> Add(relu) -> y.
// Big enough (~57 M MACs) that the kernels, not the bookkeeping, take the time.
// `batch` is "1" for a fixed batch or a symbol ("N") for a free one.
onnx::ModelProto conv_model(const std::string& batch) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("kiln-tuning-test");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  auto* g = model.mutable_graph();
  g->set_name("conv_chain");
  auto set_info = [&](onnx::ValueInfoProto* value, const std::string& name, int channels) {
    value->set_name(name);
    auto* type = value->mutable_type()->mutable_tensor_type();
    type->set_elem_type(onnx::TensorProto::FLOAT);
    auto* shape = type->mutable_shape();
    if (batch == "1") shape->add_dim()->set_dim_value(1);
    else shape->add_dim()->set_dim_param(batch);
    shape->add_dim()->set_dim_value(channels);
    shape->add_dim()->set_dim_value(64);
    shape->add_dim()->set_dim_value(64);
  };
  set_info(g->add_input(), "x", 16);
  set_info(g->add_output(), "y", 32);
  add_initializer(g, "W1", {32, 16, 3, 3}, 1);
  add_initializer(g, "B1", {32}, 2);
  add_initializer(g, "W2", {32, 32, 3, 3}, 3);
  set_pads(add_node(g, "Conv", "conv1", {"x", "W1", "B1"}, "c1"));
  add_node(g, "Relu", "relu1", {"c1"}, "r1");
  set_pads(add_node(g, "Conv", "conv2", {"r1", "W2"}, "c2"));
  add_node(g, "Add", "add", {"c2", "r1"}, "y");
  return model;
}

class KilnTuning : public testing::KilnBinaryTest {};

// The table section after `heading`, up to the next blank line.
std::string section(const std::string& text, const std::string& heading) {
  size_t start = text.find(heading);
  if (start == std::string::npos) return "";
  size_t end = text.find("\n\n", start);
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

TEST_F(KilnTuning, ProfileTraceParsesAndNodeTimesFitInTheirRun) {
  std::string model = save_model("conv.onnx", conv_model("1"));
  for (const std::string level : {"none", "all"}) {
    std::string trace_file = path("trace_" + level + ".json");
    KilnResult r = kiln({"profile", model, "--threads", "1", "--runs", "3", "--warmup", "1", "--opt-level", level,
                         "--json", trace_file});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json trace = json::parse(read_text(trace_file));
    ASSERT_TRUE(trace.is_array());
    std::map<int, double> run_us, node_us;
    std::map<int, int> node_events;
    std::set<std::string> op_types;
    for (const json& e : trace) {
      EXPECT_EQ(e.at("ph"), "X");
      EXPECT_TRUE(e.contains("ts") && e.contains("pid") && e.contains("tid") && e.contains("name"));
      int run = e.at("args").at("run").get<int>();
      if (e.at("cat") == "Session") {
        run_us[run] += e.at("dur").get<double>();
      } else {
        ASSERT_EQ(e.at("cat"), "Node");
        node_us[run] += e.at("dur").get<double>();
        ++node_events[run];
        op_types.insert(e.at("args").at("op_name").get<std::string>());
        EXPECT_FALSE(e.at("args").at("output_type_shape").empty()) << e.dump();
      }
    }
    ASSERT_EQ(run_us.size(), 3u) << "one model_run event per timed run";
    for (const auto& [run, us] : run_us) {
      // Node kernels run inside the run, so their sum can't exceed it. How
      // much of the run they cover is a measurement, which the report prints
      // (checked below), not a threshold to test.
      EXPECT_LE(node_us[run], us * 1.0001) << "run " << run;
      EXPECT_EQ(node_events[run], node_events[0]);
    }
    EXPECT_TRUE(std::regex_search(r.out, std::regex("\nnodes +[0-9]+ per run; node times add up to [0-9.]+ ms "
                                                    "\\([0-9.]+% of run wall time")))
        << r.out;
    if (level == "none") {
      EXPECT_EQ(op_types, (std::set<std::string>{"Conv", "Relu", "Add"}));
    } else {
      // conv1's only consumer is the Relu, so level all must fuse them (FusedConv
      // is always registered); the tables name the fused activation.
      EXPECT_TRUE(op_types.count("FusedConv")) << "no fusion at level all";
      EXPECT_FALSE(op_types.count("Relu")) << "the Relu should be inside the FusedConv";
      EXPECT_NE(r.out.find("FusedConv+Relu"), std::string::npos) << r.out;
    }
    // Every op type of the trace appears in the top-N table and the per-op summary.
    std::string top = section(r.out, "Top ");
    std::string by_op = section(r.out, "By op type");
    for (const std::string& op : op_types) {
      EXPECT_NE(top.find(" " + op), std::string::npos) << op << " missing from:\n" << top;
      EXPECT_NE(by_op.find(op + " "), std::string::npos) << op << " missing from:\n" << by_op;
    }
    EXPECT_NE(top.find("1x32x64x64"), std::string::npos) << top;
    EXPECT_NE(top.find('%'), std::string::npos) << "Conv rows show % of peak:\n" << top;
  }
}

TEST_F(KilnTuning, BenchJsonHasTheFields) {
  std::string model = save_model("conv.onnx", conv_model("1"));
  KilnResult r = kiln({"bench", model, "--threads", "1", "--runs", "4", "--warmup", "0", "--json"}, "KILN_ISA=sse2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json out = json::parse(r.out);
  for (const char* field : {"median_ms", "min_ms", "max_ms", "p90_ms", "runs", "threads", "isa",
                            "inferences_per_second", "peak_rss_bytes", "arena_bytes"})
    EXPECT_TRUE(out.contains(field)) << field << " missing from " << r.out;
  EXPECT_EQ(out.at("runs"), 4);
  EXPECT_EQ(out.at("threads"), 1);
  EXPECT_EQ(out.at("isa"), "sse2");
  EXPECT_LE(out.at("min_ms").get<double>(), out.at("median_ms").get<double>());
  EXPECT_LE(out.at("median_ms").get<double>(), out.at("p90_ms").get<double>());
  EXPECT_LE(out.at("p90_ms").get<double>(), out.at("max_ms").get<double>());
  EXPECT_GT(out.at("peak_rss_bytes").get<double>(), 0);
  // Every timed run, in run order: the statistics come from these.
  ASSERT_TRUE(out.at("times_ms").is_array()) << r.out;
  std::vector<double> times = out.at("times_ms").get<std::vector<double>>();
  ASSERT_EQ(times.size(), 4u) << r.out;
  for (double t : times) EXPECT_GT(t, 0.0) << r.out;
  EXPECT_EQ(*std::min_element(times.begin(), times.end()), out.at("min_ms").get<double>());
  EXPECT_EQ(*std::max_element(times.begin(), times.end()), out.at("max_ms").get<double>());

  KilnResult text = kiln({"bench", model, "--threads", "1", "--runs", "2"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  for (const char* label : {"latency", "median", "p90", "inferences/s", "peak resident"})
    EXPECT_NE(text.out.find(label), std::string::npos) << label << " missing from:\n" << text.out;
}

TEST_F(KilnTuning, SweepHasOneRowPerCombination) {
  std::string model = save_model("free_batch.onnx", conv_model("N"));
  std::string csv = path("sweep.csv"), svg = path("sweep.svg");
  KilnResult r = kiln({"sweep", model, "--threads", "1,2", "--opt-level", "none,all", "--isa", "sse2,sse41",
                       "--batch", "1,2", "--runs", "1", "--warmup", "0", "--csv", csv, "--plot", svg});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(read_text(csv));
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header, "threads,opt_level,isa,batch,instances,inferences_per_second,samples_per_second,median_ms,"
                    "p90_ms,peak_rss_bytes,speedup");
  std::set<std::string> combos;
  size_t rows = 0;
  for (std::string line; std::getline(in, line);) {
    ++rows;
    std::vector<std::string> cells;
    std::stringstream fields(line);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    ASSERT_EQ(cells.size(), 11u) << line;
    EXPECT_EQ(cells[4], "1") << "one instance when --instances is not given: " << line;
    combos.insert(cells[0] + " " + cells[1] + " " + cells[2] + " " + cells[3]);
  }
  EXPECT_EQ(rows, 16u);
  EXPECT_EQ(combos.size(), 16u) << "every threads x opt-level x isa x batch combination once";
  EXPECT_TRUE(combos.count("2 all sse41 2"));
  EXPECT_TRUE(combos.count("1 none sse2 1"));
  // The Markdown table: header, separator, one line per row.
  size_t table_lines = 0;
  std::istringstream out(r.out);
  for (std::string line; std::getline(out, line);) table_lines += line.rfind("| ", 0) == 0 || line.rfind("|-", 0) == 0;
  EXPECT_EQ(table_lines, 16u + 2);
  // The plot itself is checked in kiln_sweep_test.cpp.
  std::string plot = read_text(svg);
  EXPECT_NE(plot.find("<svg"), std::string::npos);
  EXPECT_NE(plot.find("</svg>"), std::string::npos);
  EXPECT_NE(r.out.find("(SVG, 1040x420: throughput vs batch, latency vs threads)"), std::string::npos) << r.out;
}

// The row of the top-N table for `node`, "" when it has none.
std::string table_row(const std::string& top, const std::string& node) {
  std::istringstream lines(top);
  for (std::string line; std::getline(lines, line);)
    if (line.find(" " + node + " ") != std::string::npos) return line;
  return "";
}

// The profile names the microkernel each node runs, at the level KILN_ISA
// or the tune file's isa gives the session (the GEMM's tile for the Convs,
// none for Relu and Add), in the table and in the trace.
TEST_F(KilnTuning, ProfileNamesTheKernelEachNodeRuns) {
  std::string model = save_model("conv.onnx", conv_model("1"));
  const std::string trace_file = path("trace.json");
  const std::vector<std::string> args = {"profile", model,         "--threads", "1",      "--runs", "1",
                                         "--warmup", "0",          "--opt-level", "none", "--json", trace_file};
  KilnResult r = kiln(args, "KILN_ISA=sse41");
  if (r.exit_code != 0 && r.err.find("does not support") != std::string::npos) GTEST_SKIP() << r.err;
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string top = section(r.out, "Top ");
  EXPECT_NE(top.find("%peak  kernel"), std::string::npos) << top;
  for (const char* conv : {"conv1", "conv2"})
    EXPECT_NE(table_row(top, conv).find("f32_gemm_4x8_sse41"), std::string::npos) << conv << " in:\n" << top;
  for (const char* plain : {"relu1", "add"}) {  // no named kernel: the column says "-"
    const std::string row = table_row(top, plain);
    ASSERT_FALSE(row.empty()) << plain << " missing from:\n" << top;
    EXPECT_EQ(row.substr(row.size() - 3), "  -") << row;
  }
  int conv_events = 0;
  for (const json& e : json::parse(read_text(trace_file))) {
    if (e.at("cat") != "Node" || e.at("args").at("op_name") != "Conv") continue;
    ++conv_events;
    EXPECT_EQ(e.at("args").at("kernel"), "f32_gemm_4x8_sse41") << e.dump();
  }
  EXPECT_EQ(conv_events, 2);

  // The tune file's isa reaches the session the same way (no KILN_ISA set).
  json tune = {{"shape", json::object()}, {"threads", 1}, {"opt_level", "none"}, {"isa", "sse2"}};
  std::ofstream(model + ".kiln-tune.json") << tune.dump();
  r = kiln({"profile", model, "--runs", "1", "--warmup", "0"}, "env -u KILN_ISA");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("isa sse2 (from"), std::string::npos) << r.out;
  top = section(r.out, "Top ");
  for (const char* conv : {"conv1", "conv2"})
    EXPECT_NE(table_row(top, conv).find("f32_gemm_4x8_sse2"), std::string::npos) << conv << " in:\n" << top;
}

TEST_F(KilnTuning, TuneSavesAChoiceThatRunAndBenchUse) {
  std::string model = save_model("conv.onnx", conv_model("1"));
  KilnResult r = kiln({"tune", model, "--budget", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json saved = json::parse(read_text(model + ".kiln-tune.json"));
  for (const char* field : {"shape", "threads", "opt_level", "isa", "median_ms", "date"})
    EXPECT_TRUE(saved.contains(field)) << field << " missing from " << saved.dump();
  EXPECT_NE(r.out.find("choice   threads " + std::to_string(saved.at("threads").get<int>())), std::string::npos)
      << r.out;

  // Bench follows the file...
  KilnResult bench = kiln({"bench", model, "--runs", "1", "--json"});
  ASSERT_EQ(bench.exit_code, 0) << bench.err;
  json report = json::parse(bench.out);
  EXPECT_EQ(report.at("threads"), saved.at("threads"));
  EXPECT_EQ(report.at("opt_level"), saved.at("opt_level"));
  EXPECT_EQ(report.at("isa"), saved.at("isa"));

  // ...also when the file says something the defaults never would, and the
  // command line still wins over it.
  saved["threads"] = 3;
  saved["opt_level"] = "none";
  saved["isa"] = "sse2";
  std::ofstream(model + ".kiln-tune.json") << saved.dump();
  report = json::parse(kiln({"bench", model, "--runs", "1", "--json"}).out);
  EXPECT_EQ(report.at("threads"), 3);
  EXPECT_EQ(report.at("opt_level"), "none");
  EXPECT_EQ(report.at("isa"), "sse2");
  EXPECT_NE(report.at("tuned_from").get<std::string>().find("kiln-tune.json"), std::string::npos);
  report = json::parse(kiln({"bench", model, "--runs", "1", "--json", "--threads", "1"}).out);
  EXPECT_EQ(report.at("threads"), 1);
  report = json::parse(kiln({"bench", model, "--runs", "1", "--json", "--no-tune"}).out);
  EXPECT_EQ(report.at("opt_level"), "all");
  EXPECT_EQ(report.at("tuned_from"), "");

  KilnResult run = kiln({"run", model});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("settings threads 3 (from " + model + ".kiln-tune.json)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("4 -> 4 nodes"), std::string::npos) << "opt-level none fuses nothing:\n" << run.out;
}

TEST_F(KilnTuning, BrokenTuneFileIsAClearError) {
  std::string model = save_model("conv.onnx", conv_model("1"));
  std::ofstream(model + ".kiln-tune.json") << "{\"threads\": ";
  KilnResult r = kiln({"bench", model, "--runs", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot read the tune file"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace kiln
