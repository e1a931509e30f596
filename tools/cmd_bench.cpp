// `kiln bench MODEL`: latency statistics over K timed runs after W warm-up
// runs (min, median, p90, max), throughput and memory. --json prints one JSON
// object instead (with every timed run in times_ms, in run order), which
// `kiln sweep`, `kiln tune` and benchmarks/ort/compare.js read from child processes.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
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
  int instances = 0;  // --instances; 0 when not given (one instance, throughput from the median)
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

// One session of the benchmark: its inputs and the times of its timed runs.
struct Instance {
  std::optional<Session> session;
  NamedTensors inputs;
  std::vector<double> run_ms;
  std::chrono::steady_clock::time_point first_start, last_end;  // the timed runs' window
};

// Runs `instances` sessions at once, each on its own thread: W warm-up runs,
// then all wait until every one is warm, then K timed runs each. The throughput
// is every timed run over the window from the first timed start to the last
// end, so it counts what the instances slow each other down by.
void run_instances(std::vector<Instance>& instances, int warmup, int runs,
                   const std::function<void(const NamedTensors&)>& check_first, Progress& progress) {
  std::mutex mutex;
  std::condition_variable all_warm;
  size_t warm = 0;
  std::exception_ptr error;
  auto work = [&](size_t index) {
    Instance& self = instances[index];
    try {
      for (int i = 0; i < warmup; ++i) {
        NamedTensors outputs = self.session->run(self.inputs);
        if (index == 0 && i == 0) check_first(outputs);
        std::lock_guard<std::mutex> lock(mutex);
        progress.step();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!error) error = std::current_exception();
    }
    {
      std::unique_lock<std::mutex> lock(mutex);
      if (++warm == instances.size()) all_warm.notify_all();
      all_warm.wait(lock, [&] { return warm == instances.size(); });
      if (error) return;
    }
    try {
      self.first_start = std::chrono::steady_clock::now();
      for (int i = 0; i < runs; ++i) {
        Stopwatch clock;
        NamedTensors outputs = self.session->run(self.inputs);
        self.run_ms.push_back(clock.milliseconds());
        if (index == 0 && i == 0 && warmup == 0) check_first(outputs);
        std::lock_guard<std::mutex> lock(mutex);
        progress.step();
      }
      self.last_end = std::chrono::steady_clock::now();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!error) error = std::current_exception();
    }
  };
  if (instances.size() == 1) {
    work(0);
  } else {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < instances.size(); ++i) threads.emplace_back(work, i);
    for (std::thread& t : threads) t.join();
  }
  if (error) std::rethrow_exception(error);
}

