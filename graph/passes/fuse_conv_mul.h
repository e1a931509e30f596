// Pass fuse_conv_mul: folds a per-channel constant multiplying a Conv's
// output into the Conv's weight and bias.
//
//   y = Conv(x, W, B);  z = Mul(y, c)  (or Mul(c, y), or Div(y, c) with 1/c)
//   ->  z = Conv(x, W', B')  with W'[m] = W[m] * c[m], B'[m] = B[m] * c[m]
//
// c follows the same shape rule as in fuse_conv_add_bias (one value, or one
// per output channel along y's channel axis); a Div by a c holding a zero
// does not fire. An Add after the Mul then folds through fuse_conv_add_bias,
// so the exporter pattern Conv -> Mul -> Add becomes one Conv.
#pragma once

#include <cstddef>

#include "graph/ir.h"

namespace kiln::graph {

size_t fuse_conv_mul(Graph& g);

}  // namespace kiln::graph
