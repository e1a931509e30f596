#include "tools/bench_common.h"

#include <CLI/CLI.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <thread>


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

std::optional<double> load_average() {
  if (const char* fake = std::getenv("KILN_TEST_LOADAVG"); fake != nullptr && *fake != '\0') {
    char* end = nullptr;
    double value = std::strtod(fake, &end);
    if (end != fake && *end == '\0' && value >= 0) return value;
    fail("KILN_TEST_LOADAVG='", fake, "' is not a load average (a number >= 0)");
  }
  double loads[1];
  if (::getloadavg(loads, 1) != 1) return std::nullopt;
  return loads[0];
}

std::string warn_if_busy(int threads_needed) {
  if (const char* checked = std::getenv("KILN_LOAD_CHECKED"); checked != nullptr && *checked != '\0') return "";
  std::optional<double> load = load_average();
  const unsigned cpus = std::thread::hardware_concurrency();
  if (!load || cpus == 0) return "";
  // The CPUs the run does not need can carry other work without slowing it;
  // below 0.5 the machine is idle whatever the count.
  const double allowed = std::max(0.5, static_cast<double>(cpus) - threads_needed);
  if (*load <= allowed) return "";
  char text[400];
  std::snprintf(text, sizeof(text),
                "the machine is busy: its 1-minute load average (getloadavg) is %.2f as timing starts, on %u logical "
                "CPUs, and the timing needs %d thread%s; other work takes CPU time from it, so the times are slower "
                "and noisier than on an idle machine",
                *load, cpus, threads_needed, threads_needed == 1 ? "" : "s");
  std::fprintf(stderr, "kiln: warning: %s\n", text);
  return text;
}

}  // namespace kiln::cli
