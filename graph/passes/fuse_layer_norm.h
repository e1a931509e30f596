// Pass fuse_layer_norm: the layer normalization chain converters spell out,
//
//   mean = ReduceMean(x, axes, keepdims=1);  c = Sub(x, mean)
//   var  = ReduceMean(Pow(c, 2), axes, keepdims=1)      (or Mul(c, c))
//   y    = Div(c, Sqrt(Add(var, epsilon)))
//   [y = Mul(y, scale)]  [y = Add(y, bias)]             (either operand order)
//
// -> y = FusedLayerNorm(x, scale, bias, axis, epsilon) (com.kiln,
// docs/fused_ops.md), when `axes` are the trailing axes [axis, rank) of x
// (its rank known from shape inference), epsilon is a one-element float
// constant, scale and bias are float32 constants that broadcast onto x
// without changing its shape and vary along one run of adjacent normalized
// axes whose sizes are known, and every intermediate value is read only
// inside the pattern. An activation after it then fuses through
// fuse_conv_activation. AnimeGAN-style generators have one after every conv.
#pragma once

#include <cstddef>

#include "graph/ir.h"
#include "graph/op_schema.h"

namespace kiln::graph {

size_t fuse_layer_norm(Graph& g, const OpCatalog& ops);

}  // namespace kiln::graph
