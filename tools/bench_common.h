// Pieces shared by `kiln profile`, `bench`, `sweep` and `tune`: the options
// that choose how a model is run, building the session and its inputs, and
// latency statistics.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kiln/session.h"
#include "tools/cli_common.h"
#include "tools/settings.h"

namespace kiln::cli {

struct ModelRunArgs {
  std::string model;
  ShapeArgs shape_args;
  int runs = 10;
  int warmup = 1;
  int64_t batch = 0;    // --batch (bench only): SessionOptions::batch; 0 = as the model declares
  GivenSettings given;  // --threads, --opt-level, --no-tune; set by the command's callback
};

// Registers MODEL, --shape/--dim, --threads, --opt-level, --max-memory, --runs, --warmup, --no-tune.
void add_model_run_options(CLI::App& command, ModelRunArgs& args, int default_runs);

// What the session is built with, and where each setting came from.
struct RunSetup {
  SessionOptions options;
  Settings settings;
};

// The settings resolved once (tools/settings.h), as session options with the
// --shape/--dim values.
RunSetup resolve_run_setup(const ModelRunArgs& args);

// Pseudo-random inputs for every declared input of `session`, each counted
// against its memory budget before it is made (reserve_input). Prints the
// session's memory warning first, if it has one.
NamedTensors make_inputs(Session& session);

// Latency statistics in milliseconds.
struct LatencyStats {
  double min_ms = 0, median_ms = 0, p90_ms = 0, max_ms = 0, mean_ms = 0;
};
LatencyStats latency_stats(std::vector<double> run_ms);

// Peak resident set size of this process so far (getrusage), in bytes.
uint64_t peak_rss_bytes();

// The machine's 1-minute load average (getloadavg): how many processes were
// running or waiting for a CPU, averaged. nullopt when the system does not
// tell. The environment variable KILN_TEST_LOADAVG, when set to a number,
// replaces the measurement: the CLI tests use it to fake a busy machine.
std::optional<double> load_average();

// Called by bench, sweep and tune just before their timing starts, while
// kiln itself has barely run (the 1-minute average has not yet seen it): when
// the load average is above max(0.5, logical CPUs - `threads_needed`), other
// work competes for the CPUs the timing needs, so it prints a warning on
// stderr that names the load, the CPUs and the threads, and returns the same
// text (without "kiln: warning: ") for reports; "" when the machine looks
// idle enough. Quiet in a `kiln bench` child of sweep or tune (KILN_LOAD_CHECKED
// set by tools/bench_child.cpp): the parent checked once before its first
// child, and later children would only see the load the sweep itself makes.
std::string warn_if_busy(int threads_needed);

}  // namespace kiln::cli
