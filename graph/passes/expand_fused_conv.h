// Step expand_fused_conv: writes every com.kiln FusedConv (docs/fused_ops.md)
// back as a standard ONNX Conv followed by its activation in standard ops, so
// an optimized model loads in any runtime (OptimizeOptions::standard_only).
//
//   activation          standard ops after y = Conv(...)
//   (none)              -
//   Relu, Sigmoid       Relu(y), Sigmoid(y)
//   LeakyRelu [a]       LeakyRelu(y, alpha a)
//   HardSigmoid [a, b]  HardSigmoid(y, alpha a, beta b)
//   Clip [lo, hi]       Clip(y, lo, hi): scalar initializer inputs from opset 11
//                       (an infinite bound is omitted), attributes before
//   HardSwish [a, b]    HardSwish(y) when the opset has it (14+) and [a, b] is
//                       [1/6, 1/2]; else Mul(y, HardSigmoid(y, alpha a, beta b))
//   Swish               Mul(y, Sigmoid(y))
//   then output_scale   Mul(f, scale), Add(..., shift): equal values as one
//   and output_shift    scalar, else per-channel values shaped [M, 1, ...]
//                       (skipped when all scales are 1 / all shifts 0)
//
//   pad_mode reflect    Pad(x, mode reflect, the spatial pads) before the Conv,
//                       which then has no pads
//
// A com.kiln FusedLayerNorm becomes the chain fuse_layer_norm reads:
// ReduceMean, Sub, Mul (the square), ReduceMean, Add epsilon, Sqrt, Div, Mul
// by Scale and Add of B when present, then its activation as above (X's rank
// from shape inference lists the ReduceMean axes).
//
// The new nodes use the graph's ai.onnx opset. The Conv keeps the FusedConv's
// name and inputs; the last node takes over its output. Not a pass of the
// fixed-point loop (the fusion passes would undo it): optimize() runs it
// once at the end. kiln::Error naming the node for an unknown activation, a
// wrong number of activation_params, or output_scale without output_shift.
#pragma once

#include <cstddef>

#include "graph/ir.h"

namespace kiln::graph {

// Returns how many FusedConv nodes it expanded.
size_t expand_fused_conv(Graph& g);

}  // namespace kiln::graph
