// `kiln info`: this machine as kiln sees it — CPU, detected and selected
// instruction sets, caches, the kernels the dispatch table chose, and the
// measured per-core peak of each level up to the selected one.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "kernels/describe_platform.h"
#include "kernels/f32_peak.h"
#include "kiln/error.h"
#include "platform/cpu_info.h"
#include "tools/cli_common.h"

namespace kiln::cli {
namespace {

// "f32 peak: ..." with the measured per-core peak of each level up to the
// selected one (none when KILN_ISA is invalid: describe_platform says why).
std::string describe_measured_peaks() {
  Isa selected;
  try {
    selected = selected_isa();
  } catch (const Error&) {
    return "";
  }
  std::string line = "f32 peak:     measured now, one thread, GFLOP/s per core:";
  for (Isa isa : {Isa::sse2, Isa::avx2, Isa::avx512}) {
    if (static_cast<int>(isa) > static_cast<int>(selected)) break;
    char figure[64];
    std::snprintf(figure, sizeof(figure), " %s %.1f", kernels::f32_peak_name(isa),
                  kernels::f32_peak_gflops_per_core(isa));
    line += figure;
  }
  return line + " (2 FLOP per multiply-add lane; SSE as mul + add)\n";
}

}  // namespace

void add_info_command(CLI::App& app, Action& action) {
  CLI::App* command = app.add_subcommand(
      "info", "Print the CPU, the instruction set kiln detected and will use (KILN_ISA=sse41|avx2|avx512 forces a "
              "lower one), cache sizes (KILN_CACHES=L1D,L2,L3 in KiB replaces them), the chosen kernels and each level's "
              "per-core peak, measured now.");
  command->callback([&action] {
    action = [] {
      std::cout << describe_platform();
      std::cout << describe_measured_peaks();
      return 0;
    };
  });
}

}  // namespace kiln::cli
