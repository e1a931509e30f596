// The rows `kiln sweep` measures and the chart it draws from them, with
// cairo (an image surface written as PNG, or an SVG surface), chosen by the
// --plot file's extension.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::cli {

struct SweepRow {
  int threads = 1;        // per instance
  std::string opt_level;
  std::string isa;
  int64_t batch = 0;      // requested --batch value; 0 when not swept
  int instances = 1;      // sessions running at once, each with `threads` threads
  int instances_flag = 0; // the --instances value passed to the child; 0 when not swept
  // Measured (by the child `kiln bench --json`):
  double median_ms = 0;   // median latency of one inference (one run of one instance)
  double p90_ms = 0;
  int64_t batch_run = 1;  // the first input's dim 0 as run
  double inferences_per_second = 0;  // all instances together
  double samples_per_second = 0;     // inferences/s x batch
  uint64_t peak_rss_bytes = 0;
};

enum class PlotFormat { kPng, kSvg };

// By the file's extension, any case: .png or .svg. UsageError (exit 2) for
// anything else, naming both.
PlotFormat plot_format_for(const std::string& path);

// The panels the rows give, in drawing order. A panel plots a value against
// one numeric setting (threads, batch, instances) and is drawn only when that
// setting has more than one value: "throughput vs batch", "latency vs
// threads", "throughput vs instances". When none varies but the rows differ
// in opt-level or ISA: "latency by setting" (bars). Empty for a single row.
std::vector<std::string> plot_panels(const std::vector<SweepRow>& rows);

// Default picture size for `panels` panels side by side.
int default_plot_width(size_t panels);
int default_plot_height();

// Draws the panels of plot_panels(rows) side by side in a width x height
// picture and writes it to `path` in `format`. kiln::Error when there is
// nothing to draw or the file cannot be written.
void write_sweep_plot(const std::string& path, PlotFormat format, const std::vector<SweepRow>& rows,
                      const std::string& title, int width, int height);

}  // namespace kiln::cli