int bench_model(const BenchArgs& args) {
  RunSetup setup = resolve_run_setup(args.run);
  const int64_t batch_flag = args.run.batch;
  const int instance_count = std::max(args.instances, 1);
  const unsigned cpus = std::thread::hardware_concurrency();
  if (instance_count > 1 && cpus > 0 && static_cast<long>(instance_count) * setup.options.threads > long{cpus})
    std::fprintf(stderr, "kiln: warning: %d instances x %d threads = %d threads on this machine's %u logical CPUs: "
                 "they take turns, so each inference is slower than it would be alone\n",
                 instance_count, setup.options.threads, instance_count * setup.options.threads, cpus);
  Stopwatch open_clock;
  // One parse; every instance's session shares its weights.
  Model model = Model::open(args.run.model);
  std::optional<ModelDescription> declared;
  if (batch_flag > 0) {
    DescribeOptions as_declared;
    as_declared.infer_shapes = false;
    declared = model.describe(as_declared);
  }
  std::vector<Instance> instances(static_cast<size_t>(instance_count));
  double open_ms = 0;
  for (Instance& instance : instances) {
    try {
      instance.session.emplace(Session::open(model, setup.options));
    } catch (const Error& e) {
      if (batch_flag > 0) fail(at_batch(batch_flag), e.what(), " (the graph may fix its batch size there)");
      throw;
    }
    if (open_ms == 0) open_ms = open_clock.milliseconds();
    instance.inputs = make_inputs(*instance.session);
  }
  Session& session = *instances[0].session;
  const NamedTensors& inputs = instances[0].inputs;

  // The first run's outputs are checked against --batch, outside the timing.
  auto check_first = [&](const NamedTensors& outputs) {
    if (declared) check_outputs_follow_batch(*declared, outputs, batch_flag);
  };
  const std::optional<double> load = load_average();
  warn_if_busy(session.threads() * instance_count);
  try {
    Progress progress("bench", static_cast<long>(args.run.warmup + args.run.runs) * instance_count);
    run_instances(instances, args.run.warmup, args.run.runs, check_first, progress);
  } catch (const Error& e) {
    // A run that fails at a batch the model was not exported for names the node (and says so).
    const std::string message = e.what();
    if (batch_flag > 0 && message.find("at batch ") != 0)
      fail(at_batch(batch_flag), message, " (the graph may fix its batch size there)");
    throw;
  }
  std::vector<double> run_ms;
  auto first_start = instances[0].first_start, last_end = instances[0].last_end;
  for (const Instance& instance : instances) {
    run_ms.insert(run_ms.end(), instance.run_ms.begin(), instance.run_ms.end());
    first_start = std::min(first_start, instance.first_start);
    last_end = std::max(last_end, instance.last_end);
  }
  const double wall_ms = std::chrono::duration<double, std::milli>(last_end - first_start).count();
  LatencyStats stats = latency_stats(run_ms);
  int64_t batch = 1;
  if (!inputs.empty() && !inputs.begin()->second.shape().empty()) batch = inputs.begin()->second.shape()[0];
  // One instance: from the median, which one slow run does not move. Several:
  // every run over the window they shared, the throughput a server would see.
  const bool from_wall = args.instances > 0;
  double per_second = from_wall ? (wall_ms > 0 ? static_cast<double>(run_ms.size()) * 1000.0 / wall_ms : 0)
                                : (stats.median_ms > 0 ? 1000.0 / stats.median_ms : 0);
  const MemorySummary& memory = session.memory_summary();
  uint64_t rss = peak_rss_bytes();

  if (args.json) {
    nlohmann::json out = {{"model", args.run.model},
                          {"inputs", shapes_of(inputs)},
                          {"batch", batch},
                          {"threads", session.threads()},
                          {"instances", instance_count},
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
                          {"wall_ms", wall_ms},
                          {"throughput_from", from_wall ? "wall time" : "median"},
                          {"inferences_per_second", per_second},
                          {"samples_per_second", per_second * static_cast<double>(batch)},
                          {"peak_rss_bytes", rss},
                          {"load_average_1min", load ? nlohmann::json(*load) : nlohmann::json()},
                          {"arena_bytes", memory.arena_bytes},
                          {"largest_live_bytes", memory.peak_live_bytes},
                          {"in_place_values", memory.in_place_values},
                          {"concat_slice_values", memory.concat_slice_values},
                          {"constant_bytes", memory.constant_bytes}};
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  std::printf("model       %s\n", args.run.model.c_str());
  std::printf("inputs      %s\n", shapes_of(inputs).c_str());
  std::printf("settings    %s\n", describe_settings(setup.settings).c_str());
  std::printf("session     created in %.2f ms\n", open_ms);
  if (instance_count > 1)
    std::printf("runs        %d timed after %d warm-up, in each of %d instances at once (threads %d each)\n",
                args.run.runs, args.run.warmup, instance_count, session.threads());
  else
    std::printf("runs        %d timed after %d warm-up\n", args.run.runs, args.run.warmup);
  std::printf("latency     min %.3f ms, median %.3f ms, p90 %.3f ms, max %.3f ms%s\n", stats.min_ms, stats.median_ms,
              stats.p90_ms, stats.max_ms, instance_count > 1 ? " (per inference, all instances)" : "");
  if (from_wall)
    std::printf("throughput  %.2f inferences/s (%zu runs of %d instance%s in %.1f ms of wall time)", per_second,
                run_ms.size(), instance_count, instance_count == 1 ? "" : "s", wall_ms);
  else
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
      "--instances N runs N sessions at once (sharing the weights), each with --threads threads, as a\n"
      "server with N workers would; throughput is then every timed run over the wall time they took.\n"
      "Before timing it warns on stderr when the machine is busy: a 1-minute load average above\n"
      "max(0.5, logical CPUs - threads x instances); --json reports the load as load_average_1min.\n"
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
  command->add_option("--instances", args->instances,
                      "Run N sessions at once, each on its own thread with --threads threads, and report their "
                      "total throughput (inferences over the wall time) and the latency of one inference")
      ->type_name("N")
      ->check(CLI::Range(1, 1024).description(""));
  command->add_flag("--json", args->json, "Print one JSON object (median_ms, min_ms, max_ms, p90_ms, times_ms, runs, threads, isa, ...)");
  command->callback([args, command, &action] {
    args->run.given = given_settings(*command);
    action = [args] { return bench_model(*args); };
  });
}

}  // namespace kiln::cli
