#include "graph/passes/fuse_conv_mul.h"

#include "graph/passes/constant_values.h"
#include "graph/passes/conv_weights.h"

namespace kiln::graph {

namespace {

// The per-channel factor `op` multiplies `y` by; nullopt when `op` is not such a Mul/Div.
std::optional<std::vector<double>> multiplied_constant(const GraphEditor& editor, const Node& op,
                                                       const std::string& y, const ConstantConvWeights& conv) {
  if (!op.domain.empty() || op.inputs.size() != 2 || op.outputs.size() != 1) return std::nullopt;
  const size_t rank = conv.weight->rank();
  std::optional<std::vector<float>> values;
  const bool divide = op.op_type == "Div";
  if (op.op_type == "Mul") values = per_channel_floats(editor.constant(op.inputs[0] == y ? op.inputs[1] : op.inputs[0]),
                                                       conv.out_channels, rank);
  else if (divide && op.inputs[0] == y) values = per_channel_floats(editor.constant(op.inputs[1]), conv.out_channels, rank);
  if (!values) return std::nullopt;
  std::vector<double> factors;
  for (float v : *values) {
    if (divide && v == 0) return std::nullopt;
    factors.push_back(divide ? 1.0 / v : v);
  }
  return factors;
}

}  // namespace

size_t fuse_conv_mul(Graph& g) {
  GraphEditor editor(g);
  size_t fused = 0;
  for (size_t n = 0; n < editor.node_count(); ++n) {
    if (editor.is_removed(n)) continue;
    std::optional<ConstantConvWeights> conv = constant_conv_weights(editor, editor.node(n));
    if (!conv) continue;
    const std::string y = editor.node(n).outputs[0];
    std::optional<size_t> mul = editor.sole_reader(y);
    if (!mul) continue;
    std::optional<std::vector<double>> factors = multiplied_constant(editor, editor.node(*mul), y, *conv);
    if (!factors) continue;
    Tensor weight = scale_output_channels(*conv, *factors);
    const std::string z = editor.node(*mul).outputs[0];
    editor.remove_node(*mul);
    const std::string name = editor.node(n).name;
    editor.set_input(n, 1, editor.add_initializer(name + "_weight_fused", std::move(weight)));
    if (conv->bias) {
      std::vector<double> bias = bias_or_zeros(*conv);
      for (size_t m = 0; m < bias.size(); ++m) bias[m] *= (*factors)[m];
      editor.set_input(n, 2, editor.add_initializer(name + "_bias_fused", float_vector(bias)));
    }
    editor.set_output(n, 0, z);
    ++fused;
  }
  editor.commit();
  return fused;
}

}  // namespace kiln::graph
