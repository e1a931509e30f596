// Pass fuse_pad_conv: a Pad whose only reader is a 2-D convolution folds
// into the convolution's own padding, so the padded copy of the image (at
// 720p often hundreds of MiB) is never made:
//
//   p = Pad(x, pads, mode="reflect");  y = Conv(p, W, ...)  (Conv pads all 0)
//   ->  y = FusedConv(x, W, ..., pads = the spatial pads, pad_mode = "reflect")
//   p = Pad(x, pads) with mode "constant" and value 0 (or absent)
//   ->  y = Conv(x, W, ..., pads = Conv's pads + the spatial pads)
//
// Only for a rank-4 Pad that pads the two spatial axes by constant,
// non-negative amounts, a Conv (or FusedConv without pad_mode) with a float32
// constant 4-D weight, explicit pads (no auto_pad), and, for "reflect", more
// than one input channel per group (the depthwise kernels pad with zeros
// only). TensorFlow-converted generators put a reflect Pad before most convs.
#pragma once

#include <cstddef>

#include "graph/ir.h"

namespace kiln::graph {

size_t fuse_pad_conv(Graph& g);

}  // namespace kiln::graph
