// `kiln info`: this machine as kiln sees it — CPU, detected and selected
// instruction sets, caches, and the kernels the dispatch table chose.
#include <CLI/CLI.hpp>

#include <iostream>

#include "runtime/cpu_info.h"
#include "tools/cli_common.h"

namespace kiln::cli {

void add_info_command(CLI::App& app, Action& action) {
  CLI::App* command = app.add_subcommand(
      "info", "Print the CPU, the instruction set kiln detected and will use (KILN_ISA=sse41|avx2|avx512 forces a "
              "lower one), cache sizes and the chosen kernels.");
  command->callback([&action] {
    action = [] {
      std::cout << describe_platform();
      return 0;
    };
  });
}

}  // namespace kiln::cli
