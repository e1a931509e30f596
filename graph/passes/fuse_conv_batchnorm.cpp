#include "graph/passes/fuse_conv_batchnorm.h"

#include <cmath>

#include "graph/passes/conv_weights.h"

namespace kiln::graph {

namespace {

// Per channel, BN computes z = (y - mean) * scale + bias with scale = gamma / sqrt(var + epsilon).
struct ChannelAffine {
  std::vector<double> scale;
  std::vector<double> mean;
  std::vector<double> bias;
};

// The BN's per-channel factors, when it is a foldable inference BN over `channels`.
std::optional<ChannelAffine> batchnorm_affine(const GraphEditor& editor, const Node& bn, int64_t channels) {
  if (!bn.domain.empty() || bn.op_type != "BatchNormalization" || bn.inputs.size() != 5) return std::nullopt;
  for (size_t i = 1; i < bn.outputs.size(); ++i)
    if (!bn.outputs[i].empty()) return std::nullopt;  // training outputs requested
  if (bn.attr_int("training_mode", 0) != 0 || bn.attr_int("spatial", 1) != 1) return std::nullopt;
  const double epsilon = bn.attr_float("epsilon", 1e-5f);
  const Tensor* params[4];
  for (size_t i = 0; i < 4; ++i) {
    params[i] = editor.constant(bn.inputs[i + 1]);
    if (!params[i] || params[i]->dtype() != DataType::kFloat32 || params[i]->size() != channels ||
        params[i]->rank() != 1)
      return std::nullopt;
  }
  ChannelAffine affine;
  for (int64_t c = 0; c < channels; ++c) {
    const double gamma = params[0]->data<float>()[c], beta = params[1]->data<float>()[c];
    const double mean = params[2]->data<float>()[c], var = params[3]->data<float>()[c];
    if (!(var + epsilon > 0)) return std::nullopt;  // the BN itself would produce inf/nan; keep it visible
    affine.scale.push_back(gamma / std::sqrt(var + epsilon));
    affine.mean.push_back(mean);
    affine.bias.push_back(beta);
  }
  return affine;
}

// Conv / ConvTranspose + BN.
bool fuse_into_conv(GraphEditor& editor, size_t conv_index, size_t bn_index) {
  std::optional<ConstantConvWeights> conv = constant_conv_weights(editor, editor.node(conv_index));
  if (!conv) return false;
  std::optional<ChannelAffine> bn = batchnorm_affine(editor, editor.node(bn_index), conv->out_channels);
  if (!bn) return false;
  std::vector<double> bias = bias_or_zeros(*conv);
  for (size_t m = 0; m < bias.size(); ++m) bias[m] = (bias[m] - bn->mean[m]) * bn->scale[m] + bn->bias[m];
  Tensor weight = scale_output_channels(*conv, bn->scale);
  const std::string z = editor.node(bn_index).outputs[0];
  editor.remove_node(bn_index);
  replace_conv_weights(editor, conv_index, std::move(weight), float_vector(bias));
  editor.set_output(conv_index, 0, z);
  return true;
}

// Gemm + BN over the Gemm's columns.
bool fuse_into_gemm(GraphEditor& editor, size_t gemm_index, size_t bn_index) {
  const Node& gemm = editor.node(gemm_index);
  if (gemm.inputs.size() < 2 || gemm.inputs.size() > 3 || gemm.outputs.size() != 1) return false;
  const Tensor* b = editor.constant(gemm.inputs[1]);
  if (!b || b->dtype() != DataType::kFloat32 || b->rank() != 2) return false;
  const bool trans_b = gemm.attr_int("transB", 0) != 0;
  const int64_t n_cols = trans_b ? b->dim(0) : b->dim(1);
  const int64_t k_rows = trans_b ? b->dim(1) : b->dim(0);
  if (n_cols < 1) return false;
  const Tensor* c = gemm.inputs.size() == 3 && !gemm.inputs[2].empty() ? editor.constant(gemm.inputs[2]) : nullptr;
  if (gemm.inputs.size() == 3 && !gemm.inputs[2].empty()) {
    if (!c || c->dtype() != DataType::kFloat32 || (c->size() != 1 && c->size() != n_cols)) return false;
    if (c->size() != 1 && c->rank() != 1 && !(c->rank() == 2 && c->dim(0) == 1)) return false;
  }
  std::optional<ChannelAffine> bn = batchnorm_affine(editor, editor.node(bn_index), n_cols);
  if (!bn) return false;
  const double beta = c ? gemm.attr_float("beta", 1.0f) : 0.0;

  Tensor new_b(DataType::kFloat32, b->shape());
  const float* src = b->data<float>();
  float* dst = new_b.data<float>();
  for (int64_t k = 0; k < k_rows; ++k)
    for (int64_t n = 0; n < n_cols; ++n) {
      const int64_t at = trans_b ? n * k_rows + k : k * n_cols + n;
      dst[at] = static_cast<float>(src[at] * bn->scale[static_cast<size_t>(n)]);
    }
  std::vector<double> new_c(static_cast<size_t>(n_cols));
  for (int64_t n = 0; n < n_cols; ++n) {
    const double c_n = c ? c->data<float>()[c->size() == 1 ? 0 : n] : 0.0;
    const size_t m = static_cast<size_t>(n);
    new_c[m] = (beta * c_n - bn->mean[m]) * bn->scale[m] + bn->bias[m];
  }

  const std::string z = editor.node(bn_index).outputs[0];
  const std::string name = gemm.name;
  editor.remove_node(bn_index);
  editor.set_input(gemm_index, 1, editor.add_initializer(name + "_B_fused", std::move(new_b)));
  editor.set_input(gemm_index, 2, editor.add_initializer(name + "_C_fused", float_vector(new_c)));
  Attribute one;
  one.kind = Attribute::Kind::kFloat;
  one.f = 1.0f;
  editor.node(gemm_index).attrs["beta"] = one;
  editor.set_output(gemm_index, 0, z);
  return true;
}

}  // namespace

size_t fuse_conv_batchnorm(Graph& g) {
  GraphEditor editor(g);
  size_t fused = 0;
  for (size_t n = 0; n < editor.node_count(); ++n) {
    const Node& node = editor.node(n);
    if (editor.is_removed(n) || !node.domain.empty() || node.outputs.size() != 1) continue;
    const bool conv_like = node.op_type == "Conv" || node.op_type == "ConvTranspose";
    if (!conv_like && node.op_type != "Gemm") continue;
    std::optional<size_t> bn = editor.sole_reader(node.outputs[0]);
    if (!bn || editor.uses(node.outputs[0])[0].input != 0) continue;
    if (conv_like ? fuse_into_conv(editor, n, *bn) : fuse_into_gemm(editor, n, *bn)) ++fused;
  }
  editor.commit();
  return fused;
}

}  // namespace kiln::graph
