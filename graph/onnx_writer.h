// Writes kiln's graph IR as an ONNX model (the inverse of onnx_loader.h).
//
// Initializers are stored as raw_data (sorted by name, so the output is
// deterministic); graph inputs and outputs get their declared value_info, and
// intermediate value_info is kept for values that still exist. The opset
// imports are the graph's own, plus "com.kiln" version 1 when a node uses that
// domain (docs/fused_ops.md). Subgraph attributes cannot be written: the
// loader does not keep their contents.
#pragma once

#include <string>

#include "graph/ir.h"

namespace kiln::graph {

// The serialized onnx::ModelProto. Throws kiln::Error for graphs it cannot
// write (subgraph attributes, models above protobuf's 2 GiB limit).
std::string write_onnx_bytes(const Graph& g);
// Writes write_onnx_bytes(g) to `path`; kiln::Error when the file cannot be written.
void write_onnx_file(const Graph& g, const std::string& path);

}  // namespace kiln::graph
