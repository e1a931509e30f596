// Runs `kiln bench --json` in a child process of this same binary, so each
// measurement gets a fresh process: its own session, its own KILN_ISA (the ISA
// is chosen once per process) and its own peak-memory count. Used by
// `kiln sweep` and `kiln tune`.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kiln::cli {

struct BenchRequest {
  std::string model;
  std::vector<std::string> shapes;  // --shape NAME=DIMS values
  std::vector<std::string> dims;    // --dim SYMBOL=N values
  int threads = 1;
  std::string opt_level = "all";
  std::string isa;                  // KILN_ISA for the child; "" leaves it to the CPU
  int runs = 5;
  int warmup = 1;
  int instances = 0;                // --instances N for the child; 0 leaves it out (one instance)
  int64_t batch = 0;                // --batch B for the child (dim 0 of every input); 0: as declared
  std::string max_memory;           // --max-memory SIZE for the child; "" for its default
};

// The child's JSON report. kiln::Error with the child's own error line when it fails.
nlohmann::json run_bench_child(const BenchRequest& request);

// "1,2,4" -> {"1", "2", "4"}; kiln::Error naming `option` on empty items.
std::vector<std::string> split_list(const std::string& text, const std::string& option);

}  // namespace kiln::cli
