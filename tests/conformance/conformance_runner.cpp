// Runs the ONNX backend node tests (Debian's libonnx-testdata) through kiln.
//
//   kiln_conformance [--data DIR] [--expected-failures FILE] [--filter SUBSTRING]
//                    [--opt-levels LEVEL,...] [--min-passed N] [--verbose]
//
// A test is skipped only when kiln does not claim its model: loading it at the
// first optimization level throws kiln::UnsupportedError. Any other error, and
// an UnsupportedError anywhere else (at run time, or at a later level after the
// first one loaded, e.g. an op the optimizer introduced), is a failure.
// Each test folder needs at least one test_data_set_*, and each data set one
// input_<i>.pb per model input and one output_<i>.pb per model output. Every
// data set must match the stored outputs: |got - want| <= atol + rtol * |want|
// (NaN matches NaN), exact for integer and bool outputs. Tolerances: rtol 1e-3,
// atol 1e-7, or the per-test values in the expected-failures file's
// "tolerance" lines.
// Expected failures are listed one per line with a reason; one that passes or
// is skipped, and a list line naming no test folder, fail so the list stays
// honest.
//
// --opt-levels (default "all") runs every test once per graph optimization
// level, each checked against the stored outputs on its own: a test passes
// only when it passes at every level, so `--opt-levels none,all` shows that
// the optimizer changes no result beyond the tolerance. A test whose levels
// disagree (passes at one, fails at another) is a failure even when it is
// listed as an expected one.
//
// Exit status: 0 when nothing failed; 1 when a test failed, when no test ran
// (no test folder matched, or every one was skipped), or when fewer than
// --min-passed tests passed; 2 for a bad command line, list file or data folder.
// The last line printed is "conformance: N passed, N failed, N skipped, ...".
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "graph/onnx_loader.h"
#include "graph/onnx_tensor.h"
#include "graph/shape_inference.h"
#include "kiln/session.h"
#include "runtime/op_registry.h"

namespace fs = std::filesystem;

namespace {

struct Tolerance {
  double rtol = 1e-3;
  double atol = 1e-7;
};

struct ListFile {
  std::map<std::string, std::string> expected_failures;  // test -> reason
  std::map<std::string, Tolerance> tolerances;           // test -> looser tolerance
};

// Lines: "fail <test> <reason...>" or "tolerance <test> <rtol> <atol> <reason...>"; '#' comments.
ListFile read_list_file(const std::string& path) {
  ListFile list;
  if (path.empty()) return list;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string kind, test;
    if (!(words >> kind)) continue;
    if (!(words >> test)) throw std::runtime_error(path + ":" + std::to_string(number) + ": missing test name");
    if (kind == "fail") {
      std::string reason;
      std::getline(words, reason);
      if (reason.find_first_not_of(' ') == std::string::npos)
        throw std::runtime_error(path + ":" + std::to_string(number) + ": an expected failure needs a reason");
      list.expected_failures[test] = reason.substr(reason.find_first_not_of(' '));
    } else if (kind == "tolerance") {
      Tolerance t;
      std::string reason;
      if (!(words >> t.rtol >> t.atol) || !std::getline(words, reason) || reason.find_first_not_of(' ') == std::string::npos)
        throw std::runtime_error(path + ":" + std::to_string(number) + ": expected 'tolerance TEST RTOL ATOL REASON'");
      list.tolerances[test] = t;
    } else {
      throw std::runtime_error(path + ":" + std::to_string(number) + ": unknown line kind '" + kind + "'");
    }
  }
  return list;
}

bool is_float(kiln::DataType t) {
  return t == kiln::DataType::kFloat32 || t == kiln::DataType::kFloat64 || t == kiln::DataType::kFloat16 ||
         t == kiln::DataType::kBFloat16;
}

