// Replays the inputs kept in tests/fuzz_regressions/<target>/ (each one once
// crashed, hung or leaked in a libFuzzer target) through the same drivers the
// fuzz targets use (fuzz/fuzz_drivers.h). Each must end with the outcome its
// line in tests/fuzz_regressions/expected.txt gives:
//
//   <target>/<file><TAB>ok                      kiln accepts it
//   <target>/<file><TAB>error: <substring>      kiln rejects it with a kiln::Error
//                                               whose message contains <substring>
//
// A kept file without a line, a line without a file, or a line given twice
// fails. Run this under the asan preset to also catch memory errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "fuzz/fuzz_drivers.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = KILN_FUZZ_REGRESSIONS_DIR;
const fs::path kTable = kDir / "expected.txt";

using Driver = std::function<std::optional<std::string>(const std::string&)>;

const std::map<std::string, Driver>& drivers() {
  static const std::map<std::string, Driver> by_target = {
      {"model", fuzz::run_model_bytes},
      {"tensor_pb", fuzz::parse_tensor_pb_bytes},
      {"npy", fuzz::parse_npy_bytes},
  };
  return by_target;
}

// nullopt: the input must be accepted; else a substring of the expected error.
using Expected = std::optional<std::string>;

// The table, path (relative to tests/fuzz_regressions/) -> expected outcome.
// A malformed line is a test failure naming the line.
std::map<std::string, Expected> read_table() {
  std::map<std::string, Expected> table;
  std::ifstream in(kTable);
  EXPECT_TRUE(in) << "cannot read " << kTable.string();
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string where = kTable.string() + ":" + std::to_string(number) + ": ";
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) {
      ADD_FAILURE() << where << "expected '<target>/<file><TAB>ok' or '<target>/<file><TAB>error: <message>'";
      continue;
    }
    const std::string path = line.substr(0, tab), outcome = line.substr(tab + 1);
    Expected expected;
    if (outcome.rfind("error: ", 0) == 0) {
      expected = outcome.substr(7);
      // An empty substring would match every message.
      if (expected->find_first_not_of(' ') == std::string::npos) {
        ADD_FAILURE() << where << "an error line needs the message text after 'error: '";
        continue;
      }
    } else if (outcome != "ok") {
      ADD_FAILURE() << where << "the outcome must be 'ok' or 'error: <message>', not '" << outcome << "'";
      continue;
    }
    if (!table.emplace(path, expected).second) ADD_FAILURE() << where << path << " has a line already";
  }
  return table;
}

// Every kept input, as a path relative to tests/fuzz_regressions/.
std::set<std::string> kept_inputs() {
  std::set<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(kDir)) {
    if (!entry.is_regular_file()) continue;
    const fs::path relative = fs::relative(entry.path(), kDir);
    if (relative == "expected.txt" || entry.path().filename() == "README.md") continue;
    files.insert(relative.generic_string());
  }
  return files;
}

TEST(FuzzRegressions, EveryKeptInputHasOneTableLine) {
  const auto table = read_table();
  const auto files = kept_inputs();
  EXPECT_FALSE(files.empty()) << "no kept inputs under " << kDir.string();
  for (const std::string& file : files)
    EXPECT_TRUE(table.count(file)) << file << " has no line in " << kTable.string()
                                   << "; add '" << file << "<TAB>ok' or '" << file << "<TAB>error: <message>'";
  for (const auto& [path, expected] : table)
    EXPECT_TRUE(files.count(path)) << kTable.string() << " has a line for " << path << ", which is not a kept input";
}

TEST(FuzzRegressions, EachInputEndsWithItsExpectedOutcome) {
  const auto table = read_table();
  ASSERT_FALSE(table.empty()) << kTable.string() << " lists no inputs";
  for (const auto& [path, expected] : table) {
    SCOPED_TRACE(path);
    const std::string target = path.substr(0, path.find('/'));
    auto driver = drivers().find(target);
    if (driver == drivers().end()) {
      ADD_FAILURE() << path << ": '" << target << "' is not a fuzz target (model, tensor_pb, npy)";
      continue;
    }
    std::ifstream in(kDir / path, std::ios::binary);
    if (!in) continue;  // EveryKeptInputHasOneTableLine reports the missing file
    std::stringstream bytes;
    bytes << in.rdbuf();
    // A crash or a foreign exception fails the test run.
    const std::optional<std::string> error = driver->second(bytes.str());
    if (!expected) {
      EXPECT_FALSE(error) << path << ": expected ok, kiln rejected it: " << *error;
    } else if (!error) {
      ADD_FAILURE() << path << ": expected the error '" << *expected << "', kiln accepted it";
    } else {
      EXPECT_NE(error->find(*expected), std::string::npos)
          << path << ": expected an error containing '" << *expected << "', got: " << *error;
    }
  }
}

}  // namespace
}  // namespace kiln
