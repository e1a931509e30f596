// Every malformed or hostile model of tests/bad_models/ (written at build
// time by make_bad_models.py) must fail with the kiln::Error text that
// tests/bad_models/expected_errors.txt gives for it, when the session is
// opened or, for rows marked "run", when it runs on zero-filled inputs. Rows
// marked "shapes" are hostile but valid models: running them on zero-filled
// inputs must give exactly the output shapes listed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "kiln/session.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string file, stage, fragment;
  int line = 0;
};

std::string trim(const std::string& s) {
  size_t begin = s.find_first_not_of(" \t"), end = s.find_last_not_of(" \t\r");
  return begin == std::string::npos ? std::string() : s.substr(begin, end - begin + 1);
}

std::vector<Case> read_table() {
  std::ifstream in(KILN_BAD_MODELS_TABLE);
  EXPECT_TRUE(in) << "cannot read " << KILN_BAD_MODELS_TABLE;
  std::vector<Case> cases;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (trim(line).empty() || trim(line)[0] == '#') continue;
    size_t a = line.find('|'), b = line.find('|', a == std::string::npos ? a : a + 1);
    EXPECT_NE(b, std::string::npos) << "line " << number << " is not 'file | stage | fragment': " << line;
    if (b == std::string::npos) continue;
    cases.push_back({trim(line.substr(0, a)), trim(line.substr(a + 1, b - a - 1)), trim(line.substr(b + 1)), number});
  }
  return cases;
}

// The error opening (and, for "run" and "shapes", running) the model gives;
// "(no error)" if none, or for "shapes" the outputs as "a=1x5, b=0x2".
std::string error_of(const Case& c) {
  SessionOptions options;
  options.threads = 1;
  options.max_memory_bytes = uint64_t{1} << 30;
  try {
    Session session = Session::open((fs::path(KILN_BAD_MODELS_DIR) / c.file).string(), options);
    if (c.stage == "open") return "(no error)";
    NamedTensors inputs;
    for (const TensorInfo& info : session.inputs()) {
      Shape shape;
      for (int64_t d : info.dims) shape.push_back(d < 0 ? 1 : d);
      inputs.emplace(info.name, Tensor::zeros(info.dtype, shape));
    }
    NamedTensors outputs = session.run(inputs);
    if (c.stage == "shapes") {
      std::string shapes;
      for (const TensorInfo& info : session.outputs())
        shapes += (shapes.empty() ? "" : ", ") + info.name + "=" + shape_to_string(outputs.at(info.name).shape());
      return shapes;
    }
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(BadModels, EachFailsWithItsMessage) {
  std::vector<Case> cases = read_table();
  ASSERT_GT(cases.size(), 40u);
  for (const Case& c : cases) {
    ASSERT_TRUE(c.stage == "open" || c.stage == "run" || c.stage == "shapes")
        << "line " << c.line << ": stage must be open, run or shapes";
    std::string message = error_of(c);
    if (c.stage == "shapes") {
      EXPECT_EQ(message, c.fragment) << c.file << " (line " << c.line << ")";
      continue;
    }
    EXPECT_NE(message.find(c.fragment), std::string::npos)
        << c.file << " (line " << c.line << "): expected an error containing\n  " << c.fragment << "\ngot\n  "
        << message;
  }
}

TEST(BadModels, TableCoversEveryGeneratedModel) {
  std::set<std::string> listed;
  for (const Case& c : read_table()) EXPECT_TRUE(listed.insert(c.file).second) << c.file << " is listed twice";
  std::set<std::string> generated;
  for (const auto& entry : fs::directory_iterator(KILN_BAD_MODELS_DIR))
    if (entry.path().extension() == ".onnx") generated.insert(entry.path().filename().string());
  EXPECT_EQ(listed, generated);
}

}  // namespace
}  // namespace kiln
