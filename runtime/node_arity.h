// Build-time check of every node's input and output counts, from one table:
// ONNX's own operator schemas (libonnx's OpSchemaRegistry, the definitions
// the ONNX checker uses), plus kiln's com.kiln ops (docs/fused_ops.md).
#pragma once

#include "graph/ir.h"

namespace kiln {

// Throws kiln::Error naming the node when it has fewer or more inputs or
// outputs than its op allows at its opset, or omits (empty name) an input or
// output that is not optional. Ops without a schema are left to their kernels.
void check_node_arity(const graph::Node& node);

}  // namespace kiln
