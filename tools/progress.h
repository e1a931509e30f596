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
#include <cstdio>
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
