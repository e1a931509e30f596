#include "tools/model_stats.h"

#include <filesystem>

#include "graph/optimizer.h"
#include "graph/shape_inference.h"
#include "kiln/error.h"
#include "runtime/kernel_evaluator.h"
#include "tools/node_shapes.h"

namespace kiln::cli {

namespace {

// Static inference alone cannot see through Constant nodes and Shape chains,
// so the MACs are counted on a copy with those folded (fold_constants,
// fold_static_shapes): the same Conv/Gemm/MatMul nodes, now with known shapes.
// Unknown when folding removed one of them (all its inputs were constant) or a
// shape stays unknown.
std::optional<int64_t> count_macs_after_folding(const graph::Graph& g) {
  auto mac_nodes = [](const graph::Graph& graph) {
    int64_t n = 0;
    for (const graph::Node& node : graph.nodes) n += counts_macs(node.op_type);
    return n;
  };
  try {
    graph::Graph folded = g;
    std::vector<graph::Pass> folding;
    for (const graph::Pass& pass : graph::all_passes())
      if (std::string(pass.name) == "fold_constants" || std::string(pass.name) == "fold_static_shapes")
        folding.push_back(pass);
    graph::OptimizeOptions options;
    options.validate = false;
    graph::run_passes(folded, folding, with_kernels(options));
    if (mac_nodes(folded) != mac_nodes(g)) return std::nullopt;
    int64_t macs = 0;
    for (const NodeShapes& node : node_shapes_from_inference(folded, graph::infer_shapes(folded, OpRegistry::global()))) {
      if (!counts_macs(node.op_type)) continue;
      if (!node.macs) return std::nullopt;
      macs += *node.macs;
    }
    return macs;
  } catch (const Error&) {
    return std::nullopt;  // inference refused the graph
  }
}

}  // namespace

std::string qualified_op_type(const graph::Node& node) {
  return node.domain.empty() ? node.op_type : node.domain + "." + node.op_type;
}

ModelStats model_stats(const graph::Graph& g, const std::string& file_path) {
  ModelStats stats;
  stats.nodes = static_cast<int64_t>(g.nodes.size());
  for (const graph::Node& node : g.nodes) {
    ++stats.op_counts[qualified_op_type(node)];
    const Tensor* value = node.op_type == "Constant" && node.domain.empty() ? node.attr_tensor("value") : nullptr;
    if (value) stats.parameters += value->size();
  }
  for (const auto& [name, tensor] : g.initializers) stats.parameters += tensor.size();

  stats.macs = count_macs_after_folding(g);
  std::error_code ec;
  uint64_t bytes = std::filesystem::file_size(file_path, ec);
  if (!ec) stats.file_bytes = bytes;
  return stats;
}

}  // namespace kiln::cli
