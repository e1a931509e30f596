#include "graph/optimizer.h"

#include <gtest/gtest.h>

#include <set>

#include "graph/validate_graph.h"
#include "graph_builder.h"
#include "runtime/kernel_evaluator.h"
#include "runtime/op_registry.h"

namespace kiln {
namespace {

using testing::attr_float;
using testing::attr_ints;
using testing::attr_tensor;
using testing::GraphBuilder;
using testing::op_sequence;

// A small exporter-style graph touching most passes:
//   x -> Transpose(NHWC) -> Transpose(NCHW) -> Conv -> Identity -> BatchNorm
//     -> Mul(Constant c) -> Relu -> z, plus a dead Sigmoid and an unused initializer.
GraphBuilder exporter_graph() {
  GraphBuilder b;
  b.input("x", {1, 1, 3, 3}).output("z");
  b.floats("w", {2, 1, 1, 1}, {1, 2}).floats("unused", {1}, {0});
  b.floats("scale", {2}, {1, 1}).floats("bias", {2}, {0, 0}).floats("mean", {2}, {0, 0}).floats("var", {2}, {1, 1});
  b.node("Transpose", {"x"}, {"nhwc"}).attrs["perm"] = attr_ints({0, 2, 3, 1});
  b.node("Transpose", {"nhwc"}, {"nchw"}).attrs["perm"] = attr_ints({0, 3, 1, 2});
  b.node("Conv", {"nchw", "w"}, {"y"}, "conv");
  b.node("Identity", {"y"}, {"y2"});
  b.node("BatchNormalization", {"y2", "scale", "bias", "mean", "var"}, {"bn"}).attrs["epsilon"] = attr_float(0);
  b.node("Constant", {}, {"c"}).attrs["value"] = attr_tensor(Tensor::from_floats({2, 1, 1}, {2, 3}));
  b.node("Mul", {"bn", "c"}, {"m"});
  b.node("Relu", {"m"}, {"z"});
  b.node("Sigmoid", {"x"}, {"dead"});
  return b;
}

size_t rewrites_of(const OptimizeReport& report, const std::string& pass) {
  for (const auto& p : report.passes)
    if (p.pass == pass) return p.rewrites;
  ADD_FAILURE() << "pass " << pass << " did not run";
  return 0;
}

bool ran(const OptimizeReport& report, const std::string& pass) {
  for (const auto& p : report.passes)
    if (p.pass == pass) return true;
  return false;
}

// With kiln's kernels for folding and fusing, as a session optimizes.
graph::OptimizeOptions options_for(OptLevel level) {
  graph::OptimizeOptions options;
  options.level = level;
  options.validate = true;
  return with_kernels(options);
}

TEST(Optimizer, NoneLeavesTheGraphAlone) {
  GraphBuilder b = exporter_graph();
  OptimizeReport report = graph::optimize(b.g, options_for(OptLevel::kNone));
  EXPECT_EQ(report.nodes_before, 9u);
  EXPECT_EQ(report.nodes_after, 9u);
  EXPECT_TRUE(report.passes.empty());
  EXPECT_EQ(report.rounds, 0u);
}

TEST(Optimizer, BasicRunsToAFixedPointWithStandardOpsOnly) {
  GraphBuilder b = exporter_graph();
  OptimizeReport report = graph::optimize(b.g, options_for(OptLevel::kBasic));
  EXPECT_EQ(op_sequence(b.g), "Conv,Relu");
  EXPECT_TRUE(report.converged);
  EXPECT_GE(report.rounds, 2u);  // the last round fires nothing
  EXPECT_EQ(report.nodes_before, 9u);
  EXPECT_EQ(report.nodes_after, 2u);
  EXPECT_EQ(rewrites_of(report, "fold_constants"), 1u);
  EXPECT_EQ(rewrites_of(report, "remove_identity"), 1u);
  EXPECT_EQ(rewrites_of(report, "cancel_transposes"), 1u);
  EXPECT_EQ(rewrites_of(report, "fuse_conv_batchnorm"), 1u);
  EXPECT_EQ(rewrites_of(report, "fuse_conv_mul"), 1u);
  EXPECT_FALSE(ran(report, "fuse_conv_activation"));
  // Conv reads x directly; W folded through BN (s = 1) and Mul {2, 3}.
  const graph::Node& conv = b.g.nodes[0];
  EXPECT_EQ(conv.inputs[0], "x");
  EXPECT_EQ(testing::initializer_floats(b.g, conv.inputs[1]), (std::vector<float>{2, 6}));
  EXPECT_EQ(b.g.initializers.size(), 2u);  // fused W and B only
  EXPECT_NO_THROW(graph::validate_graph(b.g));
}

TEST(Optimizer, ExtendedFusesActivationsOnlyWhenAllowed) {
  graph::OptimizeOptions allowed = options_for(OptLevel::kExtended);
  allowed.emit_kiln_ops_without_kernels = true;
  GraphBuilder fused = exporter_graph();
  OptimizeReport report = graph::optimize(fused.g, allowed);
  EXPECT_EQ(op_sequence(fused.g), "FusedConv");
  EXPECT_EQ(rewrites_of(report, "fuse_conv_activation"), 1u);
  EXPECT_EQ(fused.g.nodes[0].outputs[0], "z");

  // standard_only: the fusion runs, then every FusedConv is written back in standard ops.
  graph::OptimizeOptions standard = options_for(OptLevel::kExtended);
  standard.standard_only = true;
  GraphBuilder plain = exporter_graph();
  OptimizeReport standard_report = graph::optimize(plain.g, standard);
  EXPECT_EQ(rewrites_of(standard_report, "fuse_conv_activation"), 1u);
  EXPECT_EQ(rewrites_of(standard_report, "expand_kiln_ops"), 1u);
  EXPECT_EQ(standard_report.nodes_after, 2u);
  EXPECT_EQ(op_sequence(plain.g), "Conv,Relu");
  EXPECT_FALSE(plain.g.opsets.count("com.kiln"));
  // At level basic nothing is fused, so nothing is expanded.
  standard.level = OptLevel::kBasic;
  GraphBuilder basic = exporter_graph();
  EXPECT_EQ(rewrites_of(graph::optimize(basic.g, standard), "expand_kiln_ops"), 0u);
  EXPECT_EQ(op_sequence(basic.g), "Conv,Relu");

  // Without a FusedConv kernel in the registry the pass does not run.
  OpRegistry empty;
  graph::OptimizeOptions no_kernel = options_for(OptLevel::kAll);
  no_kernel = with_kernels(no_kernel, empty);
  GraphBuilder unfused = exporter_graph();
  EXPECT_FALSE(ran(graph::optimize(unfused.g, no_kernel), "fuse_conv_activation"));
  EXPECT_EQ(op_sequence(unfused.g), "Conv,Relu");
}

TEST(Optimizer, ValidationNamesThePassThatBrokeTheGraph) {
  GraphBuilder b = exporter_graph();
  std::vector<graph::Pass> passes = {
      {"drop_first_node", OptLevel::kBasic, nullptr, [](graph::Graph& g, const graph::PassContext&) -> size_t {
         g.nodes.erase(g.nodes.begin());
         return 1;
       }}};
  try {
    graph::run_passes(b.g, passes, options_for(OptLevel::kBasic));
    FAIL() << "expected a validation error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pass 'drop_first_node' (round 1) broke the graph"), std::string::npos)
        << e.what();
  }
}

