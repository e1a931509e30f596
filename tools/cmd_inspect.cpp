// `kiln inspect MODEL`: what a model declares (inputs, outputs, opsets,
// producer, op types, parameters), and per-node shapes and MACs from static
// shape inference, completed when needed by running the model once on
// pseudo-random inputs (which needs every input shape to be known).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kiln/model_info.h"
#include "kiln/session.h"
#include "tools/cli_common.h"
#include "tools/node_shapes.h"
#include "tools/settings.h"

namespace kiln::cli {
namespace {

struct InspectArgs {
  std::string model;
  ShapeArgs shape_args;
  bool no_run = false;
  bool list_nodes = false;
  std::string max_memory;  // --max-memory as typed; "" for the default
};

std::string shape_list(const std::vector<ValueShape>& shapes) {
  std::string text;
  for (size_t i = 0; i < shapes.size(); ++i) text += (i ? ", " : "") + shapes[i].text;
  return text;
}

bool has_static_shape(const TensorInfo& info) {
  return info.has_shape && std::all_of(info.dims.begin(), info.dims.end(), [](int64_t d) { return d >= 0; });
}

std::string domain_name(const std::string& domain) { return domain.empty() ? "ai.onnx" : domain; }

void print_values(const char* title, const std::vector<TensorInfo>& values) {
  std::printf("%-12s%zu\n", title, values.size());
  size_t width = 0;
  for (const auto& v : values) width = std::max(width, v.name.size());
  for (const auto& v : values)
    std::printf("  %-*s  %-8s %s\n", static_cast<int>(width), v.name.c_str(), dtype_name(v.dtype),
                v.shape_string().c_str());
}

void print_declared(const std::string& path, const ModelDescription& g) {
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

  // Weights live in initializers, or (paddle2onnx and others) in Constant nodes.
  std::printf("%-12s%s (%s) in %zu initializers and %zu Constant nodes\n", "parameters",
              with_commas(g.parameters).c_str(), human_bytes(g.parameter_bytes).c_str(), g.initializers,
              g.constant_nodes);
  std::printf("%-12s%zu\n", "nodes", g.nodes.size());

  struct OpUse {
    int count = 0;
    bool supported = true;  // every node of the type has a kernel for its opset
  };
  std::map<std::string, OpUse> op_uses;
  for (const NodeDescription& node : g.nodes) {
    OpUse& use = op_uses[node.qualified_op_type()];
    ++use.count;
    use.supported &= node.supported;
  }
  std::vector<std::pair<std::string, OpUse>> sorted(op_uses.begin(), op_uses.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second.count > b.second.count; });
  size_t width = 0, unsupported = 0;
  for (const auto& [op, use] : sorted) {
    width = std::max(width, op.size());
    unsupported += !use.supported;
  }
  std::printf("%-12s%zu", "op types", sorted.size());
  if (unsupported) std::printf(" (%zu not supported by kiln yet)", unsupported);
  std::printf("\n");
  for (const auto& [op, use] : sorted)
    if (use.supported)
      std::printf("  %-*s  %d\n", static_cast<int>(width), op.c_str(), use.count);
    else
      std::printf("  %-*s  %-6d  not supported\n", static_cast<int>(width), op.c_str(), use.count);
}

// The dims of `input` that are not numbers, by name ("H, W"; "dim 2" for an
// unnamed one), or "unknown rank".
std::string dynamic_dims(const TensorInfo& input) {
  if (!input.has_shape) return "unknown rank";
  std::string dims;
  for (size_t i = 0; i < input.dims.size(); ++i) {
    if (input.dims[i] >= 0) continue;
    const bool named = i < input.dim_names.size() && !input.dim_names[i].empty();
    dims += (dims.empty() ? "" : ", ") + (named ? input.dim_names[i] : "dim " + std::to_string(i));
  }
  return dims;
}

// Which inputs keep the model from running on pseudo-random inputs, with
// their unknown dims ("input 'x' has dynamic dims H, W (1x3xHxW); give
// --shape x=DIMS or --dim H=N"), or "" when all have known shapes (with the
// --shape / --dim values applied).
std::string dynamic_input_note(const ModelDescription& g) {
  std::string inputs, shape_flags, first_dim;
  for (const TensorInfo& input : g.fixed_inputs) {
    if (has_static_shape(input)) continue;
    inputs += (inputs.empty() ? "" : ", ") + ("input '" + input.name + "' has dynamic dims " + dynamic_dims(input) +
                                              " (" + input.shape_string() + ")");
    shape_flags += (shape_flags.empty() ? "--shape " : " --shape ") + input.name + "=DIMS";
    for (size_t i = 0; first_dim.empty() && i < input.dims.size() && i < input.dim_names.size(); ++i)
      if (input.dims[i] < 0) first_dim = input.dim_names[i];
  }
  if (inputs.empty()) return "";
  return inputs + "; give " + shape_flags + (first_dim.empty() ? "" : " or --dim " + first_dim + "=N");
}

struct RunShapes {
  std::vector<NodeShapes> nodes;
  std::string source;  // "from one run on pseudo-random inputs (x: 1x3x8x8, 2.1 ms)"
};

// Runs the model once on pseudo-random inputs, recording every node's shapes.
RunShapes run_for_shapes(const Model& model, SessionOptions options) {
  auto observed = std::make_shared<std::vector<NodeShapes>>();
  options.node_observer = [observed](const NodeRunInfo& info) { observed->push_back(node_shapes_from_run(info)); };
  Session session = Session::open(model, options);
  std::string input_shapes;
  NamedTensors inputs;
  for (const TensorInfo& info : session.inputs()) {
    reserve_input(session, info);
    Tensor tensor = random_input(info);
    input_shapes += (input_shapes.empty() ? "" : ", ") + info.name + ": " + shape_to_string(tensor.shape());
    inputs.emplace(info.name, std::move(tensor));
  }
  Stopwatch clock;
  session.run(inputs);
  char timing[64];
  std::snprintf(timing, sizeof(timing), ", %.1f ms", clock.milliseconds());
  return {std::move(*observed), "from one run on pseudo-random inputs (" +
                                    (input_shapes.empty() ? "no inputs" : input_shapes) + timing + ")"};
}

void print_node_list(const std::vector<NodeShapes>& nodes, bool list_nodes);

// `model_counted_nodes`: how many of the model's nodes are ops whose MACs are
// counted (`nodes` is empty when shape inference and the run both failed).
void print_shapes(const std::vector<NodeShapes>& nodes, size_t model_counted_nodes, const std::string& source,
                  const std::string& note, bool list_nodes) {
  std::printf("%-12s%s\n", "shapes", source.c_str());
  std::map<std::string, int64_t> macs_by_op;
  int64_t total = 0;
  size_t counted = 0, uncounted = 0;
  for (const NodeShapes& node : nodes) {
    if (!counts_macs(node.op_type)) continue;
    if (!node.macs) {
      ++uncounted;
      continue;
    }
    ++counted;
    macs_by_op[node.op_type] += *node.macs;
    total += *node.macs;
  }
  std::vector<std::pair<std::string, int64_t>> sorted(macs_by_op.begin(), macs_by_op.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string parts;
  for (const auto& [op, macs] : sorted)
    parts += (parts.empty() ? "" : ", ") + op + " " + with_si_suffix(static_cast<double>(macs));
  if (model_counted_nodes == 0) {
    std::printf("%-12s0 (no Conv, ConvTranspose, Gemm or MatMul nodes)\n", "MACs");
    return print_node_list(nodes, list_nodes);
  }
  if (counted == 0) {
    // Nothing could be counted: a 0 here would read as a model without work.
    std::printf("%-12sunknown (%s)\n", "MACs",
                note.empty() ? "no Conv/ConvTranspose/Gemm/MatMul node has known shapes" : note.c_str());
    return print_node_list(nodes, list_nodes);
  }
  std::printf("%-12s%s%s (%s)%s%s\n", "MACs", uncounted ? "at least " : "",
              with_si_suffix(static_cast<double>(total)).c_str(), with_commas(total).c_str(),
              parts.empty() ? "" : ": ", parts.c_str());
  if (uncounted)
    std::printf("%-12s%zu of %zu Conv/ConvTranspose/Gemm/MatMul nodes have unknown shapes and are not counted%s%s\n",
                "", uncounted, counted + uncounted, note.empty() ? "" : ": ", note.c_str());
  print_node_list(nodes, list_nodes);
}

void print_node_list(const std::vector<NodeShapes>& nodes, bool list_nodes) {
  if (!list_nodes) return;
  std::printf("%-12s%zu (name  op  input shapes -> output shapes  MACs)\n", "per node", nodes.size());
  for (const NodeShapes& node : nodes) {
    std::printf("  %s  %s  %s -> %s", node.name.c_str(), node.op_type.c_str(), shape_list(node.inputs).c_str(),
                shape_list(node.outputs).c_str());
    if (node.macs) std::printf("  %s", with_si_suffix(static_cast<double>(*node.macs)).c_str());
    std::printf("\n");
  }
}

// The static memory plan of a session at the default opt level, as `kiln
// run` would build it (shapes must be known; nothing is run).
void print_memory_plan(const Model& model, const ModelDescription& g, SessionOptions options) {
  std::string text = dynamic_input_note(g);
  if (!text.empty()) {
    text = "not planned: " + text;
  } else {
    options.opt_level = SessionOptions{}.opt_level;
    try {
      Session session = Session::open(model, options);
      text = describe_memory_plan(session.memory_summary()) + " (opt level all, " +
             std::to_string(session.threads()) + " thread" + (session.threads() == 1 ? "" : "s") + ")";
    } catch (const Error& e) {
      text = "not planned: the model cannot be prepared: " + in_cli_terms(one_line(e.what()));
    }
  }
  std::printf("%-12s%s\n", "memory plan", text.c_str());
}

int inspect_model(const InspectArgs& args) {
  SessionOptions options;
  options.opt_level = OptLevel::kNone;  // the shape run reports the nodes as the model declares them
  options.max_memory_bytes = args.max_memory.empty() ? 0 : parse_byte_size(args.max_memory);
  apply_shape_args(args.shape_args, options);
  // One parse for the description and every session below.
  const Model model = Model::open(args.model);
  DescribeOptions describe_options;
  describe_options.input_shapes = options.input_shapes;
  describe_options.dim_values = options.dim_values;
  // A bad --shape / --dim is an error, not a note (the session checks the same way).
  const ModelDescription g = model.describe(describe_options);
  print_declared(args.model, g);

  std::vector<NodeShapes> nodes;
  std::string source = "from static shape inference";
  if (g.shape_inference_error.empty())
    nodes = node_shapes_from_description(g);
  else
    source = "static shape inference failed: " + one_line(g.shape_inference_error);

  // Fill what inference left unknown by running the model once. A model kiln
  // cannot run (unsupported ops, invalid attributes) is still described.
  std::string note;
  bool missing = std::any_of(nodes.begin(), nodes.end(),
                             [](const NodeShapes& n) { return counts_macs(n.op_type) && !n.macs; });
  if ((missing || nodes.empty()) && !g.nodes.empty()) {
    note = args.no_run ? "not run (--no-run)" : dynamic_input_note(g);
    if (note.empty()) {
      try {
        RunShapes run = run_for_shapes(model, options);
        nodes = std::move(run.nodes);
        source = run.source;
      } catch (const Error& e) {
        note = in_cli_terms(one_line(e.what()));
        if (note.find("unsupported operator") != std::string::npos)
          note = "it uses ops kiln does not support yet (marked above)";
        note = "the model cannot run: " + note;
      }
    }
  }
  print_memory_plan(model, g, options);
  const size_t counted_nodes = static_cast<size_t>(std::count_if(
      g.nodes.begin(), g.nodes.end(), [](const NodeDescription& n) { return counts_macs(n.op_type); }));
  print_shapes(nodes, counted_nodes, source, note, args.list_nodes);
  return 0;
}

}  // namespace

void add_inspect_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* command = app.add_subcommand("inspect", "Describe a model's inputs, outputs, ops, parameters and MACs");
  command->footer(
      "Prints inputs and outputs (dynamic dimensions by name), opset imports, producer, op-type counts, node\n"
      "count, parameter count and size, and the MACs of Conv, ConvTranspose, Gemm and MatMul.\n"
      "Shapes and MACs come from static shape inference; what it leaves unknown is filled by running the\n"
      "model once on pseudo-random inputs, which needs every input shape to be known: static in the model,\n"
      "or given with --shape / --dim. MACs that stay unknown are reported as unknown, naming the dynamic\n"
      "dims (\"at least N\" when only some nodes could be counted), never as 0.\n"
      "With every input shape known, it also prints the static memory plan a session would make (opt level\n"
      "all): the arena all intermediate values share, how many run in place, and the largest set of values\n"
      "alive at one time, the lower bound for any arena.\n"
      "--max-memory bounds the sessions it builds and the inputs of the shape run (see 'kiln run --help').\n\n"
      "Examples:\n"
      "  kiln inspect model.onnx\n"
      "  kiln inspect det.onnx --shape x=1x3x736x1280 --nodes\n");
  command->add_option("model", args->model, "The ONNX model file")->required()->type_name("MODEL");
  add_shape_options(*command, args->shape_args);
  command->add_flag("--nodes", args->list_nodes, "Also list every node with its input and output shapes and MACs");
  command->add_flag("--no-run", args->no_run, "Never run the model; report only what static shape inference finds");
  add_max_memory_option(*command);
  command->callback([args, command, &action] {
    args->max_memory = given_settings(*command).max_memory.value_or("");
    action = [args] { return inspect_model(*args); };
  });
}

}  // namespace kiln::cli
