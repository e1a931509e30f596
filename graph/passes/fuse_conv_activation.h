// Pass fuse_conv_activation: a Conv followed by an activation becomes one
// com.kiln FusedConv node (docs/fused_ops.md) carrying the Conv's inputs and
// attributes plus `activation` and `activation_params`.
//
// Recognized after y = Conv(...) (or a FusedConv that has no activation yet;
// a FusedLayerNorm without one takes the activation the same way and keeps
// its op type):
//   Relu(y)                                   -> "Relu"
//   Clip(y, min, max), both opset forms       -> "Clip" [min, max] (min/max constant)
//   LeakyRelu(y)                              -> "LeakyRelu" [alpha]
//   Sigmoid(y)                                -> "Sigmoid"
//   HardSigmoid(y)                            -> "HardSigmoid" [alpha, beta]
//   HardSwish(y)                              -> "HardSwish" [1/6, 1/2]
//   y * Sigmoid(y), y * Sigmoid(y * 1)        -> "Swish"
//   y * HardSigmoid(y)                        -> "HardSwish" [alpha, beta]
//   y * Clip(y + 3, 0, 6) / 6, also with the division written as * (1/6)
//   or applied to the Clip before multiplying by y -> "HardSwish" [1/6, 1/2]
//   Clip(y + 3, 0, 6) / 6 (or * 1/6)          -> "HardSigmoid" [1/6, 1/2]
// The constants 1, 3, 6 and 1/6 must be one-element float32 initializers of
// rank 0 or 1 (so they cannot broadcast y to a higher rank).
// Every value between the Conv and the pattern's last node must be read only
// inside the pattern and must not be a graph output (y itself has exactly two
// readers in the y * f(y) forms, both in the pattern). The FusedConv keeps the
// Conv's name and takes over the last node's output.
#pragma once

#include <cstddef>

#include "graph/ir.h"

namespace kiln::graph {

size_t fuse_conv_activation(Graph& g);

}  // namespace kiln::graph
