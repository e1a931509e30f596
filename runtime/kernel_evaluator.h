// The graph optimizer's view of kiln's kernels (graph/node_evaluator.h), built
// from an op registry: graph/ cannot call runtime/, so whoever runs the
// optimizer injects these. The session does it in runtime/prepare_graph.cpp
// with OpRegistry::global(), the registry its executor builds kernels from.
#pragma once

#include <optional>

#include "graph/node_evaluator.h"
#include "graph/optimizer.h"
#include "kernels/kernel_table.h"
#include "runtime/op_registry.h"

namespace kiln {

// Runs a node through its kernel from `registry` on one thread, as the
// executor would, with the microkernels of `kernels` (a session's table;
// std::nullopt: the default level's, KILN_ISA or the best, for callers
// without a session); std::nullopt when the registry has no kernel for it or
// the kernel rejects it (the executor reports that later, naming the node).
// Throws kiln::Error naming KILN_ISA when no table was given and KILN_ISA is
// invalid. `registry` must outlive the evaluator.
graph::NodeEvaluator kernel_evaluator(const OpRegistry& registry,
                                      std::optional<kernels::KernelTable> kernels = std::nullopt);

// Whether `registry` has a kernel for the op; `registry` must outlive it.
graph::KernelQuery kernel_query(const OpRegistry& registry);

// `options` with evaluate, has_kernel and ops taken from `registry` (and
// `kernels`, as above).
graph::OptimizeOptions with_kernels(graph::OptimizeOptions options,
                                    const OpRegistry& registry = OpRegistry::global(),
                                    std::optional<kernels::KernelTable> kernels = std::nullopt);

}  // namespace kiln
