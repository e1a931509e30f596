// Pieces shared by `kiln profile`, `bench`, `sweep` and `tune`: the options
// that choose how a model is run, building the session and its inputs, and
// latency statistics.
#pragma once

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

}  // namespace kiln::cli
