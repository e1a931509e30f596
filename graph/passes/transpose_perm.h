// Reading a Transpose node's permutation, shared by the passes that move or
// cancel Transposes.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "graph/ir.h"

namespace kiln::graph {

// A default-domain Transpose with one input and one output, both present.
bool is_transpose(const Node& node);

// The node's perm, the reversal of `rank` axes when it has none, or nullopt
// when it is malformed (the kernel reports that) or the rank is unknown (rank < 0).
std::optional<std::vector<int64_t>> perm_of(const Node& node, int64_t rank);

// The length of the node's perm attribute, or -1 when it has none.
int64_t declared_rank(const Node& node);

}  // namespace kiln::graph
