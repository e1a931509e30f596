// Progress of a long loop over files, on stderr: on a terminal one line
// redrawn in place (a bar, done/total, ETA, the last item's time); otherwise
// one plain line per item, so logs stay readable.
#pragma once

#include <cstddef>
#include <string>

#include "tools/cli_common.h"

namespace kiln::cli {

class FolderProgress {
 public:
  // `total` items; `interactive`: redraw one line (true when stderr is a terminal).
  FolderProgress(size_t total, bool interactive);
  // Item number `index` (0-based) finished in `milliseconds`; `note` is its name and result.
  void item_done(size_t index, double milliseconds, const std::string& note);
  // A message that must stay visible (a failure): printed on its own line.
  void message(const std::string& text);
  // Clears the redrawn line (call once at the end).
  void finish();

  static bool stderr_is_terminal();

 private:
  void clear_line();
  size_t total_;
  bool interactive_;
  bool line_drawn_ = false;
  Stopwatch clock_;
};

}  // namespace kiln::cli
