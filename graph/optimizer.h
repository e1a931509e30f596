// kiln's graph optimizer: runs the passes of an OptLevel to a fixed point.
//
// A round runs every enabled pass once, in the order all_passes() lists them;
// rounds repeat until one fires nothing (or max_rounds is reached). With
// `validate` (the default in debug builds) the graph is checked after every
// pass that fired, and a broken graph is reported as kiln::Error naming the pass.
#pragma once

#include <cstddef>
#include <vector>

#include "graph/ir.h"
#include "graph/node_evaluator.h"
#include "graph/pass.h"
#include "kiln/optimize.h"

namespace kiln::graph {

#ifdef NDEBUG
inline constexpr bool kValidateAfterEachPass = false;
#else
inline constexpr bool kValidateAfterEachPass = true;
#endif

struct OptimizeOptions {
  OptLevel level = OptLevel::kAll;
  // Keep to standard ONNX ops (no com.kiln nodes), so a model written after
  // optimizing loads in any runtime: the fusions into com.kiln ops still run
  // (whatever has_kernel says), then expand_kiln_ops writes each com.kiln
  // node in standard ops with its record's expansion
  // (graph/passes/expand_kiln_ops.h). A com.kiln node left over is a
  // kiln::Error.
  bool standard_only = false;
  // Passes that create com.kiln ops run only when has_kernel says a kernel
  // runs the op, unless this is set (for writing optimized models, and tests).
  bool emit_kiln_ops_without_kernels = false;
  bool validate = kValidateAfterEachPass;
  size_t max_rounds = 16;
  size_t max_folded_bytes = size_t{64} << 20;
  // The runtime's side, injected because graph/ cannot call runtime/ (empty:
  // constant folding folds Constant nodes only, no op has a kernel, and no
  // op is known: shape inference learns nothing and no trait holds).
  // runtime/kernel_evaluator.h fills all three from an op registry.
  NodeEvaluator evaluate;
  KernelQuery has_kernel;
  const OpCatalog* ops = nullptr;
};

// Every pass kiln has, in the order a round runs them.
const std::vector<Pass>& all_passes();

// Optimizes `g` in place and reports what fired. A graph with subgraph
// attributes (If, Loop, Scan) is left as it is: kiln does not load subgraph
// bodies, so the passes could not see which outer values they read.
OptimizeReport optimize(Graph& g, const OptimizeOptions& options = {});

// The fixed-point loop itself, over the given passes (all of them, whatever
// their level): optimize() calls it with the passes its options enable.
OptimizeReport run_passes(Graph& g, const std::vector<Pass>& passes, const OptimizeOptions& options);

}  // namespace kiln::graph
