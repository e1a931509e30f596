// The settings a command builds its sessions with (threads, opt-level, ISA,
// and the memory budget, which only its flag sets),
// decided in one place, in one order: a flag given on the command line, then
// the model's tune file (MODEL.kiln-tune.json, written by `kiln tune`; skipped
// with --no-tune), then kiln's default. The ISA has one more source between
// the flag and the tune file: the KILN_ISA environment variable, which sets
// the sessions' default. `kiln run` (also with --image/--images), `bench`, `profile`
// and `sweep` all resolve their settings here and print describe_settings().
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kiln/session.h"

namespace CLI {
class App;
}

namespace kiln::cli {

// One setting's value, as a user would write it ("2", "all", "avx2"; `sweep`'s
// lists such as "1,2"), and where it came from: the flag ("--threads"), the
// tune file's path, "KILN_ISA", or "default".
struct Setting {
  std::string value;
  std::string source;
};

// What the command line gave explicitly. A flag counts as given when it was
// typed, even with the default's value; an option left out is nullopt.
struct GivenSettings {
  std::optional<std::string> threads;    // --threads
  std::optional<std::string> opt_level;  // --opt-level
  std::optional<std::string> isa;        // --isa (only `sweep` has it)
  std::optional<std::string> max_memory; // --max-memory
  bool use_tune_file = true;             // false with --no-tune
};

// Registers -t/--threads N, -O/--opt-level LEVEL and --no-tune, with help that
// names the tune file; for `run`, `bench` and `profile`. No variable is bound:
// given_settings() reads what was typed.
void add_setting_options(CLI::App& command);
// Registers --max-memory SIZE (SessionOptions::max_memory_bytes; SIZE as
// parse_byte_size() reads it, checked while parsing). add_setting_options()
// includes it; `sweep`, `tune` and `inspect` add it alone. Not a tuned setting:
// it comes from the flag or is the default (the available memory).
void add_max_memory_option(CLI::App& command);
// Registers --no-tune alone (`sweep`, whose --threads/--opt-level/--isa take lists).
void add_no_tune_flag(CLI::App& command);

// Reads --threads, --opt-level, --isa and --no-tune, those `command` has,
// through CLI11's count() after parsing.
GivenSettings given_settings(const CLI::App& command);

struct Settings {
  Setting threads, opt_level, isa;
  Setting max_memory;  // as typed ("1G") from --max-memory, or "available" (default)
  std::string tune_file;  // the tune file that was read; "" when absent or --no-tune

  int thread_count() const;  // threads.value as a number (commands that take one value)
  OptLevel level() const;    // opt_level.value parsed
  uint64_t max_memory_bytes() const;  // SessionOptions::max_memory_bytes: the size parsed, 0 for the default
};

// Decides every setting for the model at `model_path`. kiln::Error when its
// tune file exists but cannot be read, or names an ISA this CPU lacks, or
// KILN_ISA is invalid. Commands pass isa.value on as SessionOptions::isa.
Settings resolve_settings(const std::string& model_path, const GivenSettings& given);

// "threads 2 (from --threads), opt-level all (default), isa avx2 (from det.onnx.kiln-tune.json),
// max-memory 1G (from --max-memory)".
std::string describe_settings(const Settings& settings);

}  // namespace kiln::cli
