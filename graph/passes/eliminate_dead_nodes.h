// Pass eliminate_dead_nodes: removes nodes none of whose outputs is read by a
// live node or is a graph output, then initializers nothing reads. One
// backward sweep finds everything dead at once (a chain feeding nothing goes
// in one call). Each removed node and each dropped initializer counts as one rewrite.
#pragma once

#include <cstddef>

#include "graph/ir.h"

namespace kiln::graph {

size_t eliminate_dead_nodes(Graph& g);

}  // namespace kiln::graph
