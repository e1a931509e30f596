#include "runtime/prepare_graph.h"

#include "graph/fix_input_shapes.h"
#include "runtime/kernel_evaluator.h"
#include "runtime/node_arity.h"

namespace kiln {

OptimizeReport prepare_graph(graph::Graph& g, const std::map<std::string, Shape>& input_shapes,
                             const std::map<std::string, int64_t>& dim_values, int64_t batch,
                             const graph::OptimizeOptions& optimize_options, const kernels::KernelTable* kernels) {
  graph::fix_input_shapes(g, input_shapes, dim_values);
  if (batch > 0) graph::set_batch(g, batch);
  // Before the optimizer, whose passes read a node's inputs by position.
  for (const graph::Node& node : g.nodes) check_node_arity(node);
  std::optional<kernels::KernelTable> table;
  if (kernels) table = *kernels;
  return graph::optimize(g, with_kernels(optimize_options, OpRegistry::global(), table));
}

}  // namespace kiln
