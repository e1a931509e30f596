// The graph a session runs, from the graph a model file holds: input shapes
// fixed, every node's input and output counts checked, then the graph
// optimizer. Session::open does this before it builds kernels; `kiln optimize`
// does the same and writes the result, so the written model is the graph the
// session would have run.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "graph/ir.h"
#include "graph/optimizer.h"
#include "kiln/session.h"

namespace kiln {

// graph::fix_input_shapes, check_node_arity on every node, graph::optimize.
// kiln::Error (naming the input or node) for bad shapes or a malformed node.
OptimizeReport prepare_graph(graph::Graph& g, const std::map<std::string, Shape>& input_shapes,
                             const std::map<std::string, int64_t>& dim_values,
                             const graph::OptimizeOptions& optimize_options);

}  // namespace kiln
