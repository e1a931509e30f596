// Pass remove_identity: drops nodes that pass their input through unchanged.
//
//   Identity(x) -> y                       readers of y read x
//   Dropout(x) -> y   (inference mode)     same, when its mask output is unused
//
// Dropout is in inference mode unless its training_mode input (opset 12+) is
// present and not a constant false. When y is a graph output its name must
// survive: the node producing x is renamed to produce y instead, provided x is
// not itself a graph input, initializer or graph output; otherwise the node stays.
#pragma once

#include <cstddef>

#include "graph/ir.h"

namespace kiln::graph {

size_t remove_identity(Graph& g);

}  // namespace kiln::graph
