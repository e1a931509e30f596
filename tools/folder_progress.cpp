#include "tools/folder_progress.h"

#include <unistd.h>

#include <cstdio>

namespace kiln::cli {
namespace {

constexpr int kBarWidth = 24;

std::string minutes_seconds(double seconds) {
  long whole = seconds < 0 ? 0 : static_cast<long>(seconds + 0.5);
  char text[32];
  std::snprintf(text, sizeof(text), "%ld:%02ld", whole / 60, whole % 60);
  return text;
}

}  // namespace

FolderProgress::FolderProgress(size_t total, bool interactive) : total_(total), interactive_(interactive) {}

bool FolderProgress::stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

void FolderProgress::clear_line() {
  if (!line_drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  line_drawn_ = false;
}

void FolderProgress::item_done(size_t index, double milliseconds, const std::string& note) {
  size_t done = index + 1;
  if (!interactive_) {
    std::fprintf(stderr, "[%zu/%zu] %s %.1f ms\n", done, total_, note.c_str(), milliseconds);
    std::fflush(stderr);
    return;
  }
  double elapsed_s = clock_.milliseconds() / 1000.0;
  double eta_s = elapsed_s / static_cast<double>(done) * static_cast<double>(total_ - done);
  int filled = static_cast<int>(kBarWidth * done / (total_ ? total_ : 1));
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kBarWidth - filled), '.');
  clear_line();
  std::fprintf(stderr, "[%s] %zu/%zu %3zu%% ETA %s  %s %.1f ms", bar.c_str(), done, total_,
               done * 100 / (total_ ? total_ : 1), minutes_seconds(eta_s).c_str(), note.c_str(), milliseconds);
  std::fflush(stderr);
  line_drawn_ = true;
}

void FolderProgress::message(const std::string& text) {
  clear_line();
  std::fprintf(stderr, "%s\n", text.c_str());
  std::fflush(stderr);
}

void FolderProgress::finish() {
  clear_line();
  std::fflush(stderr);
}

}  // namespace kiln::cli
