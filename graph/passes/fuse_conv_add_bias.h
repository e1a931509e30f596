// Pass fuse_conv_add_bias: folds a per-channel constant added to a Conv's
// output into the Conv's bias.
//
//   y = Conv(x, W, B);  z = Add(y, c)  (or Add(c, y), or Sub(y, c) with -c)
//   ->  z = Conv(x, W, B + c)
//
// c must be a float32 initializer that only varies along the channel axis of
// y and does not broadcast y to a larger shape: a scalar, [1], [C,1,1] or
// [1,C,1,1] for a 2-D Conv (see per_channel_floats). ConvTranspose works the
// same way. y must have no reader but the Add and not be a graph output.
#pragma once

#include <cstddef>

#include "graph/ir.h"

namespace kiln::graph {

size_t fuse_conv_add_bias(Graph& g);

}  // namespace kiln::graph
