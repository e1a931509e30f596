#include "graph/passes/cancel_transposes.h"

#include "graph/graph_editor.h"
#include "graph/passes/transpose_perm.h"

namespace kiln::graph {

namespace {

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