// Empty string when equal within tolerance, else a description of the mismatch.
std::string compare(const std::string& name, const kiln::Tensor& got, const kiln::Tensor& want, Tolerance tol) {
  std::ostringstream out;
  if (got.dtype() != want.dtype()) {
    out << name << ": type " << kiln::dtype_name(got.dtype()) << ", expected " << kiln::dtype_name(want.dtype());
    return out.str();
  }
  if (got.shape() != want.shape()) {
    out << name << ": shape " << kiln::shape_to_string(got.shape()) << ", expected " << kiln::shape_to_string(want.shape());
    return out.str();
  }
  int64_t bad = 0, first_bad = -1;
  double worst = 0;
  for (int64_t i = 0; i < got.size(); ++i) {
    double g = got.value_as_double(i), w = want.value_as_double(i);
    bool ok;
    if (is_float(want.dtype())) {
      if (std::isnan(w) || std::isnan(g)) ok = std::isnan(w) && std::isnan(g);
      else if (std::isinf(w) || std::isinf(g)) ok = g == w;
      else ok = std::fabs(g - w) <= tol.atol + tol.rtol * std::fabs(w);
    } else {
      ok = got.value_as_int64(i) == want.value_as_int64(i);
    }
    if (!ok) {
      if (first_bad < 0) first_bad = i;
      ++bad;
      if (std::isfinite(g - w)) worst = std::max(worst, std::fabs(g - w));
    }
  }
  if (bad == 0) return "";
  out << name << ": " << bad << " of " << got.size() << " elements differ (first at " << first_bad << ": got "
      << got.value_as_double(first_bad) << ", expected " << want.value_as_double(first_bad) << "; max abs diff " << worst
      << ")";
  return out.str();
}

std::vector<fs::path> sorted_files(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0) files.push_back(e.path());
  // input_0.pb, input_1.pb, ..., input_10.pb: sort by the number.
  std::sort(files.begin(), files.end(), [&](const fs::path& a, const fs::path& b) {
    auto num = [&](const fs::path& p) { return std::stoi(p.stem().string().substr(prefix.size())); };
    return num(a) < num(b);
  });
  return files;
}

// kUnsupported: loading the model threw kiln::UnsupportedError; the caller
// decides whether that is a skip (first level) or a failure (a later level).
enum class Outcome { kPass, kFail, kSkip, kUnsupported };

// The test_data_set_* folders of a test, sorted.
std::vector<fs::path> data_sets(const fs::path& dir) {
  std::vector<fs::path> sets;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(e.path());
  std::sort(sets.begin(), sets.end());
  return sets;
}

Outcome run_test(const fs::path& dir, Tolerance tol, kiln::OptLevel level, std::string& detail) {
  kiln::SessionOptions options;
  options.threads = 1;
  options.opt_level = level;
  std::unique_ptr<kiln::Session> session;
  try {
    session = std::make_unique<kiln::Session>(kiln::Session::open((dir / "model.onnx").string(), options));
  } catch (const kiln::UnsupportedError& e) {
    detail = e.what();
    return Outcome::kUnsupported;
  } catch (const std::exception& e) {
    detail = std::string("load: ") + e.what();
    return Outcome::kFail;
  }
  // Static shape inference must agree with what the kernels produce.
  kiln::graph::ValueInfoMap inferred;
  try {
    kiln::graph::Graph g = kiln::graph::load_onnx_file((dir / "model.onnx").string());
    inferred = kiln::graph::infer_shapes(g, kiln::OpRegistry::global());
  } catch (const std::exception& e) {
    detail = std::string("shape inference: ") + e.what();
    return Outcome::kFail;
  }
  const std::vector<fs::path> sets = data_sets(dir);
  if (sets.empty()) {
    detail = "no test_data_set_* folder: nothing to compare with";
    return Outcome::kFail;
  }
  for (const fs::path& set : sets) {
    try {
      auto input_files = sorted_files(set, "input_");
      auto output_files = sorted_files(set, "output_");
      const auto& inputs = session->inputs();
      const auto& outputs = session->outputs();
      if (input_files.size() != inputs.size()) {
        detail = set.filename().string() + ": " + std::to_string(input_files.size()) + " input files for " +
                 std::to_string(inputs.size()) + " model inputs";
        return Outcome::kFail;
      }
      if (output_files.size() != outputs.size()) {
        detail = set.filename().string() + ": " + std::to_string(output_files.size()) + " output files for " +
                 std::to_string(outputs.size()) + " model outputs";
        return Outcome::kFail;
      }
      kiln::NamedTensors feeds;
      for (size_t i = 0; i < inputs.size(); ++i) feeds[inputs[i].name] = kiln::graph::load_tensor_pb(input_files[i].string());
      kiln::NamedTensors results = session->run(feeds);
      for (size_t i = 0; i < outputs.size(); ++i) {
        kiln::Tensor want = kiln::graph::load_tensor_pb(output_files[i].string());
        auto inferred_it = inferred.find(outputs[i].name);
        if (inferred_it != inferred.end()) {
          auto static_shape = inferred_it->second.static_shape();
          if (static_shape && *static_shape != want.shape()) {
            detail = "shape inference says " + outputs[i].name + " is " + kiln::shape_to_string(*static_shape) +
                     ", the expected output is " + kiln::shape_to_string(want.shape());
            return Outcome::kFail;
          }
        }
        auto result = results.find(outputs[i].name);
        if (result == results.end()) {
          detail = set.filename().string() + ": the run returned no output " + outputs[i].name;
          return Outcome::kFail;
        }
        std::string diff = compare(outputs[i].name, result->second, want, tol);
        if (!diff.empty()) {
          detail = set.filename().string() + ": " + diff;
          return Outcome::kFail;
        }
      }
    } catch (const std::exception& e) {
      // An UnsupportedError here too: the model loaded, so kiln claimed it.
      detail = set.filename().string() + ": " + e.what();
      return Outcome::kFail;
    }
  }
  return Outcome::kPass;
}

