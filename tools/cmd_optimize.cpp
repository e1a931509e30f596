// `kiln optimize IN.onnx OUT.onnx`: fixes input shapes, runs the graph
// optimizer (the same preparation a session does, kiln::optimize_model_file),
// writes the result as an ONNX model and prints a before/after table (op-type
// counts, nodes, parameters, MACs, file size), then the session-creation time
// of both models.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "kiln/optimize_model.h"
#include "kiln/session.h"
#include "tools/cli_common.h"
#include "tools/image_run.h"
#include "tools/model_stats.h"

namespace kiln::cli {
namespace {

struct OptimizeArgs {
  std::string in;
  std::string out;
  ShapeArgs shape_args;
  std::string opt_level = "all";
  bool standard_only = false;
  bool no_timing = false;
  std::string set_preprocess;  // range=..,mean=..,std=.. -> kiln.* metadata_props
};

// One row of the table: a label and the original and optimized cells.
struct Row {
  std::string label, before, after;
};

std::string macs_cell(const std::optional<int64_t>& macs) {
  return macs ? with_si_suffix(static_cast<double>(*macs)) : "?";
}

std::vector<Row> table_rows(const ModelStats& before, const ModelStats& after) {
  // Op types by the original count, most used first; then the ones only the optimized graph has.
  std::vector<std::string> ops;
  for (const auto& [op, count] : before.op_counts) ops.push_back(op);
  std::stable_sort(ops.begin(), ops.end(),
                   [&](const std::string& a, const std::string& b) { return before.op_counts.at(a) > before.op_counts.at(b); });
  std::vector<std::string> added;
  for (const auto& [op, count] : after.op_counts)
    if (!before.op_counts.count(op)) added.push_back(op);
  std::stable_sort(added.begin(), added.end(),
                   [&](const std::string& a, const std::string& b) { return after.op_counts.at(a) > after.op_counts.at(b); });
  ops.insert(ops.end(), added.begin(), added.end());

  auto count_in = [](const ModelStats& s, const std::string& op) {
    auto it = s.op_counts.find(op);
    return std::to_string(it == s.op_counts.end() ? 0 : it->second);
  };
  std::vector<Row> rows;
  for (const std::string& op : ops) rows.push_back({op, count_in(before, op), count_in(after, op)});
  rows.push_back({"", "", ""});  // separator
  rows.push_back({"nodes", with_commas(before.nodes), with_commas(after.nodes)});
  rows.push_back({"parameters", with_commas(before.parameters), with_commas(after.parameters)});
  rows.push_back({"MACs", macs_cell(before.macs), macs_cell(after.macs)});
  auto size_cell = [](const ModelStats& s) { return s.file_bytes ? human_bytes(*s.file_bytes) : std::string("?"); };
  rows.push_back({"file size", size_cell(before), size_cell(after)});
  return rows;
}

void print_table(const std::vector<Row>& rows) {
  size_t label_width = 10, before_width = std::string("original").size(), after_width = std::string("optimized").size();
  for (const Row& r : rows) {
    label_width = std::max(label_width, r.label.size());
    before_width = std::max(before_width, r.before.size());
    after_width = std::max(after_width, r.after.size());
  }
  const std::string rule(label_width + before_width + after_width + 6, '-');
  std::printf("  %-*s  %*s  %*s\n", static_cast<int>(label_width), "", static_cast<int>(before_width), "original",
              static_cast<int>(after_width), "optimized");
  std::printf("  %s\n", rule.c_str());
  for (const Row& r : rows) {
    if (r.label.empty()) {
      std::printf("  %s\n", rule.c_str());
      continue;
    }
    std::printf("  %-*s  %*s  %*s\n", static_cast<int>(label_width), r.label.c_str(), static_cast<int>(before_width),
                r.before.c_str(), static_cast<int>(after_width), r.after.c_str());
  }
}

// Milliseconds to create a session for `path`, or the error that stopped it.
struct CreationTime {
  double milliseconds = 0;
  std::string error;
};

CreationTime time_session_creation(const std::string& path, const SessionOptions& options) {
  CreationTime result;
  try {
    Stopwatch clock;
    Session session = Session::open(path, options);
    result.milliseconds = clock.milliseconds();
  } catch (const Error& e) {
    result.error = one_line(e.what());
  }
  return result;
}

// Session creation of the original (with the --shape/--dim values) and of the
// optimized model (whose shapes are already fixed), at the same level and threads.
void print_creation_times(const OptimizeArgs& args, const SessionOptions& original_options) {
  SessionOptions optimized_options;
  optimized_options.threads = original_options.threads;
  optimized_options.opt_level = original_options.opt_level;
  CreationTime before = time_session_creation(args.in, original_options);
  CreationTime after = time_session_creation(args.out, optimized_options);
  if (before.error.empty() && !after.error.empty())
    fail("the optimized model '", args.out, "' does not load in kiln (the original does): ", after.error);
  std::printf("\nsession creation (level %s, %d thread%s, once each):", args.opt_level.c_str(),
              original_options.threads, original_options.threads == 1 ? "" : "s");
  auto show = [](const char* label, const CreationTime& t) {
    if (t.error.empty()) std::printf(" %s %.1f ms", label, t.milliseconds);
    else std::printf(" %s not measured (%s)", label, t.error.c_str());
  };
  show("original", before);
  std::printf(",");
  show("optimized", after);
  std::printf("\n");
}

std::string input_shapes_line(const ModelDescription& g) {
  std::string line;
  for (const TensorInfo& v : g.inputs) line += (line.empty() ? "" : ", ") + v.name + " " + v.shape_string();
  return line.empty() ? "none" : line;
}

int optimize_model(const OptimizeArgs& args) {
  SessionOptions options;
  options.threads = physical_core_count();
  options.opt_level = parse_opt_level(args.opt_level);
  apply_shape_args(args.shape_args, options);

  OptimizeModelOptions optimize_options;
  optimize_options.level = options.opt_level;
  optimize_options.standard_only = args.standard_only;
  optimize_options.input_shapes = options.input_shapes;
  optimize_options.dim_values = options.dim_values;
  if (!args.set_preprocess.empty()) optimize_options.set_metadata = parse_preprocess_metadata(args.set_preprocess);
  const OptimizeModelResult result = optimize_model_file(args.in, args.out, optimize_options);

  std::printf("optimized %s -> %s (level %s%s) in %.1f ms\n", args.in.c_str(), args.out.c_str(),
              args.opt_level.c_str(), args.standard_only ? ", standard ONNX ops only" : "",
              result.optimize_milliseconds);
  std::printf("inputs     %s\n", input_shapes_line(result.optimized).c_str());
  std::printf("passes     %s\n", describe_optimization(result.report).c_str());
  for (const auto& [key, value] : optimize_options.set_metadata)
    std::printf("metadata   %s = %s\n", key.c_str(), value.c_str());
  std::printf("\n");
  print_table(table_rows(model_stats(result.original, args.in), model_stats(result.optimized, args.out)));
  if (!args.no_timing) print_creation_times(args, options);
  return 0;
}

}  // namespace

void add_optimize_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<OptimizeArgs>();
  CLI::App* command =
      app.add_subcommand("optimize", "Fix input shapes, optimize the graph and save it as an ONNX model");
  command->footer(
      "Loads IN, fixes the input shapes given with --shape / --dim, runs kiln's graph optimizer at --opt-level\n"
      "(constant folding, Shape chains included once shapes are fixed; Identity/Dropout removal, dead-node and\n"
      "common-subexpression elimination, Transpose cancellation, BatchNormalization/Mul/Add folding into Conv,\n"
      "Conv+activation fusion, layer-norm chains and connected element-wise ops fused) and writes OUT with the\n"
      "inferred shapes recorded. Prints a before/after table\n"
      "(count per op type, nodes, parameters = elements of initializers and Constant nodes, MACs of\n"
      "Conv/ConvTranspose/Gemm/MatMul from static shapes or '?' when unknown, file size), then the time kiln\n"
      "takes to create a session for each model (once each, same level and threads).\n\n"
      "At level extended or all, the fusions become ops in kiln's own domain com.kiln (docs/fused_ops.md):\n"
      "FusedConv (a Conv with its activation), FusedLayerNorm, FusedElementwise (a group of element-wise ops\n"
      "run as one program). kiln loads such a model, but onnxruntime and other runtimes cannot.\n"
      "--standard-only writes each of them back as standard ops (Conv followed by its activation, the layer\n"
      "norm's ops, one node per element-wise instruction), so any runtime loads the model. OUT must not be IN.\n\n"
      "Examples:\n"
      "  kiln optimize det.onnx det_opt.onnx --shape x=1x3x736x1280 --standard-only\n"
      "  kiln optimize model.onnx model_opt.onnx --dim batch=1 --opt-level basic\n");
  command->add_option("in", args->in, "The ONNX model to optimize")->required()->type_name("IN");
  command->add_option("out", args->out, "Where to write the optimized model")->required()->type_name("OUT");
  add_shape_options(*command, args->shape_args);
  add_opt_level_option(*command, args->opt_level);
  command->add_flag("--standard-only", args->standard_only,
                    "Write only standard ONNX ops (kiln's com.kiln fused ops expanded back), so onnxruntime and "
                    "other runtimes load OUT; without it the fusions are com.kiln ops (FusedConv, FusedLayerNorm, "
                    "FusedElementwise), which only kiln loads");
  command->add_flag("--no-timing", args->no_timing, "Do not time session creation of the two models");
  command->add_option("--set-preprocess", args->set_preprocess,
                      "Record how the model wants its images in OUT's metadata_props (kiln.range, kiln.mean, "
                      "kiln.std), so `kiln run --image` uses them without --range/--mean/--std, e.g. range=-1,1 or "
                      "range=0,1,mean=0.485,0.456,0.406,std=0.229,0.224,0.225")
      ->type_name("range=LO,HI[,mean=R,G,B][,std=R,G,B]");
  command->callback([args, &action] { action = [args] { return optimize_model(*args); }; });
}

}  // namespace kiln::cli
