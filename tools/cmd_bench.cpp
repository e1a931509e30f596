// `kiln bench MODEL`: latency statistics over K timed runs after W warm-up
// runs (min, median, p90, max), throughput and memory. --json prints one JSON
// object instead (with every timed run in times_ms, in run order), which
// `kiln sweep`, `kiln tune` and benchmarks/ort/compare.js read from child processes.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kiln/model_info.h"
#include "tools/bench_common.h"
#include "tools/progress.h"

namespace kiln::cli {
namespace {

struct BenchArgs {
  ModelRunArgs run;
  bool json = false;
};

std::string shapes_of(const NamedTensors& inputs) {
  std::string text;
  for (const auto& [name, tensor] : inputs) text += (text.empty() ? "" : " ") + name + "=" + shape_to_string(tensor.shape());
  return text;
}

std::string at_batch(int64_t batch) {
  return "at batch " + std::to_string(batch) + " (--batch: dim 0 of every input replaced): ";
}

// True when the model declares an output's dim 0 as an input's dim 0 (the
// same fixed size or the same symbol): the output has a batch dim, which must
// follow the inputs' when --batch replaces theirs.
bool follows_batch(const TensorInfo& output, const std::vector<TensorInfo>& inputs) {
  if (!output.has_shape || output.dims.empty()) return false;
  for (const TensorInfo& input : inputs) {
    if (!input.has_shape || input.dims.empty()) continue;
    if (output.dims[0] >= 0 ? output.dims[0] == input.dims[0]
                            : !output.dim_names[0].empty() && output.dim_names[0] == input.dim_names[0])
      return true;
  }
  return false;
}

// --batch B replaced dim 0 of every input; a graph whose shapes still fit
// while it keeps its old batch inside (a Reshape to 1x-1) would run and give
// outputs of the old batch: wrong answers, so an error here.
void check_outputs_follow_batch(const ModelDescription& declared, const NamedTensors& outputs, int64_t batch) {
  for (const TensorInfo& output : declared.outputs) {
    if (!follows_batch(output, declared.inputs)) continue;
    auto it = outputs.find(output.name);
    if (it == outputs.end() || it->second.shape().empty() || it->second.shape()[0] == batch) continue;
    fail(at_batch(batch), "output '", output.name, "' (declared ", output.shape_string(), ") came out as ",
         shape_to_string(it->second.shape()), ": the model keeps its batch size inside the graph (a Reshape or other op with a constant shape), "
         "so it cannot run at another batch");
  }
}

int bench_model(const BenchArgs& args) {
  RunSetup setup = resolve_run_setup(args.run);
  const int64_t batch_flag = args.run.batch;
  std::optional<ModelDescription> declared;
  Stopwatch open_clock;
  std::optional<Session> opened;
  if (batch_flag > 0) {
    Model model = Model::open(args.run.model);
    DescribeOptions as_declared;
    as_declared.infer_shapes = false;
    declared = model.describe(as_declared);
    try {
      opened.emplace(Session::open(model, setup.options));
    } catch (const Error& e) {
      fail(at_batch(batch_flag), e.what(), " (the graph may fix its batch size there)");
    }
  } else {
    opened.emplace(Session::open(args.run.model, setup.options));
  }
  Session& session = *opened;
  double open_ms = open_clock.milliseconds();
  NamedTensors inputs = make_inputs(session);
  std::vector<double> run_ms;
  // The first run's outputs are checked against --batch; the check is outside the timing.
  bool checked = !declared;
  auto run_once = [&](Stopwatch* clock) {
    if (checked) {
      session.run(inputs);
      if (clock != nullptr) run_ms.push_back(clock->milliseconds());
      return;
    }
    NamedTensors outputs;
    try {
      outputs = session.run(inputs);
    } catch (const Error& e) {
      fail(at_batch(batch_flag), e.what(), " (the graph may fix its batch size there)");
    }
    if (clock != nullptr) run_ms.push_back(clock->milliseconds());
    check_outputs_follow_batch(*declared, outputs, batch_flag);
    checked = true;
  };
  {
    Progress progress("bench", args.run.warmup + args.run.runs);
    for (int i = 0; i < args.run.warmup; ++i) {
      run_once(nullptr);
      progress.step();
    }
    for (int i = 0; i < args.run.runs; ++i) {
      Stopwatch clock;
      run_once(&clock);
      progress.step();
    }
  }
  LatencyStats stats = latency_stats(run_ms);
  int64_t batch = 1;
  if (!inputs.empty() && !inputs.begin()->second.shape().empty()) batch = inputs.begin()->second.shape()[0];
  double per_second = stats.median_ms > 0 ? 1000.0 / stats.median_ms : 0;
  const MemorySummary& memory = session.memory_summary();
  uint64_t rss = peak_rss_bytes();

  if (args.json) {
    nlohmann::json out = {{"model", args.run.model},
                          {"inputs", shapes_of(inputs)},
                          {"batch", batch},
                          {"threads", session.threads()},
                          {"opt_level", setup.settings.opt_level.value},
                          {"isa", setup.settings.isa.value},
                          {"tuned_from", setup.settings.tune_file},
                          {"settings_from",
                           {{"threads", setup.settings.threads.source},
                            {"opt_level", setup.settings.opt_level.source},
                            {"isa", setup.settings.isa.source}}},
                          {"warmup", args.run.warmup},
                          {"runs", args.run.runs},
                          {"session_ms", open_ms},
                          {"min_ms", stats.min_ms},
                          {"median_ms", stats.median_ms},
                          {"p90_ms", stats.p90_ms},
                          {"max_ms", stats.max_ms},
                          {"mean_ms", stats.mean_ms},
                          {"times_ms", run_ms},
                          {"inferences_per_second", per_second},
                          {"samples_per_second", per_second * static_cast<double>(batch)},
                          {"peak_rss_bytes", rss},
                          {"arena_bytes", memory.arena_bytes},
                          {"largest_live_bytes", memory.peak_live_bytes},
                          {"in_place_values", memory.in_place_values},
                          {"constant_bytes", memory.constant_bytes}};
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  std::printf("model       %s\n", args.run.model.c_str());
  std::printf("inputs      %s\n", shapes_of(inputs).c_str());
  std::printf("settings    %s\n", describe_settings(setup.settings).c_str());
  std::printf("session     created in %.2f ms\n", open_ms);
  std::printf("runs        %d timed after %d warm-up\n", args.run.runs, args.run.warmup);
  std::printf("latency     min %.3f ms, median %.3f ms, p90 %.3f ms, max %.3f ms\n", stats.min_ms, stats.median_ms,
              stats.p90_ms, stats.max_ms);
  std::printf("throughput  %.2f inferences/s (from the median)", per_second);
  if (batch > 1) std::printf(", %.2f samples/s at batch %lld", per_second * static_cast<double>(batch), static_cast<long long>(batch));
  std::printf("\nmemory      peak resident %s; weights %s; %s\n", human_bytes(rss).c_str(),
              human_bytes(memory.constant_bytes).c_str(), describe_memory_plan(memory).c_str());
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* command = app.add_subcommand("bench", "Measure a model's latency, throughput and memory");
  command->footer(
      "Runs the model W times untimed, then K times timed, on pseudo-random inputs (as 'kiln run').\n"
      "Prints min/median/p90/max latency, inferences per second and peak resident memory.\n"
      "--batch B runs every input at batch B (dim 0 replaced, fixed or not); an error names the node\n"
      "when the graph cannot take it, or the output that keeps the old batch.\n"
      "Each setting comes from its flag when given, else from MODEL.kiln-tune.json (saved by 'kiln tune';\n"
      "--no-tune skips it), else the default; the settings line names each source.\n\n"
      "Example:\n"
      "  kiln bench det.onnx --shape x=1x3x320x320 --runs 20 --json\n");
  add_model_run_options(*command, args->run, 10);
  command->add_option("-b,--batch", args->run.batch,
                      "Run at batch size B: dim 0 of every input replaced by B, also when the model fixes it "
                      "(most exported CNNs fix it at 1). An error when the graph cannot take it")
      ->type_name("B")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40).description(""));
  command->add_flag("--json", args->json, "Print one JSON object (median_ms, min_ms, max_ms, p90_ms, times_ms, runs, threads, isa, ...)");
  command->callback([args, command, &action] {
    args->run.given = given_settings(*command);
    action = [args] { return bench_model(*args); };
  });
}

}  // namespace kiln::cli
