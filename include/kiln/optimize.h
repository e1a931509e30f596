// The graph optimizer's levels and its report: public (SessionOptions and
// Session::optimization_summary use them) and header-only, so the graph layer,
// which runs the optimizer, needs nothing from the session above it.
#pragma once

#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

namespace kiln {

// Graph optimization levels, as in onnxruntime:
//   kNone     the graph runs as loaded;
//   kBasic    simplifications that keep standard ONNX ops: constant folding
//             (Shape/Size of values whose shape is known statically included),
//             Identity/Dropout removal, dead-node and common-subexpression
//             elimination, Transpose cancellation, Conv+BatchNormalization /
//             Conv+Mul / Conv+Add folding into the Conv's weights and bias;
//   kExtended adds fusions into kiln's own ops (Conv+activation -> com.kiln FusedConv,
//             see docs/fused_ops.md);
//   kAll      everything kiln has (today the same as kExtended).
enum class OptLevel { kNone, kBasic, kExtended, kAll };

// "none", "basic", "extended", "all".
inline const char* opt_level_name(OptLevel level) {
  switch (level) {
    case OptLevel::kNone: return "none";
    case OptLevel::kBasic: return "basic";
    case OptLevel::kExtended: return "extended";
    case OptLevel::kAll: return "all";
  }
  return "?";
}

// What the graph optimizer did while a session was built.
struct OptimizeReport {
  struct PassCount {
    std::string pass;     // "fuse_conv_batchnorm", ...
    size_t rewrites = 0;  // times the pass fired, summed over all rounds
  };
  OptLevel level = OptLevel::kNone;
  size_t nodes_before = 0;
  size_t nodes_after = 0;
  size_t initializers_before = 0;
  size_t initializers_after = 0;
  size_t rounds = 0;       // rounds of all passes, the last one firing nothing
  bool converged = true;   // false if the round limit stopped a pass that kept firing
  std::vector<PassCount> passes;  // every pass of the level, in run order

  // A few lines for people: node counts, then each pass that fired.
  std::string to_string() const {
    std::ostringstream out;
    out << "graph optimizer (level " << opt_level_name(level) << "): " << nodes_before << " -> " << nodes_after
        << " nodes, " << initializers_before << " -> " << initializers_after << " initializers, " << rounds
        << " round" << (rounds == 1 ? "" : "s");
    if (!converged) out << " (stopped at the round limit)";
    out << "\n";
    for (const PassCount& p : passes)
      if (p.rewrites) out << "  " << p.pass << ": " << p.rewrites << "\n";
    return out.str();
  }
};

}  // namespace kiln
