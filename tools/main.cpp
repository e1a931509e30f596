// The `kiln` command: parses the command line, runs the chosen subcommand and
// turns every failure into one line on stderr.
//
// Exit codes: 0 success, 1 a kiln error (bad model, bad input, unsupported op),
// 2 a usage error (unknown option, missing argument, an option value that
// makes no sense: cli::UsageError).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "kiln/error.h"
#include "tools/cli_common.h"

namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

void print_error(const std::string& message) {
  std::fflush(stdout);
  std::cerr << "kiln: error: " << kiln::cli::in_cli_terms(kiln::cli::one_line(message)) << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kiln: run and inspect ONNX models on the CPU.", "kiln"};
  app.set_version_flag("--version", std::string("kiln ") + KILN_VERSION);
  app.require_subcommand(1, 1);
  app.footer(
      "Run 'kiln COMMAND --help' for the options of a command.\n"
      "Exit status: 0 success, 1 error (bad model, bad input, unsupported op), 2 bad command line.\n");
  kiln::cli::Action action;
  kiln::cli::add_run_command(app, action);
  kiln::cli::add_inspect_command(app, action);
  kiln::cli::add_info_command(app, action);
  kiln::cli::add_profile_command(app, action);
  kiln::cli::add_bench_command(app, action);
  kiln::cli::add_sweep_command(app, action);
  kiln::cli::add_tune_command(app, action);
  kiln::cli::add_optimize_command(app, action);

  // CLI11 would call an unknown command a missing one; name it instead.
  bool known_command = false;
  for (const CLI::App* command : app.get_subcommands({})) known_command |= argc > 1 && command->get_name() == argv[1];
  if (argc > 1 && argv[1][0] != '-' && !known_command) {
    print_error(std::string("unknown command '") + argv[1] + "' (commands: run, inspect, info, profile, bench, sweep, tune, optimize; see 'kiln --help')");
    return kExitUsage;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::vector<CLI::App*> chosen = app.get_subcommands();
    std::string help = chosen.empty() ? "kiln --help" : "kiln " + chosen.back()->get_name() + " --help";
    print_error(std::string(e.what()) + " (see '" + help + "')");
    return kExitUsage;
  }

  try {
    return action();
  } catch (const kiln::cli::UsageError& e) {
    print_error(e.what());
    return kExitUsage;
  } catch (const kiln::Error& e) {
    print_error(e.what());
  } catch (const std::bad_alloc&) {
    print_error("out of memory");
  } catch (const std::exception& e) {
    print_error(e.what());
  }
  return kExitError;
}
