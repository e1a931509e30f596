// `kiln profile MODEL`: times every node over K runs (after W warm-up runs)
// through the session's node observer and prints where the time goes: the
// top-N nodes (with achieved GFLOP/s against the machine peak for
// Conv/FusedConv/ConvTranspose/Gemm/MatMul, and the microkernel each node
// runs), then a summary per op type.
// --json FILE writes a Chrome trace in onnxruntime's profiler layout.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernels/f32_peak.h"
#include "platform/cpu_info.h"
#include "tools/bench_common.h"
#include "tools/node_shapes.h"
#include "tools/progress.h"

namespace kiln::cli {
namespace {

struct ProfileArgs {
  ModelRunArgs run;
  int top = 20;
  std::string json_file;
};

// One node execution in one timed run.
struct NodeEvent {
  size_t node_index;  // into NodeStats
  int run;
  double start_us;    // since the profile started
  double duration_us;
};

// Totals for one node over all timed runs.
struct NodeStats {
  std::string name, op_type, activation;
  std::string kernel;  // the microkernel(s) the session picked; empty when none is named
  std::vector<ValueShape> inputs, outputs;
  std::optional<int64_t> macs;
  double total_seconds = 0;
  int calls = 0;
};

struct RunEvent {
  double start_us;
  double duration_us;
};

std::string shapes_text(const std::vector<ValueShape>& values) {
  std::string text;
  for (const ValueShape& v : values) text += (text.empty() ? "" : ",") + v.text;
  return text;
}

nlohmann::json type_shapes(const std::vector<ValueShape>& values) {
  nlohmann::json list = nlohmann::json::array();
  for (const ValueShape& v : values) {
    if (!v.fixed) continue;
    list.push_back({{"float", *v.fixed}});
  }
  return list;
}

std::string op_label(const NodeStats& node) {
  return node.activation.empty() ? node.op_type : node.op_type + "+" + node.activation;
}

void write_trace(const std::string& file, const std::vector<NodeStats>& nodes, const std::vector<NodeEvent>& events,
                 const std::vector<RunEvent>& runs, const RunSetup& setup) {
  nlohmann::json trace = nlohmann::json::array();
  for (size_t r = 0; r < runs.size(); ++r) {
    trace.push_back({{"cat", "Session"},
                     {"pid", 1},
                     {"tid", 1},
                     {"dur", runs[r].duration_us},
                     {"ts", runs[r].start_us},
                     {"ph", "X"},
                     {"name", "model_run"},
                     {"args",
                      {{"run", static_cast<int>(r)},
                       {"threads", setup.options.threads},
                       {"isa", setup.settings.isa.value}}}});
  }
  for (const NodeEvent& e : events) {
    const NodeStats& node = nodes[e.node_index];
    nlohmann::json args = {{"op_name", node.op_type},
                           {"input_type_shape", type_shapes(node.inputs)},
                           {"output_type_shape", type_shapes(node.outputs)},
                           {"run", e.run},
                           {"provider", "kiln"}};
    if (!node.activation.empty()) args["activation"] = node.activation;
    if (!node.kernel.empty()) args["kernel"] = node.kernel;
    if (node.macs) args["macs"] = *node.macs;
    trace.push_back({{"cat", "Node"},
                     {"pid", 1},
                     {"tid", 1},
                     {"dur", e.duration_us},
                     {"ts", e.start_us},
                     {"ph", "X"},
                     {"name", node.name + "_kernel_time"},
                     {"args", args}});
  }
  std::ofstream out(file);
  out << trace.dump(1) << "\n";
  if (!out) fail("cannot write the trace file ", file);
}

int profile_model(const ProfileArgs& args) {
  RunSetup setup = resolve_run_setup(args.run);
  auto clock_start = std::chrono::steady_clock::now();
  auto micros_since_start = [&](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double, std::micro>(t - clock_start).count();
  };

  std::vector<NodeStats> nodes;
  std::map<std::string, size_t> node_index;  // by node name + op (names may be empty)
  std::vector<NodeEvent> events;
  int current_run = -1;  // -1 during warm-up: not recorded
  size_t run_position = 0;  // node position inside the current run
  setup.options.node_observer = [&](const NodeRunInfo& info) {
    if (current_run < 0) return;
    auto end = std::chrono::steady_clock::now();
    // Nodes run in the same order every time, so the position identifies a node.
    size_t index = run_position++;
    if (index >= nodes.size()) {
      NodeShapes shapes = node_shapes_from_run(info);
      NodeStats stats;
      stats.name = info.node_name.empty() ? "#" + std::to_string(index) : info.node_name;
      stats.op_type = info.op_type;
      stats.activation = info.activation;
      stats.kernel = info.kernel;
      stats.inputs = shapes.inputs;
      stats.outputs = shapes.outputs;
      stats.macs = count_macs(shapes);
      nodes.push_back(std::move(stats));
    }
    NodeStats& stats = nodes[index];
    stats.total_seconds += info.seconds;
    ++stats.calls;
    double end_us = micros_since_start(end);
    events.push_back({index, current_run, end_us - info.seconds * 1e6, info.seconds * 1e6});
  };
  Session session = Session::open(args.run.model, setup.options);
  NamedTensors inputs = make_inputs(session);

  std::vector<RunEvent> runs;
  {
    Progress progress("profile", args.run.warmup + args.run.runs);
    for (int i = 0; i < args.run.warmup; ++i) {
      session.run(inputs);
      progress.step();
    }
    for (int i = 0; i < args.run.runs; ++i) {
      current_run = i;
      run_position = 0;
      auto start = std::chrono::steady_clock::now();
      session.run(inputs);
      auto end = std::chrono::steady_clock::now();
      runs.push_back({micros_since_start(start), micros_since_start(end) - micros_since_start(start)});
      progress.step();
    }
  }

  double run_total_ms = 0;
  for (const RunEvent& r : runs) run_total_ms += r.duration_us / 1000;
  double node_total_ms = 0;
  for (const NodeStats& n : nodes) node_total_ms += n.total_seconds * 1000;
  const Isa isa = parse_isa_name(setup.settings.isa.value);  // the level of the session's kernel table
  const int threads = session.threads();
  const double core_peak_gflops = kernels::f32_peak_gflops_per_core(isa);  // measured now, about 30 ms
  const double peak_gflops = core_peak_gflops * std::min(threads, physical_core_count());

  std::printf("model    %s\n", args.run.model.c_str());
  std::printf("settings %s\n", describe_settings(setup.settings).c_str());
  std::printf("runs     %d timed after %d warm-up; run wall time %.3f ms in all, %.3f ms per run\n", args.run.runs,
              args.run.warmup, run_total_ms, run_total_ms / args.run.runs);
  std::printf("nodes    %zu per run; node times add up to %.3f ms (%.1f%% of run wall time; the rest is the "
              "executor between nodes)\n",
              nodes.size(), node_total_ms, run_total_ms > 0 ? 100 * node_total_ms / run_total_ms : 0.0);
  std::printf("peak     %.0f GFLOP/s (%s, %.0f per core measured now x %d threads)\n\n", peak_gflops, isa_name(isa),
              core_peak_gflops, std::min(threads, physical_core_count()));

  std::vector<size_t> order(nodes.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return nodes[a].total_seconds > nodes[b].total_seconds; });
  size_t shown = std::min(order.size(), static_cast<size_t>(args.top));
  std::printf("Top %zu nodes by total time (ms are per run, averaged over %d runs)\n", shown, args.run.runs);
  std::printf("%-4s %-36s %-22s %-20s %9s %6s %9s %6s  %s\n", "#", "node", "op", "output", "ms", "%", "GFLOP/s",
              "%peak", "kernel");
  for (size_t k = 0; k < shown; ++k) {
    const NodeStats& n = nodes[order[k]];
    double ms = n.total_seconds * 1000 / std::max(1, n.calls);
    double percent = node_total_ms > 0 ? 100 * n.total_seconds * 1000 / node_total_ms : 0;
    std::string gflops = "-", of_peak = "-";
    if (n.macs && n.total_seconds > 0) {
      double rate = 2.0 * static_cast<double>(*n.macs) * n.calls / n.total_seconds / 1e9;
      char text[32];
      std::snprintf(text, sizeof(text), "%.1f", rate);
      gflops = text;
      std::snprintf(text, sizeof(text), "%.0f%%", 100 * rate / peak_gflops);
      of_peak = text;
    }
    std::string name = n.name.size() > 36 ? n.name.substr(0, 33) + "..." : n.name;
    std::printf("%-4zu %-36s %-22s %-20s %9.3f %5.1f%% %9s %6s  %s\n", k + 1, name.c_str(), op_label(n).c_str(),
                shapes_text(n.outputs).c_str(), ms, percent, gflops.c_str(), of_peak.c_str(),
                n.kernel.empty() ? "-" : n.kernel.c_str());
  }

