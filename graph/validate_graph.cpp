#include "graph/validate_graph.h"

#include <unordered_map>
#include <unordered_set>

namespace kiln::graph {

void validate_graph(const Graph& g) {
  std::unordered_set<std::string> available;  // graph inputs, initializers, outputs of earlier nodes
  for (const auto& in : g.inputs)
    if (!available.insert(in.name).second) fail("graph input '", in.name, "' is declared twice");
  for (const auto& [name, t] : g.initializers) {
    if (!t.defined()) fail("initializer '", name, "' has no value");
    available.insert(name);
  }
  std::unordered_map<std::string, size_t> producer;
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const Node& node = g.nodes[n];
    for (const std::string& in : node.inputs) {
      if (in.empty() || available.count(in)) continue;
      bool later = false;
      for (size_t m = n; m < g.nodes.size() && !later; ++m)
        for (const std::string& out : g.nodes[m].outputs) later = later || out == in;
      if (later) fail(node.describe(), " reads '", in, "' before the node producing it (not in topological order)");
      fail(node.describe(), " reads '", in, "', which no node, input or initializer provides");
    }
    for (const std::string& out : node.outputs) {
      if (out.empty()) continue;
      auto [it, inserted] = producer.emplace(out, n);
      if (!inserted)
        fail("value '", out, "' is produced twice: by ", g.nodes[it->second].describe(), " and by ", node.describe());
      if (!available.insert(out).second)
        fail(node.describe(), " writes '", out, "', which is a graph input or initializer");
    }
    if (!node.domain.empty() && g.opsets.count(node.domain) == 0)
      fail(node.describe(), " is in domain '", node.domain, "', which the graph does not import");
  }
  for (const auto& out : g.outputs)
    if (!available.count(out.name)) fail("graph output '", out.name, "' is not provided by any node, input or initializer");
}

}  // namespace kiln::graph
