// Pieces shared by `kiln profile`, `bench`, `sweep` and `tune`: the options
// that choose how a model is run, building the session and its inputs, and
// latency statistics.
#pragma once

#include <string>
#include <vector>

#include "kiln/session.h"
#include "tools/cli_common.h"

namespace kiln::cli {

struct ModelRunArgs {
  std::string model;
  ShapeArgs shape_args;
  int threads = 0;              // 0: from the tune file, else the number of physical cores
  std::string opt_level;        // "": from the tune file, else "all"
  int runs = 10;
  int warmup = 1;
  bool use_tune_file = true;    // false with --no-tune
};

// Registers MODEL, --shape/--dim, --threads, --opt-level, --runs, --warmup, --no-tune.
void add_model_run_options(CLI::App& command, ModelRunArgs& args, int default_runs);

// What the session was built with, for reports.
struct RunSetup {
  SessionOptions options;
  std::string opt_level;   // "all", ...
  std::string isa;         // the ISA the kernels run at (KILN_ISA or the best)
  std::string tuned_from;  // the tune file applied, "" if none
};

// Session options from `args`, after a saved tune file (when present and not
// disabled) filled in what the command line left open.
RunSetup resolve_run_setup(const ModelRunArgs& args);

// Pseudo-random inputs for every declared input of `session`.
NamedTensors make_inputs(const Session& session);

// Latency statistics in milliseconds.
struct LatencyStats {
  double min_ms = 0, median_ms = 0, p90_ms = 0, max_ms = 0, mean_ms = 0;
};
LatencyStats latency_stats(std::vector<double> run_ms);

// Peak resident set size of this process so far (getrusage), in bytes.
uint64_t peak_rss_bytes();

}  // namespace kiln::cli
