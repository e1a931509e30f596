#include "graph/optimizer.h"

#include "graph/passes/cancel_transposes.h"
#include "graph/passes/eliminate_common_subexpressions.h"
#include "graph/passes/eliminate_dead_nodes.h"
#include "graph/passes/expand_kiln_ops.h"
#include "graph/passes/fold_constants.h"
#include "graph/passes/fold_static_shapes.h"
#include "graph/passes/fuse_conv_activation.h"
#include "graph/passes/fuse_conv_add_bias.h"
#include "graph/passes/fuse_conv_batchnorm.h"
#include "graph/passes/fuse_conv_mul.h"
#include "graph/passes/fuse_conv_output_affine.h"
#include "graph/passes/fuse_elementwise.h"
#include "graph/passes/fuse_layer_norm.h"
#include "graph/passes/fuse_pad_conv.h"
#include "graph/passes/remove_identity.h"
#include "graph/passes/sink_transposes.h"
#include "graph/validate_graph.h"

namespace kiln::graph {

namespace {

template <size_t (*Run)(Graph&)>
size_t without_context(Graph& g, const PassContext&) {
  return Run(g);
}

// For passes that read operator records (shape rules, traits).
template <size_t (*Run)(Graph&, const OpCatalog&)>
size_t with_ops(Graph& g, const PassContext& context) {
  return Run(g, context.catalog());
}

size_t fold_constants_with_context(Graph& g, const PassContext& context) {
  return fold_constants(g, context.evaluate, context.catalog(), context.max_folded_bytes);
}

bool runs(const Pass& pass, const OptimizeOptions& options) {
  if (static_cast<int>(options.level) < static_cast<int>(pass.level)) return false;
  if (!pass.emits_op) return true;
  // A standard-only graph gets the fusions too; expand_kiln_ops writes them
  // back in standard ops at the end.
  if (options.standard_only) return true;
  return options.emit_kiln_ops_without_kernels ||
         (options.has_kernel && options.has_kernel(kKilnDomain, pass.emits_op, kKilnOpset));
}

}  // namespace

const std::vector<Pass>& all_passes() {
  // Folding comes first so Constant nodes feeding the patterns below are
  // initializers by the time those look; dead nodes go last.
  static const std::vector<Pass> passes = {
      {"fold_constants", OptLevel::kBasic, nullptr, fold_constants_with_context},
      {"fold_static_shapes", OptLevel::kBasic, nullptr, with_ops<fold_static_shapes>},
      {"remove_identity", OptLevel::kBasic, nullptr, without_context<remove_identity>},
      {"sink_transposes", OptLevel::kBasic, nullptr, with_ops<sink_transposes>},
      {"cancel_transposes", OptLevel::kBasic, nullptr, without_context<cancel_transposes>},
      {"eliminate_common_subexpressions", OptLevel::kBasic, nullptr, with_ops<eliminate_common_subexpressions>},
      {"fuse_conv_batchnorm", OptLevel::kBasic, nullptr, without_context<fuse_conv_batchnorm>},
      {"fuse_conv_mul", OptLevel::kBasic, nullptr, without_context<fuse_conv_mul>},
      {"fuse_conv_add_bias", OptLevel::kBasic, nullptr, without_context<fuse_conv_add_bias>},
      {"fuse_layer_norm", OptLevel::kExtended, "FusedLayerNorm", with_ops<fuse_layer_norm>},
      {"fuse_pad_conv", OptLevel::kExtended, "FusedConv", without_context<fuse_pad_conv>},
      {"fuse_conv_activation", OptLevel::kExtended, "FusedConv", without_context<fuse_conv_activation>},
      {"fuse_conv_output_affine", OptLevel::kExtended, "FusedConv", without_context<fuse_conv_output_affine>},
      // After the Conv and layer-norm fusions, so it does not take their patterns.
      {"fuse_elementwise", OptLevel::kExtended, "FusedElementwise", with_ops<fuse_elementwise>},
      {"eliminate_dead_nodes", OptLevel::kBasic, nullptr, without_context<eliminate_dead_nodes>},
  };
  return passes;
}

// Subgraph bodies are not loaded (only marked), so the values they read from
// the outer graph are invisible to the passes: a graph with one is left alone.
bool has_subgraphs(const Graph& g) {
  for (const Node& node : g.nodes)
    for (const auto& [key, attr] : node.attrs)
      if (attr.kind == Attribute::Kind::kGraph || attr.kind == Attribute::Kind::kGraphs) return true;
  return false;
}

OptimizeReport optimize(Graph& g, const OptimizeOptions& options) {
  std::vector<Pass> enabled;
  if (!has_subgraphs(g))
    for (const Pass& pass : all_passes())
      if (runs(pass, options)) enabled.push_back(pass);
  OptimizeReport report = run_passes(g, enabled, options);
  if (!options.standard_only) return report;
  report.passes.push_back({"expand_kiln_ops", expand_kiln_ops(g, options.ops ? *options.ops : empty_op_catalog())});
  for (const Node& node : g.nodes)
    if (node.domain == kKilnDomain)
      fail("graph optimizer: standard ONNX ops only were asked for, but kiln has no standard form for ",
           node.describe(), " (domain ", kKilnDomain, ")");
  report.nodes_after = g.nodes.size();
  report.initializers_after = g.initializers.size();
  if (options.validate) validate_graph(g);
  return report;
}

OptimizeReport run_passes(Graph& g, const std::vector<Pass>& passes, const OptimizeOptions& options) {
  const PassContext context{options.evaluate, options.max_folded_bytes, options.ops};
  OptimizeReport report;
  report.level = options.level;
  report.nodes_before = g.nodes.size();
  report.initializers_before = g.initializers.size();
  for (const Pass& pass : passes) report.passes.push_back({pass.name, 0});
  if (options.validate) {
    try {
      validate_graph(g);
    } catch (const Error& e) {
      fail("graph optimizer: the graph was already broken before optimizing: ", e.what());
    }
  }

  bool changed = !passes.empty();
  while (changed && report.rounds < options.max_rounds) {
    changed = false;
    ++report.rounds;
    for (size_t p = 0; p < passes.size(); ++p) {
      const size_t fired = passes[p].run(g, context);
      if (fired == 0) continue;
      changed = true;
      report.passes[p].rewrites += fired;
      if (!options.validate) continue;
      try {
        validate_graph(g);
      } catch (const Error& e) {
        fail("graph optimizer: pass '", passes[p].name, "' (round ", report.rounds, ") broke the graph: ", e.what());
      }
    }
  }
  report.converged = !changed;
  report.nodes_after = g.nodes.size();
  report.initializers_after = g.initializers.size();
  return report;
}

}  // namespace kiln::graph
