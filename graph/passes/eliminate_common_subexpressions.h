// Pass eliminate_common_subexpressions: two nodes with the same op (domain,
// type, opset), the same inputs in the same order, the same attributes and
// the same set of requested outputs compute the same values, so the later one
// is removed and its readers read the earlier one's outputs.
//
// Not merged: ops with randomness (RandomNormal, Dropout, ...), nodes with
// subgraph attributes, and a later node whose output is a graph output (its
// name must survive). Nodes are visited in order, so merging one pair can
// make their readers identical and those merge in the same sweep.
#pragma once

#include <cstddef>

#include "graph/ir.h"
#include "graph/op_schema.h"

namespace kiln::graph {

size_t eliminate_common_subexpressions(Graph& g, const OpCatalog& ops);

// Attribute equality as CSE needs it: same kind and same value (floats
// bitwise, tensors by type, shape and bytes). Subgraph attributes never compare equal.
bool same_attribute(const Attribute& a, const Attribute& b);

}  // namespace kiln::graph
