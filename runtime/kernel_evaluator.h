// The graph optimizer's view of kiln's kernels (graph/node_evaluator.h), built
// from an op registry: graph/ cannot call runtime/, so whoever runs the
// optimizer injects these. The session does it in runtime/prepare_graph.cpp
// with OpRegistry::global(), the registry its executor builds kernels from.
#pragma once

#include "graph/node_evaluator.h"
#include "graph/optimizer.h"
#include "runtime/op_registry.h"

namespace kiln {

// Runs a node through its kernel from `registry` on one thread, as the
// executor would; std::nullopt when the registry has no kernel for it or the
// kernel rejects it (the executor reports that later, naming the node).
// `registry` must outlive the evaluator.
graph::NodeEvaluator kernel_evaluator(const OpRegistry& registry);

// Whether `registry` has a kernel for the op; `registry` must outlive it.
graph::KernelQuery kernel_query(const OpRegistry& registry);

// `options` with evaluate and has_kernel taken from `registry`.
graph::OptimizeOptions with_kernels(graph::OptimizeOptions options,
                                    const OpRegistry& registry = OpRegistry::global());

}  // namespace kiln
