// The facts `kiln optimize` compares before and after: op-type counts, nodes,
// parameters, MACs and file size of one graph (onnx-simplifier's summary).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "graph/ir.h"

namespace kiln::cli {

struct ModelStats {
  std::map<std::string, int64_t> op_counts;  // "Conv", "com.kiln.FusedConv" (domain-qualified outside ai.onnx)
  int64_t nodes = 0;
  // Elements of every initializer and of every Constant node's tensor (the
  // optimizer turns Constant nodes into initializers; both hold parameters).
  int64_t parameters = 0;
  // Multiply-accumulates of Conv, FusedConv, ConvTranspose, Gemm and MatMul
  // from static shape inference (on a copy with Constant nodes and Shape
  // chains folded, so it sees through them); nullopt when one of them has an
  // unknown shape (or inference failed).
  std::optional<int64_t> macs;
  std::optional<uint64_t> file_bytes;  // nullopt when the file cannot be read
};

// `g` with its input shapes as they should be counted (fixed where given).
ModelStats model_stats(const graph::Graph& g, const std::string& file_path);

// "Conv" for ai.onnx ops, "com.kiln.FusedConv" for other domains.
std::string qualified_op_type(const graph::Node& node);

}  // namespace kiln::cli
