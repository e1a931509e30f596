#include "graph/topological_sort.h"

#include <queue>
#include <unordered_map>
#include <unordered_set>

namespace kiln::graph {

void sort_topologically(Graph& g) {
  std::unordered_map<std::string, size_t> producer;  // value -> node index
  std::unordered_set<std::string> available;         // graph inputs and initializers
  for (const auto& in : g.inputs) available.insert(in.name);
  for (const auto& [name, t] : g.initializers) available.insert(name);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (const std::string& out : g.nodes[i].outputs) {
      if (out.empty()) continue;
      if (available.count(out)) fail(g.nodes[i].describe(), " writes '", out, "', which is a graph input or initializer");
      auto [it, inserted] = producer.emplace(out, i);
      if (!inserted) fail("value '", out, "' is produced twice: by ", g.nodes[it->second].describe(), " and by ", g.nodes[i].describe());
    }
  }
  // Kahn's algorithm, always taking the lowest pending index to stay stable.
  std::vector<size_t> missing(g.nodes.size(), 0);
  std::vector<std::vector<size_t>> consumers(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    std::unordered_set<size_t> deps;
    for (const std::string& in : g.nodes[i].inputs) {
      if (in.empty() || available.count(in)) continue;
      auto it = producer.find(in);
      if (it == producer.end()) fail(g.nodes[i].describe(), " reads '", in, "', which no node, input or initializer provides");
      if (it->second == i) fail(g.nodes[i].describe(), " reads its own output '", in, "' (a cycle)");
      if (deps.insert(it->second).second) consumers[it->second].push_back(i);
    }
    missing[i] = deps.size();
  }
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (missing[i] == 0) ready.push(i);
  std::vector<size_t> order;
  order.reserve(g.nodes.size());
  while (!ready.empty()) {
    size_t i = ready.top();
    ready.pop();
    order.push_back(i);
    for (size_t c : consumers[i])
      if (--missing[c] == 0) ready.push(c);
  }
  if (order.size() != g.nodes.size()) {
    for (size_t i = 0; i < g.nodes.size(); ++i)
      if (missing[i] != 0) fail("the graph has a cycle through ", g.nodes[i].describe());
  }
  bool sorted = true;
  for (size_t i = 0; i < order.size(); ++i) sorted = sorted && order[i] == i;
  if (sorted) return;
  std::vector<Node> nodes;
  nodes.reserve(g.nodes.size());
  for (size_t i : order) nodes.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(nodes);
}

}  // namespace kiln::graph
