#include "kiln/optimize_model.h"

#include <chrono>
#include <filesystem>
#include <memory>
#include <utility>

#include "graph/onnx_loader.h"
#include "graph/onnx_writer.h"
#include "graph/record_inferred_shapes.h"
#include "graph/shape_inference.h"
#include "kiln/error.h"
#include "runtime/model_impl.h"
#include "runtime/op_registry.h"
#include "runtime/prepare_graph.h"

namespace kiln {
namespace {

// kiln::Error when `out` names the input file (or a link to it).
void refuse_to_overwrite_input(const std::string& in, const std::string& out) {
  namespace fs = std::filesystem;
  std::error_code exists_error, equivalent_error, in_error, out_error;
  bool same = fs::exists(out, exists_error) && fs::equivalent(in, out, equivalent_error) && !equivalent_error;
  const fs::path in_path = fs::weakly_canonical(in, in_error), out_path = fs::weakly_canonical(out, out_error);
  same = same || (!in_error && !out_error && in_path == out_path);
  if (same) fail("the output file '", out, "' is the input model; write the optimized model to another file");
}

}  // namespace

OptimizeModelResult optimize_model_file(const std::string& in_path, const std::string& out_path,
                                        const OptimizeModelOptions& options) {
  refuse_to_overwrite_input(in_path, out_path);
  auto original = std::make_shared<Model::Impl>();
  original->graph = graph::load_onnx_file(in_path);

  OptimizeModelResult result;
  DescribeOptions describe_options;
  describe_options.input_shapes = options.input_shapes;
  describe_options.dim_values = options.dim_values;
  describe_options.count_folded_macs = true;
  // Also checks the shapes, before the optimizer runs.
  result.original = Model(original).describe(describe_options);

  auto optimized = std::make_shared<Model::Impl>();
  optimized->graph = original->graph;  // tensors are shared, not copied
  graph::Graph& g = optimized->graph;
  graph::OptimizeOptions optimize_options;
  optimize_options.level = options.level;
  optimize_options.standard_only = options.standard_only;
  const auto start = std::chrono::steady_clock::now();
  result.report = prepare_graph(g, options.input_shapes, options.dim_values, /*batch=*/0, optimize_options);
  result.optimize_milliseconds =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  try {
    graph::record_inferred_shapes(g, graph::infer_shapes(g, OpRegistry::global()));
  } catch (const Error&) {
    // Inference refused the graph: the declared shapes are written as they are.
  }
  for (const auto& [key, value] : options.set_metadata) g.metadata_props[key] = value;
  graph::write_onnx_file(g, out_path);

  describe_options.input_shapes.clear();  // already fixed in the optimized graph
  describe_options.dim_values.clear();
  result.optimized = Model(optimized).describe(describe_options);
  return result;
}

}  // namespace kiln