TEST(Optimizer, RoundLimitStopsAPassThatNeverSettles) {
  GraphBuilder b = exporter_graph();
  std::vector<graph::Pass> passes = {
      {"always_fires", OptLevel::kBasic, nullptr, [](graph::Graph&, const graph::PassContext&) -> size_t { return 1; }}};
  graph::OptimizeOptions options = options_for(OptLevel::kBasic);
  options.max_rounds = 3;
  OptimizeReport report = graph::run_passes(b.g, passes, options);
  EXPECT_FALSE(report.converged);
  EXPECT_EQ(report.rounds, 3u);
  EXPECT_EQ(report.passes[0].rewrites, 3u);
  EXPECT_NE(report.to_string().find("round limit"), std::string::npos);
}

TEST(Optimizer, ReportPrintsCountsAndFiredPasses) {
  GraphBuilder b = exporter_graph();
  OptimizeReport report = graph::optimize(b.g, options_for(OptLevel::kBasic));
  std::string text = report.to_string();
  EXPECT_NE(text.find("level basic"), std::string::npos) << text;
  EXPECT_NE(text.find("9 -> 2 nodes"), std::string::npos) << text;
  EXPECT_NE(text.find("fuse_conv_batchnorm: 1"), std::string::npos) << text;
  EXPECT_EQ(text.find("eliminate_common_subexpressions"), std::string::npos) << text;  // did not fire
}

TEST(Optimizer, GraphsWithSubgraphsAreLeftAlone) {
  GraphBuilder b = exporter_graph();
  graph::Attribute body;
  body.kind = graph::Attribute::Kind::kGraph;
  b.node("If", {"x"}, {"branch"}).attrs["then_branch"] = body;
  OptimizeReport report = graph::optimize(b.g, options_for(OptLevel::kAll));
  EXPECT_TRUE(report.passes.empty());
  EXPECT_EQ(b.g.nodes.size(), 10u);
}

TEST(Optimizer, PassListHasUniqueNamesAndLevels) {
  std::set<std::string> names;
  for (const graph::Pass& p : graph::all_passes()) {
    EXPECT_TRUE(names.insert(p.name).second) << p.name;
    EXPECT_NE(p.level, OptLevel::kNone) << p.name;
  }
  EXPECT_EQ(std::string(graph::all_passes().front().name), "fold_constants");
  EXPECT_EQ(std::string(graph::all_passes().back().name), "eliminate_dead_nodes");
}

}  // namespace
}  // namespace kiln
