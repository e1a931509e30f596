#include "tools/model_stats.h"

#include <filesystem>

namespace kiln::cli {

ModelStats model_stats(const ModelDescription& model, const std::string& file_path) {
  ModelStats stats;
  stats.nodes = static_cast<int64_t>(model.nodes.size());
  for (const NodeDescription& node : model.nodes) ++stats.op_counts[node.qualified_op_type()];
  stats.parameters = model.parameters;
  stats.macs = model.folded_macs;
  std::error_code ec;
  uint64_t bytes = std::filesystem::file_size(file_path, ec);
  if (!ec) stats.file_bytes = bytes;
  return stats;
}

}  // namespace kiln::cli
