#include "graph/passes/cancel_transposes.h"

#include <numeric>

#include "graph/graph_editor.h"

namespace kiln::graph {

namespace {

bool is_transpose(const Node& node) {
  return node.domain.empty() && node.op_type == "Transpose" && node.inputs.size() == 1 && !node.inputs[0].empty() &&
         node.outputs.size() == 1 && !node.outputs[0].empty();
}

// The node's perm, the reversal of `rank` axes when it has none, or nullopt
// when it is malformed (the kernel reports that) or the rank is unknown (rank < 0).
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

bool is_identity(const std::vector<int64_t>& perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != static_cast<int64_t>(i)) return false;
  return true;
}

// Drops Transpose `n`, whose result equals its input.
void bypass(GraphEditor& editor, size_t n) {
  Node& node = editor.node(n);
  const std::string x = node.inputs[0], z = node.outputs[0];
  if (editor.is_graph_output(z)) {
    node.op_type = "Identity";
    node.attrs.clear();
    return;
  }
  editor.remove_node(n);
  editor.replace_uses(z, x);
}

}  // namespace

size_t cancel_transposes(Graph& g) {
  GraphEditor editor(g);
  size_t rewrites = 0;
  for (size_t n = 0; n < editor.node_count(); ++n) {
    if (editor.is_removed(n) || !is_transpose(editor.node(n))) continue;
    const Node& second = editor.node(n);
    std::optional<size_t> first = editor.producer(second.inputs[0]);
    if (!first || !is_transpose(editor.node(*first))) {
      std::optional<std::vector<int64_t>> perm = perm_of(second, -1);
      if (perm && is_identity(*perm)) {
        bypass(editor, n);
        ++rewrites;
      }
      continue;
    }
    const Node& first_node = editor.node(*first);
    const std::string y = first_node.outputs[0];
    const std::string x = first_node.inputs[0];
    int64_t rank = std::max(declared_rank(first_node), declared_rank(second));
    std::vector<int64_t> composed;
    if (rank >= 0) {
      std::optional<std::vector<int64_t>> p1 = perm_of(first_node, rank), p2 = perm_of(second, rank);
      if (!p1 || !p2 || p1->size() != p2->size()) continue;
      for (int64_t axis : *p2) composed.push_back((*p1)[static_cast<size_t>(axis)]);
    }  // both perms missing: reversing twice is the identity, whatever the rank
    editor.set_input(n, 0, x);
    if (composed.empty() || is_identity(composed)) {
      bypass(editor, n);
    } else {
      Attribute perm;
      perm.kind = Attribute::Kind::kInts;
      perm.ints = composed;
      editor.node(n).attrs["perm"] = perm;
    }
    if (editor.uses(y).empty() && !editor.is_graph_output(y)) editor.remove_node(*first);
    ++rewrites;
  }
  editor.commit();
  return rewrites;
}

}  // namespace kiln::graph
