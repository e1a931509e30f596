// Pass cancel_transposes: removes the Transpose pairs that NHWC exporters
// leave around every layout change.
//
//   y = Transpose(x, p1);  z = Transpose(y, p2)
//   ->  z = Transpose(x, q) with q[i] = p1[p2[i]]   (y keeps its other readers)
//   ->  readers of z read x, when q is the identity
//
// A Transpose whose perm is the identity is dropped the same way. When z is
// a graph output its name must survive, so a cancelled pair leaves an
// Identity(x) -> z for remove_identity. A missing perm means "reverse the
// axes", which needs the rank: it is taken from the other Transpose's perm
// (two missing perms cancel at any rank).
#pragma once

#include <cstddef>

#include "graph/ir.h"

namespace kiln::graph {

size_t cancel_transposes(Graph& g);

}  // namespace kiln::graph
