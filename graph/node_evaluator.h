// What the graph layer may ask of the kernels above it, without linking them:
// the caller of the optimizer injects these (runtime/kernel_evaluator.h builds
// them from an op registry; the session does that in runtime/prepare_graph.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "kiln/tensor.h"

namespace kiln::graph {

// Computes a node's outputs from its inputs, which are all constants (nullptr
// for an omitted optional input); one Tensor per node output, undefined for an
// omitted output. std::nullopt means "cannot fold": no kernel for the op, or
// the kernel rejected the node (the session reports that later, naming it).
using NodeEvaluator =
    std::function<std::optional<std::vector<Tensor>>(const Node& node, const std::vector<const Tensor*>& inputs)>;

// Whether a kernel runs (domain, op_type) at `opset`: the passes that create
// com.kiln ops run only when it does.
using KernelQuery = std::function<bool(const std::string& domain, const std::string& op_type, int64_t opset)>;

}  // namespace kiln::graph
