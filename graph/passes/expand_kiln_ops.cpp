#include "graph/passes/expand_kiln_ops.h"

#include "graph/expansion_builder.h"
#include "graph/graph_editor.h"
#include "graph/pass.h"

namespace kiln::graph {

namespace {

// Used when a graph of only com.kiln nodes imports no ai.onnx opset: the first
// opset where every form the expansions write exists.
constexpr int64_t kFallbackOpset = 11;

const OpSchema* expandable(const Node& node, const OpCatalog& ops) {
  if (node.domain != kKilnDomain) return nullptr;
  const OpSchema* schema = ops.find(node);
  return schema && schema->expand ? schema : nullptr;
}

}  // namespace

size_t expand_kiln_ops(Graph& g, const OpCatalog& ops) {
  size_t found = 0;
  for (const Node& node : g.nodes) found += expandable(node, ops) != nullptr;
  if (found == 0) return 0;
  if (!g.opsets.count("")) g.opsets[""] = kFallbackOpset;

  // g.nodes stays as it was until the end, so the shapes an expansion asks
  // the builder for are inferred on the graph it expands (new initializers
  // added meanwhile are read by no old node).
  GraphEditor editor(g);  // for fresh value names and initializers; no node is removed
  ExpansionBuilder builder(editor, g, ops, g.opsets.at(""));
  std::vector<Node> nodes;
  nodes.reserve(g.nodes.size() + found);
  for (const Node& node : g.nodes) {
    const OpSchema* schema = expandable(node, ops);
    if (!schema) {
      nodes.push_back(node);
      continue;
    }
    builder.begin(node);
    schema->expand(node, builder);
    for (Node& n : builder.take_nodes()) nodes.push_back(std::move(n));
  }
  g.nodes = std::move(nodes);
  bool kiln_ops_left = false;
  for (const Node& node : g.nodes) kiln_ops_left |= node.domain == kKilnDomain;
  if (!kiln_ops_left) g.opsets.erase(kKilnDomain);
  return found;
}

}  // namespace kiln::graph
