// Replays the inputs kept in tests/fuzz_regressions/<target>/ (each one once
// crashed, hung or leaked in a libFuzzer target) through the same drivers the
// fuzz targets use (fuzz/fuzz_drivers.h). Each must now end normally: worked,
// or rejected with kiln::Error. Run this under the asan preset to also catch
// memory errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "fuzz/fuzz_drivers.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

template <class Driver>
size_t replay(const std::string& target, Driver driver) {
  size_t count = 0;
  const fs::path dir = fs::path(KILN_FUZZ_REGRESSIONS_DIR) / target;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().filename() == "README.md") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    SCOPED_TRACE(entry.path().string());
    driver(bytes.str());  // a crash or a foreign exception fails the test run
    ++count;
  }
  return count;
}

TEST(FuzzRegressions, ModelInputsEndCleanly) {
  EXPECT_GT(replay("model", fuzz::run_model_bytes), 0u);
}

TEST(FuzzRegressions, TensorPbInputsEndCleanly) {
  EXPECT_GT(replay("tensor_pb", fuzz::parse_tensor_pb_bytes), 0u);
}

TEST(FuzzRegressions, NpyInputsEndCleanly) {
  EXPECT_GT(replay("npy", fuzz::parse_npy_bytes), 0u);
}

}  // namespace
}  // namespace kiln
