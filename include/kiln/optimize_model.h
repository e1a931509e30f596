// kiln::optimize_model_file: the graph a session would run, written as an
// ONNX model (`kiln optimize`). Input shapes are fixed, the graph optimizer
// runs at the given level (the same preparation Session::open does), the
// shapes static inference finds are recorded in the written model.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "kiln/model_info.h"
#include "kiln/optimize.h"
#include "kiln/tensor.h"

namespace kiln {

struct OptimizeModelOptions {
  OptLevel level = OptLevel::kAll;
  // Write only standard ONNX ops: fusions into com.kiln ops (FusedConv) are
  // written back as the standard ops they replace, so any runtime loads the
  // result (otherwise only kiln does).
  bool standard_only = false;
  // Input shapes to fix first, as in SessionOptions.
  std::map<std::string, Shape> input_shapes;
  std::map<std::string, int64_t> dim_values;
  // Entries set in the written model's metadata_props (over the input's own,
  // which are kept), e.g. {"kiln.range", "-1,1"}.
  std::map<std::string, std::string> set_metadata;
};

struct OptimizeModelResult {
  OptimizeReport report;            // what the optimizer did
  double optimize_milliseconds = 0;  // the optimizer alone (not reading, describing or writing)
  // The input model with the shapes fixed, and the model as written; both
  // described with count_folded_macs.
  ModelDescription original;
  ModelDescription optimized;
};

// Reads `in_path`, optimizes it and writes `out_path`. kiln::Error for a bad
// model, bad shapes, a malformed node, a file that cannot be written, or an
// `out_path` that names the input file.
OptimizeModelResult optimize_model_file(const std::string& in_path, const std::string& out_path,
                                        const OptimizeModelOptions& options = {});

}  // namespace kiln
