// `kiln tune MODEL [--shape ...] [--budget SECONDS]`: measures thread counts x
// optimization levels x ISA levels (each in a fresh `kiln bench --json` child
// process), the defaults first, until the time budget is spent; saves the
// fastest as MODEL.kiln-tune.json (tools/tune_file.h), which `kiln run`,
// `bench`, `profile` and `sweep` then use (tools/settings.h).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "platform/cpu_info.h"
#include "tools/bench_child.h"
#include "tools/bench_common.h"
#include "tools/settings.h"
#include "tools/cli_common.h"
#include "tools/progress.h"
#include "tools/tune_file.h"

namespace kiln::cli {
namespace {

struct TuneArgs {
  std::string model;
  ShapeArgs shape_args;
  double budget_seconds = 60;
  std::string max_memory;  // --max-memory as typed, passed to every child; "" when not given
};

struct Candidate {
  int threads;
  std::string opt_level;
  std::string isa;
  double median_ms = -1;  // < 0: not measured (budget spent)
};

// Defaults first (all cores, opt-level all, best ISA), then the rest: the more
// likely winners (higher ISA, higher level, more threads) before the others.
std::vector<Candidate> candidates() {
  std::vector<int> thread_counts;
  for (int t = physical_core_count(); t >= 1; t = t > 2 ? t / 2 : t - 1) thread_counts.push_back(t);
  std::vector<std::string> isas;
  for (int level = static_cast<int>(cpu_info().best_isa()); level >= static_cast<int>(Isa::sse2); --level)
    isas.push_back(isa_name(static_cast<Isa>(level)));
  const std::vector<std::string> levels = {"all", "basic", "none"};
  std::vector<Candidate> list;
  for (const std::string& isa : isas)
    for (const std::string& level : levels)
      for (int t : thread_counts) list.push_back({t, level, isa});
  return list;  // list[0] is the default setting
}

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

int tune_model(const TuneArgs& args) {
  SessionOptions parsed;  // validates --shape/--dim before any child runs
  apply_shape_args(args.shape_args, parsed);
  std::vector<Candidate> list = candidates();
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };

  // The defaults use the most threads of any candidate.
  const std::optional<double> load = load_average();
  const std::string busy = warn_if_busy(list[0].threads);

  BenchRequest request;
  request.model = args.model;
  request.shapes = args.shape_args.shapes;
  request.dims = args.shape_args.dims;
  request.max_memory = args.max_memory;
  // A short probe of the defaults sets how many runs each candidate gets.
  request.threads = list[0].threads;
  request.opt_level = list[0].opt_level;
  request.isa = list[0].isa;
  request.runs = 3;
  request.warmup = 1;
  double probe_ms = run_bench_child(request).at("median_ms").get<double>();
  double per_candidate_seconds = args.budget_seconds / static_cast<double>(list.size());
  int runs = static_cast<int>(std::clamp(std::floor(per_candidate_seconds * 1000 / std::max(probe_ms, 1e-3)) - 1, 3.0, 20.0));
  request.runs = runs;

  size_t measured = 0;
  {
    Progress progress("tune", static_cast<long>(list.size()));
    for (Candidate& c : list) {
      double spent = elapsed();
      double per_measurement = measured ? spent / static_cast<double>(measured + 1) : 0;
      if (measured > 0 && spent + per_measurement > args.budget_seconds) break;
      request.threads = c.threads;
      request.opt_level = c.opt_level;
      request.isa = c.isa;
      c.median_ms = run_bench_child(request).at("median_ms").get<double>();
      ++measured;
      progress.step();
    }
  }

  const Candidate& defaults = list[0];
  const Candidate* best = &list[0];
  for (const Candidate& c : list)
    if (c.median_ms >= 0 && c.median_ms < best->median_ms) best = &c;

  std::printf("Tuned %s: %zu of %zu settings measured in %.1f s (budget %.0f s), %d timed runs each.\n\n",
              args.model.c_str(), measured, list.size(), elapsed(), args.budget_seconds, runs);
  std::printf("| threads | opt-level | isa | median ms | vs defaults |\n|--:|---|---|--:|--:|\n");
  for (const Candidate& c : list) {
    if (c.median_ms < 0) continue;
    std::printf("| %d | %s | %s | %.3f | %.2fx |%s\n", c.threads, c.opt_level.c_str(), c.isa.c_str(), c.median_ms,
                defaults.median_ms / c.median_ms, &c == best ? " <- best" : (&c == &defaults ? " (defaults)" : ""));
  }
  if (measured < list.size())
    std::printf("\n%zu settings not measured: the budget ran out (raise --budget).\n", list.size() - measured);

  TuneChoice choice;
  choice.shapes = parsed.input_shapes;
  choice.threads = best->threads;
  choice.opt_level = best->opt_level;
  choice.isa = best->isa;
  choice.median_ms = best->median_ms;
  choice.default_median_ms = defaults.median_ms;
  choice.date = utc_now();
  choice.load_average = load.value_or(-1);
  choice.busy_note = busy;
  save_tune_choice(args.model, choice);
  std::printf("\nchoice   threads %d, opt-level %s, isa %s: median %.3f ms vs %.3f ms with defaults (%.2fx)\n",
              choice.threads, choice.opt_level.c_str(), choice.isa.c_str(), choice.median_ms,
              choice.default_median_ms, choice.default_median_ms / choice.median_ms);
  if (!busy.empty())
    std::printf("note     tuned on a busy machine (1-minute load average %.2f on %u logical CPUs when it started): the "
                "choice may not be the fastest on an idle machine; run 'kiln tune' again when it is idle\n",
                *load, std::thread::hardware_concurrency());
  std::printf("saved    %s (used by 'kiln run', 'bench', 'profile' and 'sweep'; --no-tune or deleting it "
              "goes back to defaults)\n",
              tune_file_path(args.model).c_str());
  return 0;
}

}  // namespace

void add_tune_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<TuneArgs>();
  CLI::App* command = app.add_subcommand("tune", "Find the fastest threads/opt-level/ISA for a model and save it");
  command->footer(
      "Measures thread counts x optimization levels x ISA levels, the defaults first, each in a fresh\n"
      "'kiln bench --json' process, until --budget seconds are spent. The fastest is saved next to the model\n"
      "as MODEL.kiln-tune.json, which 'kiln run' (also with --image/--images), 'bench', 'profile' and 'sweep'\n"
      "then use for each setting whose flag is not given (--no-tune skips the file).\n"
      "Tune on an idle machine: when the load average is high as it starts, it warns, says so with its\n"
      "choice and records the load in the file.\n\n"
      "Example:\n"
      "  kiln tune det.onnx --shape x=1x3x320x320 --budget 120\n");
  command->add_option("model", args->model, "The ONNX model file")->required()->type_name("MODEL");
  add_shape_options(*command, args->shape_args);
  command->add_option("--budget", args->budget_seconds, "Time to spend measuring, in seconds")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.0, 86400.0).description(""))
      ->capture_default_str();
  add_max_memory_option(*command);
  command->callback([args, command, &action] {
    args->max_memory = given_settings(*command).max_memory.value_or("");
    action = [args] { return tune_model(*args); };
  });
}

}  // namespace kiln::cli
