#include "graph/passes/remove_identity.h"

#include "graph/graph_editor.h"

namespace kiln::graph {

namespace {

// True for Identity and for a Dropout that passes its input through.
bool is_pass_through(const GraphEditor& editor, const Node& node) {
  if (!node.domain.empty() || node.inputs.empty() || node.inputs[0].empty() || node.outputs.empty() ||
      node.outputs[0].empty())
    return false;
  if (node.op_type == "Identity") return node.inputs.size() == 1 && node.outputs.size() == 1;
  if (node.op_type != "Dropout") return false;
  // The mask output, if requested, must be unused.
  for (size_t i = 1; i < node.outputs.size(); ++i) {
    const std::string& mask = node.outputs[i];
    if (!mask.empty() && (!editor.uses(mask).empty() || editor.is_graph_output(mask))) return false;
  }
  // training_mode (opset 12+, input 2): absent, or a constant false.
  if (node.inputs.size() > 2 && !node.inputs[2].empty()) {
    const Tensor* training = editor.constant(node.inputs[2]);
    if (!training || training->size() != 1 || training->value_as_double(0) != 0) return false;
  }
  return true;
}

}  // namespace

size_t remove_identity(Graph& g) {
  GraphEditor editor(g);
  size_t removed = 0;
  for (size_t n = 0; n < editor.node_count(); ++n) {
    const Node& node = editor.node(n);
    if (!is_pass_through(editor, node)) continue;
    const std::string x = node.inputs[0];
    const std::string y = node.outputs[0];
    if (!editor.is_graph_output(y)) {
      editor.remove_node(n);
      editor.replace_uses(y, x);
      ++removed;
      continue;
    }
    // y names a graph output: let x's producer write y directly.
    std::optional<size_t> producer = editor.producer(x);
    if (!producer || editor.is_graph_output(x)) continue;
    editor.remove_node(n);
    editor.replace_uses(x, y);
    const Node& p = editor.node(*producer);
    for (size_t i = 0; i < p.outputs.size(); ++i)
      if (p.outputs[i] == x) editor.set_output(*producer, i, y);
    ++removed;
  }
  editor.commit();
  return removed;
}

}  // namespace kiln::graph
