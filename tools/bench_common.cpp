#include "tools/bench_common.h"

#include <CLI/CLI.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>


namespace kiln::cli {

void add_model_run_options(CLI::App& command, ModelRunArgs& args, int default_runs) {
  args.runs = default_runs;
  command.add_option("model", args.model, "The ONNX model file")->required()->type_name("MODEL");
  add_shape_options(command, args.shape_args);
  add_setting_options(command);
  command.add_option("-r,--runs", args.runs, "Timed runs")
      ->type_name("K")
      ->check(CLI::Range(1, 1000000).description(""))
      ->capture_default_str();
  command.add_option("-w,--warmup", args.warmup, "Untimed runs before the timed ones")
      ->type_name("W")
      ->check(CLI::Range(0, 1000000).description(""))
      ->capture_default_str();
}

RunSetup resolve_run_setup(const ModelRunArgs& args) {
  RunSetup setup;
  setup.settings = resolve_settings(args.model, args.given);
  setup.options.threads = setup.settings.thread_count();
  setup.options.opt_level = setup.settings.level();
  setup.options.isa = setup.settings.isa.value;
  setup.options.max_memory_bytes = setup.settings.max_memory_bytes();
  apply_shape_args(args.shape_args, setup.options);
  setup.options.batch = args.batch;
  return setup;
}

NamedTensors make_inputs(Session& session) {
  print_memory_warning(session);
  NamedTensors inputs;
  for (const TensorInfo& info : session.inputs()) {
    reserve_input(session, info);
    inputs.emplace(info.name, random_input(info));
  }
  return inputs;
}

LatencyStats latency_stats(std::vector<double> run_ms) {
  LatencyStats stats;
  if (run_ms.empty()) return stats;
  std::sort(run_ms.begin(), run_ms.end());
  size_t n = run_ms.size();
  stats.min_ms = run_ms.front();
  stats.max_ms = run_ms.back();
  stats.median_ms = n % 2 ? run_ms[n / 2] : (run_ms[n / 2 - 1] + run_ms[n / 2]) / 2;
  // Nearest-rank 90th percentile: the smallest value with at least 90% of runs at or below it.
  size_t rank = static_cast<size_t>(std::ceil(0.9 * static_cast<double>(n)));
  stats.p90_ms = run_ms[std::max<size_t>(rank, 1) - 1];
  stats.mean_ms = std::accumulate(run_ms.begin(), run_ms.end(), 0.0) / static_cast<double>(n);
  return stats;
}

uint64_t peak_rss_bytes() {
  struct rusage usage {};
  if (::getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

}  // namespace kiln::cli