  struct OpTotals {
    double seconds = 0;
    int nodes = 0;
    int64_t macs = 0;
    bool all_macs = true;
  };
  std::map<std::string, OpTotals> by_op;
  for (const NodeStats& n : nodes) {
    OpTotals& t = by_op[n.op_type];
    t.seconds += n.total_seconds;
    ++t.nodes;
    if (n.macs) t.macs += *n.macs * n.calls;
    else t.all_macs = false;
  }
  std::vector<std::pair<std::string, OpTotals>> ops(by_op.begin(), by_op.end());
  std::stable_sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
  std::printf("\nBy op type (ms per run)\n%-22s %6s %10s %6s %9s\n", "op", "nodes", "ms", "%", "GFLOP/s");
  for (const auto& [op, t] : ops) {
    double percent = node_total_ms > 0 ? 100 * t.seconds * 1000 / node_total_ms : 0;
    std::string gflops = "-";
    if (counts_macs(op) && t.all_macs && t.seconds > 0) {
      char text[32];
      std::snprintf(text, sizeof(text), "%.1f", 2.0 * static_cast<double>(t.macs) / t.seconds / 1e9);
      gflops = text;
    }
    std::printf("%-22s %6d %10.3f %5.1f%% %9s\n", op.c_str(), t.nodes, t.seconds * 1000 / args.run.runs, percent,
                gflops.c_str());
  }
  std::map<std::string, int> fused;
  for (const NodeStats& n : nodes)
    if (!n.activation.empty()) ++fused[n.activation];
  if (!fused.empty()) {
    std::string text;
    for (const auto& [activation, count] : fused) text += (text.empty() ? "" : ", ") + activation + " x" + std::to_string(count);
    std::printf("\nFusedConv activations: %s\n", text.c_str());
  }

