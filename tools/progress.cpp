#include "tools/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace kiln::cli {
namespace {

constexpr double kQuietSeconds = 2.0;         // show nothing before this
constexpr double kTerminalRedrawSeconds = 0.2;
constexpr double kPlainLineSeconds = 5.0;     // between plain lines when not a terminal
constexpr int kBarWidth = 24;

double seconds_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string duration_text(double seconds) {
  long s = std::lround(std::max(0.0, seconds));
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
  return std::to_string(s / 3600) + "h" + std::to_string(s % 3600 / 60) + "m";
}

}  // namespace

Progress::Progress(std::string label, long total, std::FILE* out)
    : label_(std::move(label)),
      total_(std::max(1L, total)),
      out_(out),
      terminal_(::isatty(::fileno(out)) == 1),
      start_(std::chrono::steady_clock::now()),
      last_shown_(start_) {}

Progress::~Progress() { finish(); }

std::string Progress::format(long done, long total, double elapsed_seconds, int bar_width) {
  total = std::max(1L, total);
  done = std::clamp(done, 0L, total);
  std::string text;
  if (bar_width > 0) {
    int filled = static_cast<int>(static_cast<double>(done) / static_cast<double>(total) * bar_width);
    text.append(1, '[').append(static_cast<size_t>(filled), '#').append(static_cast<size_t>(bar_width - filled), '.').append("] ");
  }
  int percent = static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total));
  text += std::to_string(done) + "/" + std::to_string(total) + "  " + std::to_string(percent) + "%";
  if (done > 0 && done < total) {
    double eta = elapsed_seconds / static_cast<double>(done) * static_cast<double>(total - done);
    text += "  ETA " + duration_text(eta);
  } else if (done == total) {
    text += "  took " + duration_text(elapsed_seconds);
  }
  return text;
}

void Progress::step(long count) {
  done_ += count;
  show(false);
}

void Progress::show(bool force) {
  auto now = std::chrono::steady_clock::now();
  double elapsed = seconds_between(start_, now);
  if (elapsed < kQuietSeconds && !force) return;
  double since_last = seconds_between(last_shown_, now);
  if (!force && shown_ && since_last < (terminal_ ? kTerminalRedrawSeconds : kPlainLineSeconds)) return;
  if (terminal_) {
    std::fprintf(out_, "\r%s %s\033[K", label_.c_str(), format(done_, total_, elapsed, kBarWidth).c_str());
  } else {
    std::fprintf(out_, "%s: %s\n", label_.c_str(), format(done_, total_, elapsed, 0).c_str());
  }
  std::fflush(out_);
  shown_ = true;
  done_when_shown_ = done_;
  last_shown_ = now;
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (!shown_) return;
  if (terminal_) {
    std::fprintf(out_, "\r\033[K");
  } else if (done_when_shown_ != done_) {
    show(true);  // the closing count, unless the last line already said it
  }
  std::fflush(out_);
}

}  // namespace kiln::cli

namespace kiln::cli {

InferenceProgress::InferenceProgress(size_t total_nodes, std::function<std::optional<int64_t>()> total_macs,
                                     std::FILE* out)
    : total_nodes_(std::max<size_t>(1, total_nodes)),
      total_macs_source_(std::move(total_macs)),
      out_(out),
      terminal_(::isatty(::fileno(out)) == 1),
      start_(std::chrono::steady_clock::now()),
      last_shown_(start_) {}

InferenceProgress::~InferenceProgress() { finish(); }

std::string InferenceProgress::format(size_t done_nodes, size_t total_nodes, int64_t done_macs,
                                      std::optional<int64_t> total_macs, double elapsed_seconds, int bar_width) {
  total_nodes = std::max<size_t>(1, total_nodes);
  done_nodes = std::min(done_nodes, total_nodes);
  const bool by_macs = total_macs && *total_macs > 0;
  double share = by_macs ? std::clamp(static_cast<double>(done_macs) / static_cast<double>(*total_macs), 0.0, 1.0)
                         : static_cast<double>(done_nodes) / static_cast<double>(total_nodes);
  if (done_nodes == total_nodes) share = 1.0;
  std::string text;
  if (bar_width > 0) {
    int filled = static_cast<int>(share * bar_width);
    text.append(1, '[').append(static_cast<size_t>(filled), '#').append(static_cast<size_t>(bar_width - filled), '.');
    text += "] ";
  }
  text += std::to_string(done_nodes) + "/" + std::to_string(total_nodes) + " nodes  " +
          std::to_string(static_cast<int>(100 * share)) + "%";
  if (share > 0 && share < 1) text += "  ETA " + duration_text(elapsed_seconds / share * (1 - share));
  if (!by_macs) text += " (by nodes)";
  return text;
}

void InferenceProgress::node_done(int64_t macs) {
  ++done_nodes_;
  done_macs_ += macs;
  if (!terminal_ || finished_) return;
  auto now = std::chrono::steady_clock::now();
  double elapsed = seconds_between(start_, now);
  if (elapsed < kQuietSeconds || (shown_ && seconds_between(last_shown_, now) < kTerminalRedrawSeconds)) return;
  if (!asked_total_) {
    asked_total_ = true;
    if (total_macs_source_) total_macs_ = total_macs_source_();
  }
  std::fprintf(out_, "\rinference %s\033[K",
               format(done_nodes_, total_nodes_, done_macs_, total_macs_, elapsed, kBarWidth).c_str());
  std::fflush(out_);
  shown_ = true;
  last_shown_ = now;
}

void InferenceProgress::finish() {
  if (finished_) return;
  finished_ = true;
  if (!shown_) return;
  std::fprintf(out_, "\r\033[K");
  std::fflush(out_);
}

}  // namespace kiln::cli
