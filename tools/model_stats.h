// The facts `kiln optimize` compares before and after: op-type counts, nodes,
// parameters, MACs and file size of one model (onnx-simplifier's summary).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "kiln/model_info.h"

namespace kiln::cli {

struct ModelStats {
  std::map<std::string, int64_t> op_counts;  // "Conv", "com.kiln.FusedConv" (domain-qualified outside ai.onnx)
  int64_t nodes = 0;
  // Elements of every initializer and of every Constant node's tensor (the
  // optimizer turns Constant nodes into initializers; both hold parameters).
  int64_t parameters = 0;
  // Multiply-accumulates of Conv, FusedConv, ConvTranspose, Gemm and MatMul
  // (ModelDescription::folded_macs); nullopt when one of them has an unknown
  // shape (or inference failed).
  std::optional<int64_t> macs;
  std::optional<uint64_t> file_bytes;  // nullopt when the file cannot be read
};

// `model` described with count_folded_macs, read from `file_path`.
ModelStats model_stats(const ModelDescription& model, const std::string& file_path);

}  // namespace kiln::cli
