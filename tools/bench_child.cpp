#include "tools/bench_child.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kiln/error.h"
#include "tools/cli_common.h"

namespace kiln::cli {
namespace {

std::string shell_quote(const std::string& arg) {
  std::string quoted = "'";
  for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string self_executable() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) fail("cannot find the kiln executable to run benchmarks in child processes: ", ec.message());
  return self.string();
}

std::string last_line(const std::string& text) {
  std::string trimmed = text;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r')) trimmed.pop_back();
  size_t newline = trimmed.find_last_of("\n\r");
  return newline == std::string::npos ? trimmed : trimmed.substr(newline + 1);
}

}  // namespace

std::vector<std::string> split_list(const std::string& text, const std::string& option) {
  std::vector<std::string> items;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (item.empty()) fail_usage("bad ", option, " '", text, "': empty item (write e.g. 1,2,4)");
    items.push_back(item);
  }
  if (items.empty() || text.back() == ',') fail_usage("bad ", option, " '", text, "': empty item (write e.g. 1,2,4)");
  return items;
}

nlohmann::json run_bench_child(const BenchRequest& request) {
  char err_template[] = "/tmp/kiln_bench_child_XXXXXX";
  int err_fd = ::mkstemp(err_template);
  if (err_fd < 0) fail("cannot create a temporary file for a child benchmark");
  ::close(err_fd);
  std::string err_file = err_template;

  // KILN_LOAD_CHECKED: the parent warned about a busy machine already (warn_if_busy).
  std::string command = request.isa.empty() ? "env -u KILN_ISA " : "env KILN_ISA=" + shell_quote(request.isa) + " ";
  command += "KILN_LOAD_CHECKED=1 ";
  command += shell_quote(self_executable()) + " bench " + shell_quote(request.model) + " --json --no-tune";
  command += " --threads " + std::to_string(request.threads) + " --opt-level " + shell_quote(request.opt_level);
  command += " --runs " + std::to_string(request.runs) + " --warmup " + std::to_string(request.warmup);
  if (request.batch > 0) command += " --batch " + std::to_string(request.batch);
  if (request.instances > 0) command += " --instances " + std::to_string(request.instances);
  if (!request.max_memory.empty()) command += " --max-memory " + shell_quote(request.max_memory);
  for (const std::string& s : request.shapes) command += " --shape " + shell_quote(s);
  for (const std::string& d : request.dims) command += " --dim " + shell_quote(d);
  command += " 2>" + shell_quote(err_file);

  std::fflush(stdout);
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) fail("cannot start a child benchmark: ", command);
  std::string output;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0;) output.append(buffer, n);
  int status = ::pclose(pipe);
  std::ifstream err_in(err_file);
  std::string err_text((std::istreambuf_iterator<char>(err_in)), {});
  std::remove(err_file.c_str());

  std::string setting = "threads " + std::to_string(request.threads) + ", opt-level " + request.opt_level +
                        (request.isa.empty() ? "" : ", isa " + request.isa) +
                        (request.batch > 0 ? ", batch " + std::to_string(request.batch) : "") +
                        (request.instances > 0 ? ", instances " + std::to_string(request.instances) : "");
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string reason = last_line(err_text);
    const std::string prefix = "kiln: error: ";
    if (reason.rfind(prefix, 0) == 0) reason = reason.substr(prefix.size());
    if (reason.empty()) reason = WIFSIGNALED(status) ? "killed by a signal" : "no error message";
    fail("benchmark with ", setting, " failed: ", reason);
  }
  try {
    return nlohmann::json::parse(output);
  } catch (const std::exception& e) {
    fail("benchmark with ", setting, " printed no valid JSON: ", e.what());
  }
}

}  // namespace kiln::cli
