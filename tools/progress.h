// A progress report for long CLI loops (profile, bench, sweep, tune).
//
//   Progress progress("bench", total_steps);
//   for (...) { work(); progress.step(); }
//   progress.finish();
//
// Nothing is shown for the first ~2 seconds, so quick commands stay quiet.
// After that, on a terminal (isatty(stderr)) one line is redrawn in place:
//   bench [##########..........] 12/24  50%  ETA 6s
// and when stderr is not a terminal a plain line is printed at most every
// few seconds ("bench: 12/24 (50%), ETA 6s"). All output goes to stderr, so
// stdout (tables, JSON) is never mixed with it.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>

namespace kiln::cli {

class Progress {
 public:
  Progress(std::string label, long total, std::FILE* out = stderr);
  ~Progress();  // calls finish()
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // One more step done (or `count` more).
  void step(long count = 1);
  // Clears the bar (terminal) or prints a closing line if anything was shown.
  void finish();

  // The text of one report, for tests and for both display modes:
  // "[####....] 3/8  37%  ETA 5s" (bar only when `bar_width` > 0).
  static std::string format(long done, long total, double elapsed_seconds, int bar_width);

 private:
  void show(bool force);

  std::string label_;
  long total_;
  long done_ = 0;
  std::FILE* out_;
  bool terminal_;
  bool shown_ = false;
  long done_when_shown_ = -1;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_shown_;
};

}  // namespace kiln::cli

namespace kiln::cli {

// Per-node progress of one long inference (kiln run --image), on stderr and
// only when it is a terminal, after ~2 seconds:
//   inference [#########...............] 120/291 nodes  41%  ETA 6s
// The share and the ETA come from the multiply-accumulates done so far
// against the plan's total when that is known (the big convolutions are most
// of the time), else from the node count.
class InferenceProgress {
 public:
  // `total_macs` is asked for once, only when the line is first shown (it
  // costs a describe of the model, not worth it for a quick run).
  InferenceProgress(size_t total_nodes, std::function<std::optional<int64_t>()> total_macs,
                    std::FILE* out = stderr);
  ~InferenceProgress();  // calls finish()
  InferenceProgress(const InferenceProgress&) = delete;
  InferenceProgress& operator=(const InferenceProgress&) = delete;

  // A node finished; `macs` are its multiply-accumulates (0 for most ops).
  void node_done(int64_t macs);
  // Clears the line if one was shown.
  void finish();

  // The text of one report (no bar when bar_width is 0); `total_macs` unknown
  // or 0: by nodes.
  static std::string format(size_t done_nodes, size_t total_nodes, int64_t done_macs,
                            std::optional<int64_t> total_macs, double elapsed_seconds, int bar_width);

 private:
  size_t total_nodes_;
  size_t done_nodes_ = 0;
  int64_t done_macs_ = 0;
  std::function<std::optional<int64_t>()> total_macs_source_;
  std::optional<int64_t> total_macs_;
  bool asked_total_ = false;
  std::FILE* out_;
  bool terminal_;
  bool shown_ = false;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_shown_;
};

}  // namespace kiln::cli
