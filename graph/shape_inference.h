// Static shape inference: each node's outputs from the shape rule of its
// operator record (graph/op_schema.h, rules in graph/shape_rules.h).
//
// Given the graph inputs' declared (or user-fixed) shapes and the initializers,
// computes element type and shape of every value it can. Dims stay symbolic
// where they pass through unchanged ("H" in, "H" out); a dim that cannot be
// known before run time is unknown (Dim{} with no symbol). A value with no
// rule, or whose inputs are unknown, is left out; the executor then computes
// its shape at run time, so inference is an aid, never a requirement.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>

#include "graph/ir.h"
#include "graph/op_schema.h"

namespace kiln::graph {

using ValueInfoMap = std::unordered_map<std::string, ValueInfo>;

// Infers every value of `g`. Values already in `g.value_info` are not trusted:
// everything is recomputed from the inputs. Throws kiln::Error when a node's
// input shapes are provably incompatible (e.g. Add of 3x4 and 5x4), naming it.
ValueInfoMap infer_shapes(const Graph& g, const OpCatalog& ops);

// infer_shapes for passes that only act on a consistent graph: nullopt when
// inference throws, so the pass leaves the graph alone and the executor
// reports the problem when it runs the node.
std::optional<ValueInfoMap> try_infer_shapes(const Graph& g, const OpCatalog& ops);

// Infers the outputs of one node from its inputs' infos (missing entries =
// unknown) and the constant values it can see. Used by infer_shapes and by
// passes that create nodes. Nothing for an op `ops` does not know.
std::vector<ValueInfo> infer_node(const Node& node, const std::vector<const ValueInfo*>& inputs,
                                  const std::vector<const Tensor*>& constants, const OpCatalog& ops);

}  // namespace kiln::graph
