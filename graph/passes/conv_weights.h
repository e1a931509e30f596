// The constant weights of Conv / ConvTranspose / Gemm nodes, and the
// per-output-channel arithmetic the folding passes (BatchNormalization, Mul,
// Add into a Conv) do on them. Results are new tensors: weights may be shared
// by other nodes, so they are never changed in place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph_editor.h"

namespace kiln::graph {

// A standard-domain Conv or ConvTranspose whose weight is a float32 constant of
// rank >= 3 and whose bias is absent or a float32 constant with one value per
// output channel.
struct ConstantConvWeights {
  const Tensor* weight = nullptr;
  const Tensor* bias = nullptr;  // nullptr when the node has no bias
  int64_t group = 1;
  int64_t out_channels = 0;      // Conv: W dim 0; ConvTranspose: W dim 1 x group
  bool transposed = false;       // ConvTranspose
};
std::optional<ConstantConvWeights> constant_conv_weights(const GraphEditor& editor, const Node& node);

// W' = W with output channel m multiplied by scale[m] (scale.size() == out_channels).
// Conv weights are [M, C/group, k...]; ConvTranspose weights are [C, M/group, k...],
// where W[c, j] feeds output channel (c / (C/group)) * (M/group) + j.
Tensor scale_output_channels(const ConstantConvWeights& conv, const std::vector<double>& scale);

// The bias as out_channels doubles (zeros when absent).
std::vector<double> bias_or_zeros(const ConstantConvWeights& conv);

// A float32 [values.size()] tensor.
Tensor float_vector(const std::vector<double>& values);

// Points the node at new weight and bias initializers named after the node.
void replace_conv_weights(GraphEditor& editor, size_t node, Tensor weight, Tensor bias);

}  // namespace kiln::graph
