// A graph pass: one small rewrite (a pattern and what replaces it), applied at
// every place it matches in one sweep over the graph.
//
// Each pass lives in graph/passes/<name>.{h,cpp} with its own unit test, and
// edits the graph through a GraphEditor (graph/graph_editor.h). A pass returns
// how many rewrites fired; 0 means it left the graph exactly as it was, which
// is what lets the optimizer (graph/optimizer.h) run passes to a fixed point.
// Passes only simplify: they never depend on the CPU. Kernel choice is the
// executor's business.
#pragma once

#include <cstddef>
#include <cstdint>

#include "graph/ir.h"
#include "graph/node_evaluator.h"
#include "graph/op_schema.h"
#include "kiln/optimize.h"

namespace kiln::graph {

// The domain and opset of kiln's own ops (docs/fused_ops.md).
inline constexpr const char* kKilnDomain = "com.kiln";
inline constexpr int64_t kKilnOpset = 1;

// What a pass may need besides the graph.
struct PassContext {
  NodeEvaluator evaluate;                      // constant folding (empty: Constant nodes only)
  size_t max_folded_bytes = size_t{64} << 20;  // never fold into a larger tensor
  const OpCatalog* ops = nullptr;              // the operator records (nullptr: none known)

  const OpCatalog& catalog() const { return ops ? *ops : empty_op_catalog(); }
};

// Rewrites every match in `g` and returns how many rewrites fired.
using PassFunction = size_t (*)(Graph& g, const PassContext& context);

struct Pass {
  const char* name;
  OptLevel level;          // the lowest level that runs it
  const char* emits_op;    // a com.kiln op it creates (nullptr: standard ops only)
  PassFunction run;
};

}  // namespace kiln::graph
