// The sidecar file `kiln tune` writes next to a model, MODEL.kiln-tune.json:
//
//   {
//     "kiln_tune_version": 1,
//     "model": "det.onnx",
//     "shape": {"x": [1, 3, 320, 320]},   // the --shape values it was tuned for
//     "threads": 2,
//     "opt_level": "all",
//     "isa": "avx2",
//     "median_ms": 41.3,                  // the winner's measured median latency
//     "default_median_ms": 52.0,          // the defaults' median, same shape
//     "date": "2026-11-23T20:10:00Z",
//     "load_average_1min": 0.12,          // when tuning started (getloadavg); -1 when unknown
//     "busy_note": ""                     // the busy-machine warning tune printed, "" when none
//   }
//
// `kiln run` (also with --image/--images), `bench`, `profile` and `sweep` read
// it through resolve_settings() (tools/settings.h): a setting whose flag is not
// given comes from the file, unless --no-tune. Its `shape` is a record of what
// was tuned; the commands do not read it.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "kiln/session.h"

namespace kiln::cli {

struct TuneChoice {
  std::map<std::string, Shape> shapes;
  int threads = 1;
  std::string opt_level = "all";
  std::string isa;
  double median_ms = 0;
  double default_median_ms = 0;
  std::string date;
  double load_average = -1;  // 1-minute load average when tuning started; < 0 unknown
  std::string busy_note;     // warn_if_busy()'s text; "" when the machine looked idle
};

// "det.onnx" -> "det.onnx.kiln-tune.json".
std::string tune_file_path(const std::string& model_path);

// The saved choice, or nullopt when there is no file. kiln::Error when the
// file exists but cannot be read.
std::optional<TuneChoice> load_tune_choice(const std::string& model_path);
void save_tune_choice(const std::string& model_path, const TuneChoice& choice);

}  // namespace kiln::cli
