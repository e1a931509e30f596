#include "graph/passes/conv_weights.h"

namespace kiln::graph {

std::optional<ConstantConvWeights> constant_conv_weights(const GraphEditor& editor, const Node& node) {
  ConstantConvWeights conv;
  conv.transposed = node.op_type == "ConvTranspose";
  if (!node.domain.empty() || (node.op_type != "Conv" && !conv.transposed)) return std::nullopt;
  if (node.inputs.size() < 2 || node.inputs.size() > 3 || node.outputs.size() != 1) return std::nullopt;
  conv.weight = editor.constant(node.inputs[1]);
  if (!conv.weight || conv.weight->dtype() != DataType::kFloat32 || conv.weight->rank() < 3 ||
      conv.weight->dim(0) < 1)
    return std::nullopt;
  auto group_attr = node.attrs.find("group");
  if (group_attr != node.attrs.end() && group_attr->second.kind != Attribute::Kind::kInt) return std::nullopt;
  conv.group = group_attr == node.attrs.end() ? 1 : group_attr->second.i;
  if (conv.group < 1) return std::nullopt;
  if (conv.transposed) {
    if (conv.weight->dim(0) % conv.group != 0) return std::nullopt;
    conv.out_channels = conv.weight->dim(1) * conv.group;
  } else {
    conv.out_channels = conv.weight->dim(0);
  }
  if (conv.out_channels < 1) return std::nullopt;
  if (node.inputs.size() == 3 && !node.inputs[2].empty()) {
    conv.bias = editor.constant(node.inputs[2]);
    if (!conv.bias || conv.bias->dtype() != DataType::kFloat32 || conv.bias->rank() != 1 ||
        conv.bias->dim(0) != conv.out_channels)
      return std::nullopt;
  }
  return conv;
}

Tensor scale_output_channels(const ConstantConvWeights& conv, const std::vector<double>& scale) {
  const Tensor& w = *conv.weight;
  Tensor out(DataType::kFloat32, w.shape());
  const float* src = w.data<float>();
  float* dst = out.data<float>();
  const int64_t rows = w.dim(0);             // Conv: M; ConvTranspose: C
  const int64_t row_size = w.size() / rows;  // elements per dim-0 slice
  if (!conv.transposed) {
    for (int64_t m = 0; m < rows; ++m)
      for (int64_t k = 0; k < row_size; ++k)
        dst[m * row_size + k] = static_cast<float>(src[m * row_size + k] * scale[static_cast<size_t>(m)]);
    return out;
  }
  const int64_t out_per_group = w.dim(1);
  const int64_t in_per_group = rows / conv.group;
  const int64_t kernel_size = row_size / out_per_group;
  for (int64_t c = 0; c < rows; ++c) {
    const int64_t first_out = (c / in_per_group) * out_per_group;
    for (int64_t j = 0; j < out_per_group; ++j) {
      const double s = scale[static_cast<size_t>(first_out + j)];
      const int64_t base = (c * out_per_group + j) * kernel_size;
      for (int64_t k = 0; k < kernel_size; ++k) dst[base + k] = static_cast<float>(src[base + k] * s);
    }
  }
  return out;
}

std::vector<double> bias_or_zeros(const ConstantConvWeights& conv) {
  std::vector<double> bias(static_cast<size_t>(conv.out_channels), 0.0);
  if (conv.bias)
    for (size_t m = 0; m < bias.size(); ++m) bias[m] = conv.bias->data<float>()[m];
  return bias;
}

Tensor float_vector(const std::vector<double>& values) {
  Tensor t(DataType::kFloat32, {static_cast<int64_t>(values.size())});
  for (size_t i = 0; i < values.size(); ++i) t.data<float>()[i] = static_cast<float>(values[i]);
  return t;
}

void replace_conv_weights(GraphEditor& editor, size_t node, Tensor weight, Tensor bias) {
  const std::string& name = editor.node(node).name;
  editor.set_input(node, 1, editor.add_initializer(name + "_weight_fused", std::move(weight)));
  editor.set_input(node, 2, editor.add_initializer(name + "_bias_fused", std::move(bias)));
}

}  // namespace kiln::graph

