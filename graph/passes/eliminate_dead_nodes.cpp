#include "graph/passes/eliminate_dead_nodes.h"

#include <unordered_set>

namespace kiln::graph {

size_t eliminate_dead_nodes(Graph& g) {
  std::unordered_set<std::string> needed;  // values a live node or the caller reads
  for (const auto& out : g.outputs) needed.insert(out.name);
  std::vector<bool> live(g.nodes.size(), false);
  for (size_t n = g.nodes.size(); n-- > 0;) {
    const Node& node = g.nodes[n];
    for (const std::string& out : node.outputs) live[n] = live[n] || (!out.empty() && needed.count(out));
    if (!live[n]) continue;
    for (const std::string& in : node.inputs)
      if (!in.empty()) needed.insert(in);
  }
  size_t rewrites = 0;
  std::vector<Node> kept;
  kept.reserve(g.nodes.size());
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    if (live[n]) kept.push_back(std::move(g.nodes[n]));
    else ++rewrites;
  }
  g.nodes = std::move(kept);
  for (auto it = g.initializers.begin(); it != g.initializers.end();) {
    if (needed.count(it->first)) {
      ++it;
    } else {
      it = g.initializers.erase(it);
      ++rewrites;
    }
  }
  return rewrites;
}

}  // namespace kiln::graph