std::optional<kiln::OptLevel> parse_level(const std::string& name) {
  if (name == "none") return kiln::OptLevel::kNone;
  if (name == "basic") return kiln::OptLevel::kBasic;
  if (name == "extended") return kiln::OptLevel::kExtended;
  if (name == "all") return kiln::OptLevel::kAll;
  return std::nullopt;
}

constexpr const char* kLevelsDisagree = "levels disagree: ";

// run_test at every level. The test is skipped when the first level reports
// the model unsupported; otherwise it fails when any level fails (including an
// unsupported model at a later level), and the detail names the levels.
Outcome run_at_levels(const fs::path& dir, Tolerance tol,
                      const std::vector<std::pair<std::string, kiln::OptLevel>>& levels, std::string& detail) {
  std::vector<std::string> passed_at, failed_at;
  std::string first_failure;
  for (size_t i = 0; i < levels.size(); ++i) {
    const auto& [name, level] = levels[i];
    std::string level_detail;
    Outcome outcome = run_test(dir, tol, level, level_detail);
    if (outcome == Outcome::kUnsupported && i == 0) {
      detail = level_detail;
      return Outcome::kSkip;
    }
    if (outcome == Outcome::kUnsupported)
      level_detail = "unsupported at level " + name + " after level " + levels[0].first + " loaded: " + level_detail;
    if (outcome == Outcome::kPass) {
      passed_at.push_back(name);
    } else {
      failed_at.push_back(name);
      if (first_failure.empty()) first_failure = level_detail;
    }
  }
  if (failed_at.empty()) return Outcome::kPass;
  auto join = [](const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
    return out;
  };
  if (levels.size() == 1) {
    detail = first_failure;
  } else if (passed_at.empty()) {
    detail = "at levels " + join(failed_at) + ": " + first_failure;
  } else {
    detail = std::string(kLevelsDisagree) + "passes at " + join(passed_at) + ", fails at " + join(failed_at) + ": " +
             first_failure;
  }
  return Outcome::kFail;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data = "/usr/share/libonnx-testdata/data/node";
  std::string list_path, filter;
  std::vector<std::pair<std::string, kiln::OptLevel>> levels = {{"all", kiln::OptLevel::kAll}};
  bool verbose = false;
  int min_passed = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) { std::cerr << a << " needs a value\n"; std::exit(2); }
      return argv[++i];
    };
    if (a == "--data") data = value();
    else if (a == "--expected-failures") list_path = value();
    else if (a == "--filter") filter = value();
    else if (a == "--opt-levels") {
      levels.clear();
      std::istringstream names(value());
      for (std::string name; std::getline(names, name, ',');) {
        auto level = parse_level(name);
        if (!level) { std::cerr << "unknown optimization level '" << name << "' (none, basic, extended, all)\n"; return 2; }
        levels.emplace_back(name, *level);
      }
      if (levels.empty()) { std::cerr << "--opt-levels needs at least one level\n"; return 2; }
    }
    else if (a == "--min-passed") {
      std::string n = value();
      if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos || n.size() > 9) {
        std::cerr << "--min-passed needs a count, got '" << n << "'\n";
        return 2;
      }
      min_passed = std::stoi(n);
    }
    else if (a == "--verbose" || a == "-v") verbose = true;
    else if (a == "--help" || a == "-h") {
      std::cout << "usage: kiln_conformance [--data DIR] [--expected-failures FILE] [--filter SUBSTRING]\n"
                   "                        [--opt-levels LEVEL,...] [--min-passed N] [--verbose]\n"
                   "Fails (exit 1) when a test fails, when no test ran, or when fewer than N passed.\n";
      return 0;
    } else { std::cerr << "unknown argument " << a << "\n"; return 2; }
  }
  ListFile list;
  try {
    list = read_list_file(list_path);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  if (!fs::is_directory(data)) {
    std::cerr << "error: conformance data folder " << data << " does not exist (apt-get install libonnx-testdata)\n";
    return 2;
  }
  std::vector<fs::path> tests;
  for (const auto& e : fs::directory_iterator(data))
    if (e.is_directory() && e.path().filename().string().find(filter) != std::string::npos) tests.push_back(e.path());
  std::sort(tests.begin(), tests.end());

  int passed = 0, failed = 0, skipped = 0, expected = 0;
  std::vector<std::string> failures, unexpected_passes;
  std::map<std::string, int> skip_reasons;
  for (const fs::path& dir : tests) {
    std::string name = dir.filename().string(), detail;
    Tolerance tol;
    if (auto it = list.tolerances.find(name); it != list.tolerances.end()) tol = it->second;
    Outcome outcome = run_at_levels(dir, tol, levels, detail);
    bool expected_failure = list.expected_failures.count(name) != 0;
    if (outcome == Outcome::kFail && expected_failure && detail.rfind(kLevelsDisagree, 0) == 0) {
      ++failed;
      failures.push_back(name + ": " + detail);
      std::cout << "FAIL " << name << ": " << detail << " (listed as an expected failure, but only at some levels)\n";
    } else if (outcome == Outcome::kSkip && expected_failure) {
      ++failed;
      std::cout << "FAIL " << name << ": listed as an expected failure but skipped (" << detail
                << "); remove it from the list\n";
    } else if (outcome == Outcome::kSkip) {
      ++skipped;
      std::string reason = detail.substr(0, detail.find(" in '"));
      ++skip_reasons[reason.size() > 120 ? reason.substr(0, 120) : reason];
      if (verbose) std::cout << "SKIP " << name << ": " << detail << "\n";
    } else if (outcome == Outcome::kPass) {
      if (expected_failure) {
        ++failed;
        unexpected_passes.push_back(name);
        std::cout << "FAIL " << name << ": listed as an expected failure but passes; remove it from the list\n";
      } else {
        ++passed;
        if (verbose) std::cout << "PASS " << name << "\n";
      }
    } else if (expected_failure) {
      ++expected;
      if (verbose) std::cout << "XFAIL " << name << ": " << list.expected_failures[name] << "\n";
    } else {
      ++failed;
      failures.push_back(name + ": " + detail);
      std::cout << "FAIL " << name << ": " << detail << "\n";
    }
  }
  // A list line whose test folder is gone would silently stop meaning anything.
  std::map<std::string, bool> listed;
  for (const auto& [name, reason] : list.expected_failures) listed[name] = true;
  for (const auto& [name, tol] : list.tolerances) listed[name] = true;
  for (const auto& [name, unused] : listed) {
    if (name.find(filter) == std::string::npos || fs::is_directory(fs::path(data) / name)) continue;
    ++failed;
    std::cout << "FAIL " << name << ": listed in " << list_path << " but there is no such test folder in " << data
              << "\n";
  }
  if (verbose) {
    std::cout << "\nskip reasons:\n";
    for (const auto& [reason, n] : skip_reasons) std::cout << "  " << n << "  " << reason << "\n";
  }
  std::string level_names;
  for (const auto& [level_name, level] : levels) level_names += (level_names.empty() ? "" : ",") + level_name;
  std::cout << "\nconformance: " << tests.size() << " tests in " << data << " at optimization level(s) " << level_names
            << "; " << expected
            << " expected failures (listed with reasons in the expected-failures file)\n";
  bool ok = failed == 0;
  if (tests.empty()) {
    std::cout << "error: no test folder in " << data
              << (filter.empty() ? std::string() : " matches --filter '" + filter + "'") << ": nothing was tested\n";
    ok = false;
  } else if (passed + failed + expected == 0) {
    std::cout << "error: every test was skipped (kiln does not claim their models): nothing was tested\n";
    ok = false;
  }
  if (passed < min_passed) {
    std::cout << "error: " << passed << " tests passed, fewer than --min-passed " << min_passed << "\n";
    ok = false;
  } else if (min_passed > 0 && passed > min_passed) {
    std::cout << "note: " << passed << " tests passed; raise --min-passed from " << min_passed << " to " << passed
              << "\n";
  }
  std::cout << "conformance: " << passed << " passed, " << failed << " failed, " << skipped << " skipped, " << expected
            << " expected failures\n";
  return ok ? 0 : 1;
}
