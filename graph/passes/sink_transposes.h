// Pass sink_transposes: moves a Transpose past the element-wise op that reads
// it, so Transposes that NHWC exporters put around every layout change meet
// and cancel (cancel_transposes), and a Conv's activation sits right after it
// again (fuse_conv_activation).
//
//   y = Transpose(x, p);  z = Op(y)              ->  z' = Op(x);  z = Transpose(z', p)
//   y = Transpose(x, p);  z = Op(y, c)           ->  z' = Op(x, c'); z = Transpose(z', p)
//   a' = Transpose(a, p); b' = Transpose(b, p);  z = Op(a', b')  ->  z = Transpose(Op(a, b), p)
//
// Op is a unary element-wise op (Relu, Sigmoid, Clip with constant bounds,
// Cast, ...) or a broadcasting binary one (Add, Sub, Mul, Div, Pow, PRelu,
// Max, Min); either operand may be the Transpose. c is a constant of rank at
// most p's, and c' is c with leading 1s up to that rank, transposed by the
// inverse of p, so Transpose(c', p) broadcasts like c did. It fires only when
// the Transpose's output has no other reader and is no graph output, the perm
// is known, its input is not another Transpose's output (cancel_transposes
// merges those first), and the result of Op is no larger than y (c broadcasts into y's
// shape, checked with static shape inference unless c has one element): the
// moved Transpose never moves more bytes than before.
#pragma once

#include <cstddef>

#include "graph/ir.h"
#include "graph/op_schema.h"

namespace kiln::graph {

size_t sink_transposes(Graph& g, const OpCatalog& ops);

}  // namespace kiln::graph
