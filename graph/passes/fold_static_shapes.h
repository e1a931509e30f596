// Pass fold_static_shapes: a Shape or Size node whose input has a shape static
// inference (graph/shape_inference.h) knows completely becomes an int64
// initializer holding the answer, named as the node's output.
//
//   s = Shape(x), x known to be 1x120x1x40  ->  s = [1, 120, 1, 40]
//   Shape with start/end (opset 15) takes that slice of the dims; Size is the
//   element count, a scalar.
//
// This is what makes the Shape -> Gather -> Concat -> Reshape chains exporters
// emit constant once input shapes are fixed: fold_constants then folds the
// rest of the chain. Sound because the executor rejects an input whose shape
// differs from a fixed declared dim, so inferred shapes hold on every run.
// When inference refuses the graph (incompatible shapes) the pass does
// nothing and the session reports the problem.
#pragma once

#include <cstddef>

#include "graph/ir.h"
#include "graph/op_schema.h"

namespace kiln::graph {

size_t fold_static_shapes(Graph& g, const OpCatalog& ops);

}  // namespace kiln::graph
