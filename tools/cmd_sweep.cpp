// `kiln sweep MODEL --threads 1,2 --opt-level none,all --isa sse41,avx2
// [--batch 1,2,4] [--instances 1,2]`: benchmarks every combination of the lists, each in a
// fresh child process (`kiln bench --json` with KILN_ISA set), then prints a
// Markdown table and optionally writes CSV and a PNG or SVG chart (drawn with
// cairo, tools/sweep_plot.h).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kiln/model_info.h"
#include "platform/cpu_info.h"
#include "tools/bench_child.h"
#include "tools/bench_common.h"
#include "tools/cli_common.h"
#include "tools/progress.h"
#include "tools/settings.h"
#include "tools/sweep_plot.h"

namespace kiln::cli {
namespace {

struct SweepArgs {
  std::string model;
  ShapeArgs shape_args;
  std::string threads, opt_levels, isas;  // bound to the flags; read through `given`
  GivenSettings given;                    // set by the callback: given_settings(command)
  std::string batches;
  std::string instances;  // --instances list; "" when not given
  int runs = 5;
  int warmup = 1;
  std::string csv_file, plot_file;
  std::string plot_size;  // --plot-size WxH; "" for the default per panel
};

// The folder `file` goes in must exist: found before the sweep runs, not after.
void check_output_folder(const std::string& file, const std::string& option) {
  std::filesystem::path parent = std::filesystem::path(file).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec))
    fail(option, " ", file, ": the folder ", parent.string(), " does not exist");
}

// --batch replaces dim 0 of every input in the child (`kiln bench --batch`,
// SessionOptions::batch), also a dim the model fixes. Says so on stderr for
// the fixed ones: the user should know the model was not exported for it.
// kiln::Error when no input has a dim 0 to replace.
void announce_batch(const std::vector<TensorInfo>& model_inputs, const std::vector<int64_t>& batches) {
  bool any = false;
  for (const TensorInfo& input : model_inputs) {
    if (!input.has_shape || input.dims.empty()) continue;
    any = true;
    if (input.dims[0] < 0) continue;
    std::string replaced;
    for (int64_t b : batches)
      if (b != input.dims[0]) replaced += (replaced.empty() ? "" : ", ") + std::to_string(b);
    if (!replaced.empty())
      std::fprintf(stderr, "kiln: input %s: batch dim %lld replaced by %s\n", input.name.c_str(),
                   static_cast<long long>(input.dims[0]), replaced.c_str());
  }
  if (!any) fail("--batch: no input of the model has a known first dimension to set");
}

std::string fixed(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", digits, value);
  return text;
}

