#include "tools/model_stats.h"

#include <filesystem>

#include "graph/shape_inference.h"
#include "kiln/error.h"
#include "tools/node_shapes.h"

namespace kiln::cli {

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

  try {
    int64_t macs = 0;
    bool all_known = true;
    for (const NodeShapes& node : node_shapes_from_inference(g, graph::infer_shapes(g))) {
      if (!counts_macs(node.op_type)) continue;
      if (node.macs) macs += *node.macs;
      else all_known = false;
    }
    if (all_known) stats.macs = macs;
  } catch (const Error&) {
    // Inference refused the graph: the MACs stay unknown.
  }

  std::error_code ec;
  uint64_t bytes = std::filesystem::file_size(file_path, ec);
  if (!ec) stats.file_bytes = bytes;
  return stats;
}

}  // namespace kiln::cli
