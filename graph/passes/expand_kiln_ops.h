// Step expand_kiln_ops: writes every com.kiln node (docs/fused_ops.md) as
// standard ONNX ops, with the expansion its operator record gives
// (OpSchema::expand; FusedConv's is in runtime/ops/fused_conv.cpp, next to
// the rest of its record), so an optimized model loads in any runtime
// (OptimizeOptions::standard_only).
//
// The new nodes use the graph's ai.onnx opset (11 when the graph imports
// none). Not a pass of the fixed-point loop (the fusion passes would undo
// it): optimize() runs it once at the end. A kiln node whose record has no
// expansion is left as it is (optimize() then reports it).
#pragma once

#include <cstddef>

#include "graph/ir.h"
#include "graph/op_schema.h"

namespace kiln::graph {

// Returns how many kiln-domain nodes it expanded.
size_t expand_kiln_ops(Graph& g, const OpCatalog& ops);

}  // namespace kiln::graph
