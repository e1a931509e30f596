#include "graph/passes/transpose_perm.h"

#include <numeric>

namespace kiln::graph {

bool is_transpose(const Node& node) {
  return node.domain.empty() && node.op_type == "Transpose" && node.inputs.size() == 1 && !node.inputs[0].empty() &&
         node.outputs.size() == 1 && !node.outputs[0].empty();
}

std::optional<std::vector<int64_t>> perm_of(const Node& node, int64_t rank) {
  if (!node.has_attr("perm")) {
    if (rank < 0) return std::nullopt;
    std::vector<int64_t> reversed(static_cast<size_t>(rank));
    std::iota(reversed.rbegin(), reversed.rend(), 0);
    return reversed;
  }
  const Attribute& attr = node.attrs.at("perm");
  if (attr.kind != Attribute::Kind::kInts) return std::nullopt;
  std::vector<bool> seen(attr.ints.size(), false);
  for (int64_t axis : attr.ints) {
    if (axis < 0 || axis >= static_cast<int64_t>(attr.ints.size()) || seen[static_cast<size_t>(axis)])
      return std::nullopt;
    seen[static_cast<size_t>(axis)] = true;
  }
  return attr.ints;
}

int64_t declared_rank(const Node& node) {
  auto it = node.attrs.find("perm");
  return it == node.attrs.end() || it->second.kind != Attribute::Kind::kInts ? -1
                                                                             : static_cast<int64_t>(it->second.ints.size());
}

}  // namespace kiln::graph
