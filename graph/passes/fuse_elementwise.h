// Pass fuse_elementwise: every maximal connected group of float32
// element-wise nodes whose intermediate values are read only inside the
// group (and are not graph outputs) becomes one com.kiln FusedElementwise
// node (docs/fused_ops.md) computing the whole expression in one pass over
// its output.
//
// It follows the dataflow, not op sequences: GELU in its Erf and tanh forms,
// SiLU, Mish, HardSwish however it is spelled, and any other DAG of the ops
// the program supports land on the same node. A node joins a group only when
// its output has the group's output shape, so a small value that is
// broadcast onto a big one (a squeeze-excitation gate) is computed once, as
// a separate node, not once per output element. One-element float32
// constants become program constants; other values (and Where's bool
// condition) become inputs, at most 8.
//
// It runs after the Conv and layer-norm fusions so it does not take their
// patterns.
#pragma once

#include <cstddef>

#include "graph/ir.h"
#include "graph/op_schema.h"

namespace kiln::graph {

size_t fuse_elementwise(Graph& g, const OpCatalog& ops);

}  // namespace kiln::graph
