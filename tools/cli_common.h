// Helpers shared by the kiln subcommands: parsing NAME=VALUE options, shapes,
// output file names, tensor summaries and number formatting.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "kiln/error.h"
#include "kiln/session.h"
#include "kiln/tensor.h"

namespace CLI {
class App;
}

namespace kiln::cli {

// A bad command line that parsed (an option's value makes no sense): the
// command exits 2 like for an unknown option, not 1 like for a bad model.
class UsageError : public Error {
 public:
  using Error::Error;
};

template <class... Parts>
[[noreturn]] void fail_usage(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  throw UsageError(out.str());
}

// What main runs after a subcommand's options parsed successfully; returns the exit code.
using Action = std::function<int()>;

// Each subcommand registers itself on the app and sets `action` when chosen.
void add_run_command(CLI::App& app, Action& action);
void add_inspect_command(CLI::App& app, Action& action);
void add_info_command(CLI::App& app, Action& action);
void add_profile_command(CLI::App& app, Action& action);
void add_bench_command(CLI::App& app, Action& action);
void add_sweep_command(CLI::App& app, Action& action);
void add_tune_command(CLI::App& app, Action& action);
void add_optimize_command(CLI::App& app, Action& action);

// The --shape NAME=DIMS and --dim SYMBOL=N options that run and inspect share.
struct ShapeArgs {
  std::vector<std::string> shapes;
  std::vector<std::string> dims;
};
void add_shape_options(CLI::App& command, ShapeArgs& args);
// Parses them into a session's input_shapes / dim_values (kiln::Error on bad syntax).
void apply_shape_args(const ShapeArgs& args, SessionOptions& options);

// --opt-level none|basic|extended|all (default all), shared by commands that build sessions.
void add_opt_level_option(CLI::App& command, std::string& level);
OptLevel parse_opt_level(const std::string& level);
// "level all: 672 -> 310 nodes (fold_constants 12, fuse_conv_batchnorm 3)".
std::string describe_optimization(const OptimizeReport& report);
// One line on the static memory plan: "arena 12.0 MiB for 40 values (9 in
// place), largest live set 10.0 MiB (arena 1.20x of it); 31.5 MiB without
// reuse", plus how many values are sized at run time, or why there is no plan.
std::string describe_memory_plan(const MemorySummary& memory);

// "1x3x736x1280" -> {1, 3, 736, 1280}; "scalar" -> {}. kiln::Error on bad syntax.
Shape parse_shape(const std::string& text);
// --max-memory's SIZE: plain bytes ("1073741824") or a number with a binary
// suffix K, M, G or T, any case, optionally followed by B or iB ("512M",
// "1G", "1.5G", "2GiB"). kiln::Error on anything else, on 0 and on sizes
// above 2^64.
uint64_t parse_byte_size(const std::string& text);

// "NAME=VALUE" -> {NAME, VALUE}, split at the first '=' (or the last when
// `split_at_last`); `option` names the flag in errors.
std::pair<std::string, std::string> split_assignment(const std::string& text, const std::string& option,
                                                     bool split_at_last = false);

// Every character outside [A-Za-z0-9._-] becomes '_'.
std::string sanitize_file_name(const std::string& name);

// Pseudo-random data for a declared input whose shape is fully known (after
// --shape/--dim); kiln::Error telling the user to pass --shape otherwise.
Tensor random_input(const TensorInfo& input);
// Counts an input kiln is about to make or load against the session's memory
// budget (Session::reserve_memory), before any of it is allocated: kiln::Error
// naming the input, its type, shape, the bytes and the budget otherwise.
void reserve_input(Session& session, const TensorInfo& input);
// The same for a tensor file: checks its size on disk (about the bytes its
// data will take) before it is read, loads it, then reserves the tensor's bytes.
Tensor load_input_file(Session& session, const std::string& name, const std::string& path);
// The session's memory warning (MemorySummary::warning), if any, on stderr.
void print_memory_warning(const Session& session);
// A library message in the command line's terms: SessionOptions::max_memory_bytes is --max-memory here.
std::string in_cli_terms(std::string message);

// True when every dim of the input is known.
bool has_static_shape(const TensorInfo& input);

// "min -1 max 0.98 mean 0.012 first [0.5, -0.25, ...]"; notes NaNs; "empty".
std::string summarize(const Tensor& tensor, int first_values = 5);

// 1234567 -> "1,234,567".
std::string with_commas(int64_t value);
// 1234567 -> "1.23 M"; 3.2e9 -> "3.20 G".
std::string with_si_suffix(double value);
// Bytes -> "13.2 MiB".
std::string human_bytes(uint64_t bytes);
// Newlines and tabs -> "; " and " ", for one-line error messages.
std::string one_line(const std::string& message);

// Milliseconds since construction.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double milliseconds() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace kiln::cli
