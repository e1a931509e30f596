// Structural checks of a graph, run after every optimizer pass in debug builds.
#pragma once

#include "graph/ir.h"

namespace kiln::graph {

// Throws kiln::Error naming the first problem found:
//  - a node output produced twice, or writing a graph input or initializer;
//  - a node input that no graph input, initializer or earlier node provides
//    (this also catches nodes out of topological order);
//  - a graph output that nothing provides;
//  - a node whose non-default domain the graph does not import.
void validate_graph(const Graph& g);

}  // namespace kiln::graph
