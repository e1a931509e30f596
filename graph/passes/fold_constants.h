// Pass fold_constants: evaluates nodes whose inputs are all initializers and
// replaces them with initializers holding their outputs (named as the outputs).
//
// Constant nodes become initializers directly (value, value_float(s),
// value_int(s); string and sparse values are left alone). Other nodes are
// computed by `evaluate`, which the caller injects (the session's runs kiln's
// own kernels, as the executor would: runtime/kernel_evaluator.h); a node is
// left in place when `evaluate` is empty or cannot fold it (no kernel, or the
// kernel rejects it: the session reports that later, naming the node), it is
// random (RandomNormal, ...), or an output would exceed `max_output_bytes`.
// Nodes are visited in order, so whole constant chains fold in one sweep.
#pragma once

#include <cstddef>

#include "graph/ir.h"
#include "graph/node_evaluator.h"
#include "graph/op_schema.h"

namespace kiln::graph {

inline constexpr size_t kMaxFoldedBytes = size_t{64} << 20;

size_t fold_constants(Graph& g, const NodeEvaluator& evaluate, const OpCatalog& ops,
                      size_t max_output_bytes = kMaxFoldedBytes);

// The tensor a Constant node holds; an undefined Tensor for the forms kiln
// does not fold (strings, sparse) or a malformed node.
Tensor constant_node_value(const Node& node);

}  // namespace kiln::graph
