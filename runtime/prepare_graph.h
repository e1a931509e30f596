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
#include "kernels/kernel_table.h"
#include "kiln/session.h"

namespace kiln {

// graph::fix_input_shapes (then graph::set_batch when `batch` > 0), check_node_arity on every node, graph::optimize
// with the kernels of OpRegistry::global() for constant folding and for the
// fusions into com.kiln ops (runtime/kernel_evaluator.h; the options' own
// evaluate and has_kernel are replaced), folding with the microkernels of
// `kernels` (the session's; nullptr: the default level's). kiln::Error
// (naming the input or node) for bad shapes or a malformed node.
OptimizeReport prepare_graph(graph::Graph& g, const std::map<std::string, Shape>& input_shapes,
                             const std::map<std::string, int64_t>& dim_values, int64_t batch,
                             const graph::OptimizeOptions& optimize_options,
                             const kernels::KernelTable* kernels = nullptr);

}  // namespace kiln