int sweep_model(const SweepArgs& args) {
  // A list not given is the one value the tune file (unless --no-tune) or the default gives.
  Settings settings = resolve_settings(args.model, args.given);
  std::vector<std::string> thread_list = split_list(settings.threads.value, "--threads");
  std::vector<int> threads;
  for (const std::string& t : thread_list) {
    Shape parsed = parse_shape(t);
    if (parsed.size() != 1 || parsed[0] < 1 || parsed[0] > 4096) fail_usage("bad --threads value '", t, "'");
    threads.push_back(static_cast<int>(parsed[0]));
  }
  std::vector<std::string> levels = split_list(settings.opt_level.value, "--opt-level");
  for (const std::string& level : levels) parse_opt_level(level);
  std::vector<std::string> isas = split_list(settings.isa.value, "--isa");
  for (const std::string& isa : isas)
    if (!cpu_info().supports(parse_isa_name(isa)))
      fail("--isa ", isa, ": this CPU does not support it (best: ", isa_name(cpu_info().best_isa()), ")");
  std::vector<int64_t> batches;
  if (!args.batches.empty()) {
    for (const std::string& b : split_list(args.batches, "--batch")) {
      Shape parsed = parse_shape(b);
      if (parsed.size() != 1 || parsed[0] < 1) fail_usage("bad --batch value '", b, "'");
      batches.push_back(parsed[0]);
    }
    DescribeOptions declared_only;
    declared_only.infer_shapes = false;
    announce_batch(describe_model(args.model, declared_only).inputs, batches);
  }

  std::vector<int> instance_counts;
  if (!args.instances.empty())
    for (const std::string& n : split_list(args.instances, "--instances")) {
      Shape parsed = parse_shape(n);
      if (parsed.size() != 1 || parsed[0] < 1 || parsed[0] > 1024) fail_usage("bad --instances value '", n, "'");
      instance_counts.push_back(static_cast<int>(parsed[0]));
    }

  std::vector<SweepRow> rows;
  const std::vector<int64_t> batch_axis = batches.empty() ? std::vector<int64_t>{0} : batches;
  const std::vector<int> instance_axis = instance_counts.empty() ? std::vector<int>{0} : instance_counts;
  for (int t : threads)
    for (const std::string& level : levels)
      for (const std::string& isa : isas)
        for (int64_t b : batch_axis)
          for (int n : instance_axis) {
            SweepRow row{t, level, isa, b};
            row.batch_run = b > 0 ? b : 1;  // as the child will report it; plot_panels() reads it before the runs
            row.instances = std::max(n, 1);
            row.instances_flag = n;
            rows.push_back(row);
          }

  // A bad --plot or --csv is found before the sweep runs.
  PlotFormat plot_format = PlotFormat::kSvg;
  int plot_width = 0, plot_height = 0;
  std::vector<std::string> panels = plot_panels(rows);
  if (!args.plot_file.empty()) {
    plot_format = plot_format_for(args.plot_file);
    if (panels.empty())
      fail_usage("--plot: a sweep of one setting has nothing to draw; give --threads, --batch, --opt-level or --isa "
                 "more than one value");
    check_output_folder(args.plot_file, "--plot");
    plot_width = default_plot_width(panels.size());
    plot_height = default_plot_height();
    if (!args.plot_size.empty()) {
      Shape size;
      try {
        size = parse_shape(args.plot_size);
      } catch (const Error&) {
      }
      if (size.size() != 2 || size[0] < 240 || size[1] < 200 || size[0] > 20000 || size[1] > 20000)
        fail_usage("bad --plot-size '", args.plot_size, "': write WxH in pixels, e.g. 1040x420, each from 240x200 "
                   "up to 20000");
      plot_width = static_cast<int>(size[0]);
      plot_height = static_cast<int>(size[1]);
    }
  }
  if (!args.csv_file.empty()) check_output_folder(args.csv_file, "--csv");

  int threads_needed = 1;
  for (const SweepRow& row : rows) threads_needed = std::max(threads_needed, row.threads * row.instances);
  // The children's stderr is only shown when they fail, so their warning for
  // more threads than CPUs is said here, once.
  const unsigned cpus = std::thread::hardware_concurrency();
  if (cpus > 0 && threads_needed > static_cast<int>(cpus))
    std::fprintf(stderr, "kiln: warning: some rows run %d threads (threads x instances) on this machine's %u logical "
                 "CPUs; the extra threads can only wait their turn, so those rows are slower\n",
                 threads_needed, cpus);
  const std::optional<double> load = load_average();
  const std::string busy = warn_if_busy(threads_needed);
  {
    Progress progress("sweep", static_cast<long>(rows.size()));
    for (SweepRow& row : rows) {
      BenchRequest request;
      request.model = args.model;
      request.threads = row.threads;
      request.opt_level = row.opt_level;
      request.isa = row.isa;
      request.runs = args.runs;
      request.warmup = args.warmup;
      request.max_memory = args.given.max_memory.value_or("");
      request.shapes = args.shape_args.shapes;
      request.dims = args.shape_args.dims;
      request.batch = row.batch;
      request.instances = row.instances_flag;
      nlohmann::json result = run_bench_child(request);
      row.median_ms = result.at("median_ms").get<double>();
      row.p90_ms = result.at("p90_ms").get<double>();
      row.batch_run = result.at("batch").get<int64_t>();
      row.samples_per_second = result.at("samples_per_second").get<double>();
      row.inferences_per_second = result.at("inferences_per_second").get<double>();
      row.peak_rss_bytes = result.at("peak_rss_bytes").get<uint64_t>();
      progress.step();
    }
  }

  const double base = rows.front().samples_per_second;
  std::printf("Sweep of %s: %d timed runs after %d warm-up per row, each row in a fresh process.\n",
              args.model.c_str(), args.runs, args.warmup);
  std::printf("Settings: %s\n", describe_settings(settings).c_str());
  if (load) std::printf("Load average (1 minute) when the sweep started: %.2f%s\n", *load, busy.empty() ? "" : " (busy: see the warning)");
  std::printf("Threads are per instance; with --instances, that many sessions run at once and inferences/s and\n"
              "samples/s count them all (runs over the wall time), else they come from the median. Median and p90\n"
              "are the latency of one inference. Speed-up is samples/s relative to row 1.\n\n");
  std::printf("| # | threads | opt-level | isa | batch | instances | inferences/s | samples/s | median ms | p90 ms | "
              "peak RSS | speed-up |\n");
  std::printf("|--:|--:|--:|---|---|--:|--:|--:|--:|--:|--:|--:|\n");
  for (size_t i = 0; i < rows.size(); ++i) {
    const SweepRow& r = rows[i];
    std::printf("| %zu | %d | %s | %s | %lld | %d | %s | %s | %s | %s | %s | %sx |\n", i + 1, r.threads,
                r.opt_level.c_str(), r.isa.c_str(), static_cast<long long>(r.batch_run), r.instances,
                fixed(r.inferences_per_second, 2).c_str(), fixed(r.samples_per_second, 2).c_str(),
                fixed(r.median_ms, 3).c_str(), fixed(r.p90_ms, 3).c_str(), human_bytes(r.peak_rss_bytes).c_str(),
                fixed(base > 0 ? r.samples_per_second / base : 0, 2).c_str());
  }
  if (!args.csv_file.empty()) {
    std::ofstream csv(args.csv_file);
    csv << "threads,opt_level,isa,batch,instances,inferences_per_second,samples_per_second,median_ms,p90_ms,"
           "peak_rss_bytes,speedup\n";
    for (const SweepRow& r : rows)
      csv << r.threads << "," << r.opt_level << "," << r.isa << "," << r.batch_run << "," << r.instances << ","
          << fixed(r.inferences_per_second, 4) << "," << fixed(r.samples_per_second, 4) << ","
          << fixed(r.median_ms, 4) << "," << fixed(r.p90_ms, 4) << "," << r.peak_rss_bytes << ","
          << fixed(base > 0 ? r.samples_per_second / base : 0, 4) << "\n";
    if (!csv) fail("cannot write ", args.csv_file);
    std::printf("\ncsv      %s\n", args.csv_file.c_str());
  }
  if (!args.plot_file.empty()) {
    write_sweep_plot(args.plot_file, plot_format, rows, std::filesystem::path(args.model).filename().string(),
                     plot_width, plot_height);
    std::string drawn;
    for (const std::string& panel : panels) drawn += (drawn.empty() ? "" : ", ") + panel;
    std::printf("plot     %s (%s, %dx%d: %s)\n", args.plot_file.c_str(), plot_format == PlotFormat::kPng ? "PNG" : "SVG",
                plot_width, plot_height, drawn.c_str());
  }
  return 0;
}

}  // namespace

