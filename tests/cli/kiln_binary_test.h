// A GoogleTest fixture for tests that run the built `kiln` binary (its path is
// the KILN_BINARY compile definition): a scratch folder per test, a way to save
// models into it, and the command's exit code, stdout and stderr.
#pragma once

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace kiln::testing {

struct KilnResult {
  int exit_code = -1;  // -1: killed by a signal (a crash)
  std::string out, err;
};

inline std::string shell_quote(const std::string& arg) {
  std::string quoted = "'";
  for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// The whole file as bytes ("" when it cannot be read).
inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class KilnBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           (std::string("kiln_") + info->test_suite_name() + "_" + std::to_string(::getpid()) + "_" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::string save_model(const std::string& name, const onnx::ModelProto& model) const {
    std::string p = path(name);
    std::ofstream out(p, std::ios::binary);
    model.SerializeToOstream(&out);
    return p;
  }

  // Runs `env kiln args...` (env: "NAME=value ..." assignments, or "").
  KilnResult kiln(const std::vector<std::string>& args, const std::string& env = "") const {
    std::string command = env + " " + shell_quote(KILN_BINARY);
    for (const std::string& arg : args) command.append(" ").append(shell_quote(arg));
    command.append(" >").append(shell_quote(path("stdout.txt")));
    command.append(" 2>").append(shell_quote(path("stderr.txt")));
    int status = std::system(command.c_str());
    KilnResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = read_text(path("stdout.txt"));
    result.err = read_text(path("stderr.txt"));
    return result;
  }

  // Exit code `code`, and stderr is exactly one "kiln: error: ..." line containing `needle`.
  void expect_one_line_error(const std::vector<std::string>& args, int code, const std::string& needle) const {
    // An empty needle would match any message.
    ASSERT_FALSE(needle.empty()) << "expect_one_line_error needs a part of the expected message";
    std::string shown;
    for (const auto& a : args) shown += " " + a;
    KilnResult r = kiln(args);
    EXPECT_EQ(r.exit_code, code) << "kiln" << shown << "\nstderr: " << r.err;
    std::vector<std::string> lines = lines_of(r.err);
    ASSERT_EQ(lines.size(), 1u) << "kiln" << shown << "\nstderr: " << r.err;
    EXPECT_EQ(lines[0].rfind("kiln: error: ", 0), 0u) << lines[0];
    EXPECT_NE(lines[0].find(needle), std::string::npos) << "kiln" << shown << ": expected '" << needle
                                                          << "' in: " << lines[0];
  }

  std::filesystem::path dir_;
};

}  // namespace kiln::testing