  if (!args.json_file.empty()) {
    write_trace(args.json_file, nodes, events, runs, setup);
    std::printf("\ntrace    %s (%zu node events; open in https://ui.perfetto.dev or chrome://tracing)\n",
                args.json_file.c_str(), events.size());
  }
  return 0;
}

}  // namespace

void add_profile_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<ProfileArgs>();
  CLI::App* command = app.add_subcommand("profile", "Time every node of a model and show where the time goes");
  command->footer(
      "Runs the model W times untimed, then K times with every node timed (inputs are pseudo-random, as in\n"
      "'kiln run'). Prints the N slowest nodes (Conv/Gemm/MatMul with achieved GFLOP/s and % of the machine\n"
      "peak for the ISA in use; the microkernel each node runs, e.g. f32_gemm_6x16_avx2) and a summary per\n"
      "op type. --json writes a Chrome trace (onnxruntime's profiler layout) for https://ui.perfetto.dev or\n"
      "chrome://tracing. Threads, opt-level and ISA come from their flags, else MODEL.kiln-tune.json (unless\n"
      "--no-tune), else the defaults, as in 'kiln bench'.\n\n"
      "Example:\n"
      "  kiln profile det.onnx --shape x=1x3x320x320 --runs 5 --top 15 --json det_trace.json\n");
  add_model_run_options(*command, args->run, 10);
  command->add_option("-n,--top", args->top, "Show the N slowest nodes")
      ->type_name("N")
      ->check(CLI::Range(1, 1000000).description(""))
      ->capture_default_str();
  command->add_option("--json", args->json_file, "Write a Chrome trace of every timed node to FILE")->type_name("FILE");
  command->callback([args, command, &action] {
    args->run.given = given_settings(*command);
    action = [args] { return profile_model(*args); };
  });
}

}  // namespace kiln::cli