void add_sweep_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<SweepArgs>();
  CLI::App* command =
      app.add_subcommand("sweep", "Benchmark every combination of threads, opt-level, ISA, batch and instances");
  command->footer(
      "Each combination runs as 'kiln bench --json' in a fresh process (KILN_ISA set for the ISA), so\n"
      "rows do not share caches, thread pools or the ISA choice. A list not given is one value: from\n"
      "MODEL.kiln-tune.json (saved by 'kiln tune'; --no-tune skips it), else the default (KILN_ISA, when\n"
      "set, comes before the tune file's ISA).\n"
      "--batch replaces the first dimension of every input, also one the model fixes (stderr names\n"
      "each fixed one replaced); a graph that hard-codes its batch inside is an error naming the node\n"
      "or the output that keeps the old batch.\n"
      "--instances runs that many sessions at once in the child, each with the row's threads (the\n"
      "deployment table: threads x batch x instances -> inferences/s and the latency of one inference).\n"
      "--plot draws a panel per list with more than one value (throughput vs batch, latency vs threads,\n"
      "throughput vs instances), as PNG or SVG by the file's extension.\n"
      "The report gives the load average when the sweep started, with a warning on stderr when it is\n"
      "above max(0.5, logical CPUs - the most threads x instances of any row).\n\n"
      "Examples:\n"
      "  kiln sweep det.onnx --shape x=1x3x320x320 --threads 1,2 --opt-level none,all --isa sse41,avx2 \\\n"
      "      --csv sweep.csv --plot sweep.png\n"
      "  kiln sweep resnet.onnx --threads 1,2 --batch 1,4 --instances 1,2 --plot deploy.svg\n");
  command->add_option("model", args->model, "The ONNX model file")->required()->type_name("MODEL");
  add_shape_options(*command, args->shape_args);
  command->add_option("-t,--threads", args->threads, "Thread counts, e.g. 1,2 (default: from the tune file, else "
                      "the number of physical cores)")
      ->type_name("LIST");
  command->add_option("-O,--opt-level", args->opt_levels, "Optimization levels, e.g. none,all (default: from the tune "
                      "file, else all)")
      ->type_name("LIST");
  command->add_option("--isa", args->isas, "ISA levels, e.g. sse41,avx2 (default: KILN_ISA, else the tune file's, "
                      "else the best this CPU has)")
      ->type_name("LIST");
  command->add_option("-b,--batch", args->batches, "Batch sizes, e.g. 1,2,4: dim 0 of every input, fixed or not")
      ->type_name("LIST");
  command->add_option("--instances", args->instances,
                      "Sessions running at once, e.g. 1,2,4, each with the row's threads: total throughput as a "
                      "server with that many workers sees it")
      ->type_name("LIST");
  command->add_option("-r,--runs", args->runs, "Timed runs per combination (per instance)")
      ->type_name("K")
      ->check(CLI::Range(1, 1000000).description(""))
      ->capture_default_str();
  command->add_option("-w,--warmup", args->warmup, "Untimed runs per combination")
      ->type_name("W")
      ->check(CLI::Range(0, 1000000).description(""))
      ->capture_default_str();
  command->add_option("--csv", args->csv_file, "Write the table as CSV")->type_name("FILE");
  command->add_option("--plot", args->plot_file,
                      "Draw the results as PNG or SVG, by the file's extension: throughput vs batch, latency vs "
                      "threads, throughput vs instances, each only when that list has more than one value (else latency per "
                      "setting)")
      ->type_name("FILE.png|FILE.svg");
  command->add_option("--plot-size", args->plot_size, "The plot's size in pixels (default: 520 wide per panel x 420)")
      ->type_name("WxH");
  add_max_memory_option(*command);
  add_no_tune_flag(*command);
  command->callback([args, command, &action] {
    args->given = given_settings(*command);
    action = [args] { return sweep_model(*args); };
  });
}

}  // namespace kiln::cli
