// Pass fuse_conv_output_affine: folds a per-channel constant Mul / Div / Add /
// Sub after a FusedConv's activation into the FusedConv's output affine map
// (attributes output_scale and output_shift, docs/fused_ops.md), so the GEMM
// or depthwise kernel applies it while it stores the result.
//
//   y = FusedConv(x, W, B, activation=f);  z = Mul(y, c)   (or Mul(c, y), Div(y, c))
//   ->  z = FusedConv(..., output_scale = s * c, output_shift = t * c)
//   y = FusedConv(...);  z = Add(y, c)   (or Add(c, y), Sub(y, c))
//   ->  z = FusedConv(..., output_shift = t + c)       (t - c for Sub)
//
// where s, t are the node's current map (1 and 0 when it has none). Only
// after an activation: before one, fuse_conv_mul and fuse_conv_add_bias fold
// the constant into the weights instead. c follows the shape rule of
// fuse_conv_add_bias (one value, or one per output channel along y's channel
// axis); a Div by a c holding a zero does not fire. PaddleOCR's backbones
// put such a scale and shift after nearly every hard-swish.
#pragma once

#include <cstddef>

#include "graph/ir.h"

namespace kiln::graph {

size_t fuse_conv_output_affine(Graph& g);

}  // namespace kiln::graph
