// Build-time check of every node's input and output counts, from one table:
// ONNX's own operator schemas (libonnx's OpSchemaRegistry, the definitions
// the ONNX checker uses), or the arity an operator record states (kiln's
// com.kiln ops, docs/fused_ops.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/op_schema.h"

namespace kiln {

// Throws kiln::Error naming the node when it has fewer or more inputs or
// outputs than its op allows at its opset, or omits (empty name) an input or
// output that is not optional. Ops without a schema are left to their kernels.
void check_node_arity(const graph::Node& node);

// The input/output counts check_node_arity applies to (domain, op_type) at
// `opset`: the operator record's, else ONNX's schema's; nullopt for neither.
std::optional<graph::Arity> op_arity(const std::string& domain, const std::string& op_type, int64_t opset);

// The latest ai.onnx opset the linked ONNX library defines.
int onnx_latest_opset();
// The opsets at which ONNX defines a version of `op_type` (default domain):
// each version's since_version, ascending; empty for an unknown op.
std::vector<int> onnx_op_versions(const std::string& op_type);

}  // namespace kiln
