// The rows `kiln sweep` measures and the SVG chart it draws from them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::cli {

struct SweepRow {
  int threads = 1;
  std::string opt_level;
  std::string isa;
  int64_t batch = 0;      // requested --batch value; 0 when not swept
  // Measured by the child `kiln bench --json`:
  double median_ms = 0;
  double p90_ms = 0;
  int64_t batch_run = 1;  // the first input's dim 0 as run
  double samples_per_second = 0;
  uint64_t peak_rss_bytes = 0;
};

// A standalone SVG with two panels: throughput (samples/s) against batch, one
// line per (threads, opt-level, isa); and median latency against threads, one
// line per (opt-level, isa, batch). Single points are drawn as dots.
std::string sweep_svg(const std::vector<SweepRow>& rows, const std::string& title);

}  // namespace kiln::cli
