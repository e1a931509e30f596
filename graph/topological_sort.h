// Orders a graph's nodes so every value is produced before it is used.
#pragma once

#include "graph/ir.h"

namespace kiln::graph {

// Sorts g.nodes in place (stable: an already sorted graph keeps its order).
// Throws kiln::Error for a value produced twice, an input nothing produces,
// or a cycle, naming the nodes involved.
void sort_topologically(Graph& g);

}  // namespace kiln::graph
