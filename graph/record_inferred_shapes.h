// Writing what static shape inference knows back into a graph's declarations,
// so a model saved after fixing shapes and optimizing (`kiln optimize`)
// carries full types and shapes for other tools and runtimes, as
// onnx-simplifier's output does.
#pragma once

#include "graph/ir.h"
#include "graph/shape_inference.h"

namespace kiln::graph {

// For every graph output, and every other value a node produces (declared in
// g.value_info): where `inferred` knows a dim that the declaration leaves
// symbolic or unknown (same rank), the dim becomes the inferred one; an
// undeclared value or one of unknown rank takes the inferred type and shape;
// an undefined element type takes the inferred one. What a declaration
// already fixes is never changed (a declaration that contradicts inference is
// left for the loader of the written model to judge).
// Returns how many declarations changed.
size_t record_inferred_shapes(Graph& g, const ValueInfoMap& inferred);

}  // namespace kiln::graph
