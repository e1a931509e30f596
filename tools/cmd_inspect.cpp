// `kiln inspect MODEL`: what a model declares (inputs, outputs, opsets,
// producer, op types, parameters) and, when every input shape is known, the
// shapes and MACs found by running it once on pseudo-random inputs.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "graph/onnx_loader.h"
#include "kiln/session.h"
#include "tools/cli_common.h"

namespace kiln::cli {
namespace {

struct InspectArgs {
  std::string model;
  ShapeArgs shape_args;
  bool no_run = false;
  bool list_nodes = false;
};

// One node as seen during the shape run.
struct NodeShapes {
  std::string name;
  std::string op_type;
  std::vector<std::optional<Shape>> inputs;  // nullopt: omitted optional input
  std::vector<std::optional<Shape>> outputs;
  int64_t macs = 0;  // multiply-accumulates, for the ops counted below
};

int64_t product(const Shape& shape, size_t from = 0) {
  int64_t p = 1;
  for (size_t i = from; i < shape.size(); ++i) p *= shape[i];
  return p;
}

// Multiply-accumulates of Conv, ConvTranspose, Gemm and MatMul from their
// runtime shapes (no attributes needed); 0 for other ops or missing shapes.
//   Conv:          output elements x (C/group x kernel), W = [M, C/group, k...]
//   ConvTranspose: input elements x (M/group x kernel),  W = [C, M/group, k...]
//   Gemm, MatMul:  output elements x K
int64_t count_macs(const NodeShapes& node) {
  auto in = [&](size_t i) -> const Shape* {
    return i < node.inputs.size() && node.inputs[i] ? &*node.inputs[i] : nullptr;
  };
  const Shape* out = !node.outputs.empty() && node.outputs[0] ? &*node.outputs[0] : nullptr;
  if (node.op_type == "Conv" && out && in(1) && in(1)->size() >= 2) return product(*out) * product(*in(1), 1);
  if (node.op_type == "ConvTranspose" && in(0) && in(1) && in(1)->size() >= 2)
    return product(*in(0)) * product(*in(1), 1);
  if (node.op_type == "MatMul" && out && in(0) && !in(0)->empty()) return product(*out) * in(0)->back();
  if (node.op_type == "Gemm" && out && in(0) && out->size() == 2 && (*out)[0] > 0)
    return product(*out) * (product(*in(0)) / (*out)[0]);
  return 0;
}

std::string shape_list(const std::vector<std::optional<Shape>>& shapes) {
  std::string text;
  for (size_t i = 0; i < shapes.size(); ++i)
    text += (i ? ", " : "") + (shapes[i] ? shape_to_string(*shapes[i]) : std::string("-"));
  return text;
}

std::string domain_name(const std::string& domain) { return domain.empty() ? "ai.onnx" : domain; }

void print_values(const char* title, const std::vector<graph::ValueInfo>& values) {
  std::printf("%-12s%zu\n", title, values.size());
  size_t width = 0;
  for (const auto& v : values) width = std::max(width, v.name.size());
  for (const auto& v : values)
    std::printf("  %-*s  %-8s %s\n", static_cast<int>(width), v.name.c_str(), dtype_name(v.dtype),
                v.shape_string().c_str());
}

void print_declared(const std::string& path, const graph::Graph& g) {
  std::error_code ec;
  uint64_t file_size = std::filesystem::file_size(path, ec);
  std::printf("%-12s%s (%s)\n", "model", path.c_str(), ec ? "?" : human_bytes(file_size).c_str());
  std::printf("%-12s%lld\n", "ir_version", static_cast<long long>(g.ir_version));
  std::string producer = g.producer_name.empty() ? "(not recorded)" : g.producer_name;
  if (!g.producer_version.empty()) producer += " " + g.producer_version;
  std::printf("%-12s%s\n", "producer", producer.c_str());
  std::string opsets;
  for (const auto& [domain, version] : g.opsets)
    opsets += (opsets.empty() ? "" : ", ") + domain_name(domain) + " " + std::to_string(version);
  std::printf("%-12s%s\n", "opsets", opsets.c_str());
  print_values("inputs", g.inputs);
  print_values("outputs", g.outputs);

  int64_t parameters = 0;
  uint64_t parameter_bytes = 0;
  for (const auto& [name, tensor] : g.initializers) {
    parameters += tensor.size();
    parameter_bytes += tensor.nbytes();
  }
  std::printf("%-12s%s in %zu initializers (%s)\n", "parameters", with_commas(parameters).c_str(),
              g.initializers.size(), human_bytes(parameter_bytes).c_str());
  std::printf("%-12s%zu\n", "nodes", g.nodes.size());

  std::map<std::string, int> op_counts;
  for (const auto& node : g.nodes)
    ++op_counts[node.domain.empty() ? node.op_type : node.domain + "." + node.op_type];
  std::vector<std::pair<std::string, int>> sorted(op_counts.begin(), op_counts.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  size_t width = 0;
  for (const auto& [op, count] : sorted) width = std::max(width, op.size());
  std::printf("%-12s%zu\n", "op types", sorted.size());
  for (const auto& [op, count] : sorted) std::printf("  %-*s  %d\n", static_cast<int>(width), op.c_str(), count);
}

void print_shape_run(const std::vector<NodeShapes>& nodes, const std::string& input_shapes, double run_ms,
                     bool list_nodes) {
  std::printf("%-12sfrom one run on pseudo-random inputs (%s) in %.1f ms\n", "shapes", input_shapes.c_str(), run_ms);
  std::map<std::string, int64_t> macs_by_op;
  int64_t total = 0;
  for (const NodeShapes& node : nodes) {
    if (node.macs == 0) continue;
    macs_by_op[node.op_type] += node.macs;
    total += node.macs;
  }
  std::string parts;
  std::vector<std::pair<std::string, int64_t>> sorted(macs_by_op.begin(), macs_by_op.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  for (const auto& [op, macs] : sorted) parts += (parts.empty() ? "" : ", ") + op + " " + with_si_suffix(static_cast<double>(macs));
  std::printf("%-12s%s (%s) counted over Conv, ConvTranspose, Gemm, MatMul%s%s\n", "MACs",
              with_si_suffix(static_cast<double>(total)).c_str(), with_commas(total).c_str(),
              parts.empty() ? "" : ": ", parts.c_str());
  if (!list_nodes) return;
  std::printf("%-12s%zu (name, op, input shapes -> output shapes, MACs)\n", "per node", nodes.size());
  for (const NodeShapes& node : nodes) {
    std::printf("  %s  %s  %s -> %s", node.name.c_str(), node.op_type.c_str(), shape_list(node.inputs).c_str(),
                shape_list(node.outputs).c_str());
    if (node.macs) std::printf("  %s", with_si_suffix(static_cast<double>(node.macs)).c_str());
    std::printf("\n");
  }
}

// Runs the model once with an observer recording every node's shapes.
// Prints why when shapes cannot be had; kiln::Error only for bad options.
void inspect_shapes(const InspectArgs& args) {
  if (args.no_run) {
    std::printf("%-12snot computed (--no-run)\n", "shapes");
    return;
  }
  auto nodes = std::make_shared<std::vector<NodeShapes>>();
  SessionOptions options;
  apply_shape_args(args.shape_args, options);
  options.node_observer = [nodes](const NodeRunInfo& info) {
    NodeShapes node{info.node_name, info.op_type, {}, {}, 0};
    for (const Tensor* t : info.inputs) node.inputs.push_back(t ? std::optional<Shape>(t->shape()) : std::nullopt);
    for (const Tensor& t : info.outputs)
      node.outputs.push_back(t.defined() ? std::optional<Shape>(t.shape()) : std::nullopt);
    node.macs = count_macs(node);
    nodes->push_back(std::move(node));
  };

  std::optional<Session> session;
  try {
    session.emplace(Session::open(args.model, options));
  } catch (const UnsupportedError& e) {
    std::printf("%-12snot computed: %s\n", "shapes", one_line(e.what()).c_str());
    return;
  }
  std::string input_shapes;
  NamedTensors inputs;
  for (const TensorInfo& info : session->inputs()) {
    if (!has_static_shape(info)) {
      std::printf("%-12snot computed: input '%s' has dynamic shape %s; pass --shape %s=DIMS (or --dim) to compute "
                  "shapes and MACs\n",
                  "shapes", info.name.c_str(), info.shape_string().c_str(), info.name.c_str());
      return;
    }
    Tensor tensor = random_input(info);
    input_shapes += (input_shapes.empty() ? "" : ", ") + info.name + ": " + shape_to_string(tensor.shape());
    inputs.emplace(info.name, std::move(tensor));
  }
  if (input_shapes.empty()) input_shapes = "no inputs";
  Stopwatch clock;
  try {
    session->run(inputs);
  } catch (const Error& e) {
    std::printf("%-12snot computed: running on pseudo-random inputs failed: %s\n", "shapes", one_line(e.what()).c_str());
    return;
  }
  print_shape_run(*nodes, input_shapes, clock.milliseconds(), args.list_nodes);
}

int inspect_model(const InspectArgs& args) {
  graph::Graph g = graph::load_onnx_file(args.model);
  print_declared(args.model, g);
  std::fflush(stdout);
  inspect_shapes(args);
  return 0;
}

}  // namespace

void add_inspect_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* command = app.add_subcommand("inspect", "Describe a model's inputs, outputs, ops, parameters and MACs");
  command->footer(
      "Prints inputs and outputs (dynamic dimensions by name), opset imports, producer, op-type counts, node\n"
      "count, parameter count and size, and the MACs of Conv, ConvTranspose, Gemm and MatMul.\n"
      "Shapes and MACs come from running the model once on pseudo-random inputs, which needs every input\n"
      "shape to be known: static in the model, or given with --shape / --dim.\n\n"
      "Examples:\n"
      "  kiln inspect model.onnx\n"
      "  kiln inspect det.onnx --shape x=1x3x736x1280 --nodes\n");
  command->add_option("model", args->model, "The ONNX model file")->required()->type_name("MODEL");
  add_shape_options(*command, args->shape_args);
  command->add_flag("--nodes", args->list_nodes, "Also list every node with its input and output shapes and MACs");
  command->add_flag("--no-run", args->no_run, "Do not run the model (no shapes or MACs)");
  command->callback([args, &action] { action = [args] { return inspect_model(*args); }; });
}

}  // namespace kiln::cli
