// Loads an ONNX file into kiln's graph IR.
#pragma once

#include <string>

#include "graph/ir.h"

namespace kiln::graph {

// Reads and parses `path`; external data is resolved relative to its folder.
// Throws kiln::Error for anything malformed (naming the node or tensor) and
// kiln::UnsupportedError for valid models using things kiln does not support
// (non-tensor values, subgraphs, unknown domains). Op support is checked by the
// session, against the op registry, so every unsupported op is listed at once.
Graph load_onnx_file(const std::string& path);
Graph load_onnx_bytes(const std::string& bytes, const std::string& base_dir, const std::string& what = "model");

}  // namespace kiln::graph
