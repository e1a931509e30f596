#include "tools/settings.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "kiln/error.h"
#include "platform/cpu_info.h"
#include "tools/cli_common.h"
#include "tools/tune_file.h"

namespace kiln::cli {
namespace {

// The option's text when the command line gave it; CLI11 keeps the default in
// the bound variable, so only count() tells "given" from "left out".
std::optional<std::string> given_text(const CLI::App& command, const std::string& name) {
  const CLI::Option* option = command.get_option_no_throw(name);
  if (option == nullptr || option->count() == 0) return std::nullopt;
  return option->as<std::string>();
}

// The first source that has a value: the flag, the tune file, the default.
Setting pick(const std::optional<std::string>& flag, const std::string& flag_name,
             const std::optional<std::string>& tuned, const std::string& tune_file, const std::string& fallback) {
  if (flag) return {*flag, flag_name};
  if (tuned) return {*tuned, tune_file};
  return {fallback, "default"};
}

}  // namespace

void add_setting_options(CLI::App& command) {
  command
      .add_option("-t,--threads", "Intra-op threads (default: from MODEL.kiln-tune.json, else the number of physical "
                                  "cores)")
      ->type_name("N")
      ->check(CLI::Range(1, 4096).description(""));
  command
      .add_option("-O,--opt-level",
                  "Graph optimization level: none, basic, extended or all (default: from the tune file, else all)")
      ->type_name("LEVEL")
      ->check(CLI::IsMember({"none", "basic", "extended", "all"}).description(""));
  add_max_memory_option(command);
  add_no_tune_flag(command);
}

void add_max_memory_option(CLI::App& command) {
  command
      .add_option("--max-memory",
                  "Memory budget for the model's tensors, its inputs included, e.g. 512M or 1G (K, M, G, T: powers "
                  "of 1024). Checked before anything is allocated; going over it is an error. Default: the memory "
                  "available when the session is created")
      ->type_name("SIZE")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            try {
              parse_byte_size(text);
            } catch (const Error& e) {
              return e.what();
            }
            return {};
          },
          "", "SIZE"));
}

void add_no_tune_flag(CLI::App& command) {
  command.add_flag("--no-tune")->description(
      "Ignore MODEL.kiln-tune.json (written by 'kiln tune'): each setting from its flag, else the default");
}

GivenSettings given_settings(const CLI::App& command) {
  GivenSettings given;
  given.threads = given_text(command, "--threads");
  given.opt_level = given_text(command, "--opt-level");
  given.isa = given_text(command, "--isa");
  given.max_memory = given_text(command, "--max-memory");
  const CLI::Option* no_tune = command.get_option_no_throw("--no-tune");
  given.use_tune_file = no_tune == nullptr || no_tune->count() == 0;
  return given;
}

int Settings::thread_count() const { return std::stoi(threads.value); }

OptLevel Settings::level() const { return parse_opt_level(opt_level.value); }

uint64_t Settings::max_memory_bytes() const {
  return max_memory.source == "default" ? 0 : parse_byte_size(max_memory.value);
}

Settings resolve_settings(const std::string& model_path, const GivenSettings& given) {
  // `sweep`'s --isa list, checked name by name: a typo there is a bad command
  // line naming the flag (exit 2), not an error of the KILN_ISA the children get.
  if (given.isa) {
    for (size_t begin = 0;;) {
      const size_t comma = given.isa->find(',', begin);
      try {
        parse_isa_name(given.isa->substr(begin, comma == std::string::npos ? comma : comma - begin), "--isa");
      } catch (const Error& e) {
        throw UsageError(e.what());
      }
      if (comma == std::string::npos) break;
      begin = comma + 1;
    }
  }
  std::optional<TuneChoice> tuned = given.use_tune_file ? load_tune_choice(model_path) : std::nullopt;
  Settings settings;
  if (tuned) settings.tune_file = tune_file_path(model_path);
  auto from_file = [&](auto member) -> std::optional<std::string> {
    if (!tuned) return std::nullopt;
    return member(*tuned);
  };

  settings.threads = pick(given.threads, "--threads",
                          from_file([](const TuneChoice& c) { return std::to_string(c.threads); }),
                          settings.tune_file, std::to_string(physical_core_count()));
  settings.opt_level = pick(given.opt_level, "--opt-level",
                            from_file([](const TuneChoice& c) { return c.opt_level; }), settings.tune_file, "all");

  settings.max_memory = given.max_memory ? Setting{*given.max_memory, "--max-memory"} : Setting{"available", "default"};

  // More threads than CPUs only makes them wait for each other (the pool's
  // workers spin, then sleep): say so before the run, not after it.
  const unsigned cpus = std::thread::hardware_concurrency();
  if (cpus > 0 && settings.thread_count() > static_cast<int>(cpus))
    std::fprintf(stderr, "kiln: warning: threads %s (from %s) is more than this machine's %u logical CPUs; the extra "
                 "threads can only slow the run down\n",
                 settings.threads.value.c_str(), settings.threads.source.c_str(), cpus);

  const char* env_isa = std::getenv("KILN_ISA");
  if (given.isa) {
    settings.isa = {*given.isa, "--isa"};
  } else if (env_isa != nullptr && *env_isa != '\0') {
    settings.isa = {env_isa, "KILN_ISA"};
    selected_isa();  // an unknown or unsupported KILN_ISA fails here, before any work
  } else if (tuned && !tuned->isa.empty()) {
    settings.isa = {tuned->isa, settings.tune_file};
    if (!cpu_info().supports(parse_isa_name(tuned->isa)))
      fail("the tune file ", settings.tune_file, " chose isa ", tuned->isa, ", which this CPU lacks (best: ",
           isa_name(cpu_info().best_isa()), "); run 'kiln tune' again or pass --no-tune");
  } else {
    settings.isa = {isa_name(cpu_info().best_isa()), "default"};
  }
  return settings;
}

std::string describe_settings(const Settings& settings) {
  auto one = [](const char* name, const Setting& setting) {
    std::string source = setting.source == "default" ? "default" : "from " + setting.source;
    return std::string(name) + " " + setting.value + " (" + source + ")";
  };
  return one("threads", settings.threads) + ", " + one("opt-level", settings.opt_level) + ", " +
         one("isa", settings.isa) + ", " + one("max-memory", settings.max_memory);
}

}  // namespace kiln::cli
