#include "graph/passes/fuse_conv_add_bias.h"

#include "graph/passes/constant_values.h"
#include "graph/passes/conv_weights.h"

namespace kiln::graph {

namespace {

// The per-channel constant `op` adds to `y`, sign included; nullopt when `op` is not such an Add/Sub.
std::optional<std::vector<float>> added_constant(const GraphEditor& editor, const Node& op, const std::string& y,
                                                 const ConstantConvWeights& conv) {
  if (!op.domain.empty() || op.inputs.size() != 2 || op.outputs.size() != 1) return std::nullopt;
  const size_t rank = conv.weight->rank();
  if (op.op_type == "Add") {
    const std::string& other = op.inputs[0] == y ? op.inputs[1] : op.inputs[0];
    return per_channel_floats(editor.constant(other), conv.out_channels, rank);
  }
  if (op.op_type == "Sub" && op.inputs[0] == y) {
    auto values = per_channel_floats(editor.constant(op.inputs[1]), conv.out_channels, rank);
    if (values)
      for (float& v : *values) v = -v;
    return values;
  }
  return std::nullopt;
}

}  // namespace

size_t fuse_conv_add_bias(Graph& g) {
  GraphEditor editor(g);
  size_t fused = 0;
  for (size_t n = 0; n < editor.node_count(); ++n) {
    if (editor.is_removed(n)) continue;
    std::optional<ConstantConvWeights> conv = constant_conv_weights(editor, editor.node(n));
    if (!conv) continue;
    const std::string y = editor.node(n).outputs[0];
    std::optional<size_t> add = editor.sole_reader(y);
    if (!add) continue;
    std::optional<std::vector<float>> added = added_constant(editor, editor.node(*add), y, *conv);
    if (!added) continue;
    std::vector<double> bias = bias_or_zeros(*conv);
    for (size_t m = 0; m < bias.size(); ++m) bias[m] += (*added)[m];
    const std::string z = editor.node(*add).outputs[0];
    editor.remove_node(*add);
    const std::string& name = editor.node(n).name;
    editor.set_input(n, 2, editor.add_initializer(name + "_bias_fused", float_vector(bias)));
    editor.set_output(n, 0, z);
    ++fused;
  }
  editor.commit();
  return fused;
}

}  // namespace kiln::graph
