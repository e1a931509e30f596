// Pass fuse_conv_batchnorm: folds an inference BatchNormalization into the
// Conv, ConvTranspose or Gemm before it.
//
//   y = Conv(x, W, B);  z = BN(y, scale, bias, mean, var)
//   ->  z = Conv(x, W', B')  with, per output channel m,
//       s[m]  = scale[m] / sqrt(var[m] + epsilon)
//       W'[m] = W[m] * s[m]                      (ConvTranspose: the W[c, j] feeding m)
//       B'[m] = (B[m] - mean[m]) * s[m] + bias[m]  (B = 0 when absent)
//
// Gemm (2-D, Y = alpha * A * op(B) + beta * C, BN over its N columns) folds
// the same way: column n of op(B) is scaled by s[n] and C' = (beta * C -
// mean) * s + bias with beta' = 1; C must be absent or hold 1 or N values.
//
// Fires only when W, B and the four BN parameters are float32 initializers of
// the right size, y has no reader but the BN and is not a graph output, and
// the BN is in inference mode (one output, training_mode 0, spatial 1).
// s is computed in double and the new weights rounded once to float.
#pragma once

#include <cstddef>

#include "graph/ir.h"

namespace kiln::graph {

size_t fuse_conv_batchnorm(Graph& g);

}  // namespace kiln::graph
