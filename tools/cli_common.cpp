#include "tools/cli_common.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>

#include "kiln/tensor_io.h"

namespace kiln::cli {

void add_shape_options(CLI::App& command, ShapeArgs& args) {
  command
      .add_option("--shape", args.shapes,
                  "Shape of an input, e.g. --shape x=1x3x736x1280 ('scalar' for rank 0). Repeat for more inputs.")
      ->type_name("NAME=DIMS")
      ->allow_extra_args(false);
  command
      .add_option("--dim", args.dims, "Value of a named dynamic dimension, e.g. --dim batch=1. Repeatable.")
      ->type_name("SYMBOL=N")
      ->allow_extra_args(false);
}

void apply_shape_args(const ShapeArgs& args, SessionOptions& options) {
  for (const std::string& text : args.shapes) {
    auto [name, dims] = split_assignment(text, "--shape", /*split_at_last=*/true);
    Shape shape;
    try {
      shape = parse_shape(dims);
    } catch (const Error& e) {
      fail_usage("bad --shape '", text, "': ", e.what());
    }
    if (!options.input_shapes.emplace(name, shape).second) fail_usage("--shape given twice for input '", name, "'");
  }
  for (const std::string& text : args.dims) {
    auto [symbol, value] = split_assignment(text, "--dim", /*split_at_last=*/true);
    Shape parsed;
    try {
      parsed = parse_shape(value);
    } catch (const Error& e) {
      fail_usage("bad --dim '", text, "': ", e.what());
    }
    if (parsed.size() != 1) fail_usage("bad --dim '", text, "': expected SYMBOL=N with one non-negative integer");
    if (!options.dim_values.emplace(symbol, parsed[0]).second) fail("--dim given twice for '", symbol, "'");
  }
}

void add_opt_level_option(CLI::App& command, std::string& level) {
  command.add_option("-O,--opt-level", level, "Graph optimization level: none, basic, extended or all")
      ->type_name("LEVEL")
      ->check(CLI::IsMember({"none", "basic", "extended", "all"}).description(""))
      ->capture_default_str();
}

OptLevel parse_opt_level(const std::string& level) {
  if (level == "none") return OptLevel::kNone;
  if (level == "basic") return OptLevel::kBasic;
  if (level == "extended") return OptLevel::kExtended;
  if (level == "all") return OptLevel::kAll;
  fail("unknown optimization level '", level, "' (none, basic, extended or all)");
}

std::string describe_optimization(const OptimizeReport& report) {
  std::ostringstream out;
  out << report.nodes_before << " -> " << report.nodes_after << " nodes";
  std::string fired;
  for (const auto& pass : report.passes)
    if (pass.rewrites) fired += (fired.empty() ? "" : ", ") + pass.pass + " " + std::to_string(pass.rewrites);
  if (!fired.empty()) out << " (" << fired << ")";
  if (!report.converged) out << "; stopped at the round limit";
  return out.str();
}

Shape parse_shape(const std::string& text) {
  if (text == "scalar") return {};
  if (text.empty()) fail("empty shape (write e.g. 1x3x224x224, or 'scalar')");
  Shape shape;
  size_t pos = 0;
  while (true) {
    size_t end = text.find_first_of("x,", pos);
    std::string part = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (part.empty() || !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
      fail("'", part, "' in '", text, "' is not a non-negative integer (write e.g. 1x3x224x224)");
    int64_t value = 0;
    for (char c : part) {
      if (value > (std::numeric_limits<int64_t>::max() - (c - '0')) / 10) fail("dimension '", part, "' is too large");
      value = value * 10 + (c - '0');
    }
    shape.push_back(value);
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  element_count(shape);  // rejects shapes whose size overflows
  return shape;
}

uint64_t parse_byte_size(const std::string& text) {
  auto bad = [&](const char* why) {
    fail_usage("bad size '", text, "': ", why, " (write bytes, or a number with K, M, G or T, e.g. 512M or 1G)");
  };
  size_t end = 0;
  while (end < text.size() && ((text[end] >= '0' && text[end] <= '9') || text[end] == '.')) ++end;
  const std::string number = text.substr(0, end);
  if (number.empty() || number.front() == '.' || number.back() == '.' ||
      std::count(number.begin(), number.end(), '.') > 1)
    bad("expected a number");
  std::string suffix = text.substr(end);
  for (char& c : suffix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double scale = 1;
  if (!suffix.empty()) {
    const std::string units = "KMGT";
    const size_t unit = units.find(suffix[0]);
    const std::string rest = suffix.substr(1);
    if (unit == std::string::npos || !(rest.empty() || rest == "B" || rest == "IB")) {
      if (suffix != "B") bad("unknown unit");
    } else {
      scale = std::ldexp(1.0, 10 * static_cast<int>(unit + 1));
    }
  }
  if (number.find('.') == std::string::npos && scale == 1) {
    uint64_t value = 0;
    for (char c : number)
      if (__builtin_mul_overflow(value, uint64_t{10}, &value) || __builtin_add_overflow(value, uint64_t(c - '0'), &value))
        bad("too large");
    if (value == 0) bad("the budget must be at least 1 byte");
    return value;
  }
  const double bytes = std::floor(std::strtod(number.c_str(), nullptr) * scale);
  if (!(bytes < 18446744073709551616.0)) bad("too large");
  if (bytes < 1) bad("the budget must be at least 1 byte");
  return static_cast<uint64_t>(bytes);
}

std::pair<std::string, std::string> split_assignment(const std::string& text, const std::string& option,
                                                     bool split_at_last) {
  size_t eq = split_at_last ? text.rfind('=') : text.find('=');
  if (eq == std::string::npos || eq == 0)
    fail_usage("bad ", option, " '", text, "': expected NAME=VALUE");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

std::string sanitize_file_name(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                c == '_' || c == '-';
    if (!keep) c = '_';
  }
  return out;
}

bool has_static_shape(const TensorInfo& input) {
  return input.has_shape && std::all_of(input.dims.begin(), input.dims.end(), [](int64_t d) { return d >= 0; });
}

Tensor random_input(const TensorInfo& input) {
  if (!has_static_shape(input)) {
    fail("input '", input.name, "' has dynamic shape ", input.shape_string(), "; pass --shape ", input.name, "=DIMS",
         input.has_shape ? " (or --dim for its named dimensions)" : "", " or give it with --input ", input.name,
         "=FILE");
  }
  if (!is_supported_dtype(input.dtype))
    fail("input '", input.name, "' has type ", dtype_name(input.dtype),
         ", which kiln cannot fill with random data; give it with --input ", input.name, "=FILE");
  return random_tensor(input.dtype, Shape(input.dims.begin(), input.dims.end()), seed_from_name(input.name));
}

void reserve_input(Session& session, const TensorInfo& input) {
  if (!has_static_shape(input) || !is_supported_dtype(input.dtype)) return;  // random_input names the problem
  uint64_t bytes = element_size(input.dtype);
  for (int64_t d : input.dims)
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes)) bytes = UINT64_MAX;
  session.reserve_memory(bytes, "input '" + input.name + "' (" + dtype_name(input.dtype) + " " +
                                    input.shape_string() + ")");
}

Tensor load_input_file(Session& session, const std::string& name, const std::string& path) {
  std::error_code ec;
  const uint64_t on_disk = std::filesystem::file_size(path, ec);
  const uint64_t budget = session.memory_budget_bytes(), used = session.memory_in_use_bytes();
  if (!ec && (on_disk > budget || used > budget - on_disk))
    fail("input '", name, "' from ", path, " needs about ", human_bytes(on_disk), " (", on_disk,
         " bytes, its size on disk), over the session's memory budget of ", human_bytes(budget), " (", budget,
         " bytes; ", human_bytes(used), " already in use; --max-memory)");
  Tensor tensor = load_tensor_file(path);
  session.reserve_memory(tensor.nbytes(), "input '" + name + "' from " + path + " (" + dtype_name(tensor.dtype()) +
                                              " " + shape_to_string(tensor.shape()) + ")");
  return tensor;
}

void print_memory_warning(const Session& session) {
  const std::string& warning = session.memory_summary().warning;
  if (warning.empty()) return;
  std::fflush(stdout);
  std::fprintf(stderr, "kiln: warning: %s\n", in_cli_terms(warning).c_str());
}

std::string in_cli_terms(std::string message) {
  const std::string library = "SessionOptions::max_memory_bytes";
  for (size_t at; (at = message.find(library)) != std::string::npos;) message.replace(at, library.size(), "--max-memory");
  return message;
}

namespace {
std::string format_value(double v) {
  if (std::isnan(v)) return "nan";
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.6g", v);
  return buffer;
}
}  // namespace

std::string summarize(const Tensor& tensor, int first_values) {
  if (tensor.size() == 0) return "empty";
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0;
  int64_t nans = 0;
  for (int64_t i = 0; i < tensor.size(); ++i) {
    double v = tensor.value_as_double(i);
    if (std::isnan(v)) {
      ++nans;
      continue;
    }
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
  }
  std::ostringstream out;
  if (nans == tensor.size()) {
    out << "all NaN";
  } else {
    out << "min " << format_value(lo) << "  max " << format_value(hi) << "  mean "
        << format_value(sum / static_cast<double>(tensor.size() - nans));
    if (nans) out << "  NaN " << with_commas(nans);
  }
  out << "  [";
  int64_t shown = std::min<int64_t>(first_values, tensor.size());
  for (int64_t i = 0; i < shown; ++i) out << (i ? ", " : "") << format_value(tensor.value_as_double(i));
  if (shown < tensor.size()) out << ", ...";
  out << "]";
  return out.str();
}

std::string with_commas(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -static_cast<uint64_t>(value) : static_cast<uint64_t>(value));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return value < 0 ? "-" + out : out;
}

std::string with_si_suffix(double value) {
  const char* suffixes[] = {"", " K", " M", " G", " T", " P"};
  int i = 0;
  while (std::abs(value) >= 1000 && i < 5) {
    value /= 1000;
    ++i;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), i ? "%.2f%s" : "%.0f%s", value, suffixes[i]);
  return buffer;
}

std::string describe_memory_plan(const MemorySummary& memory) {
  std::string text;
  if (!memory.note.empty()) {
    text = memory.note;
  } else if (memory.planned_values == 0) {
    text = "no intermediate value has a size known before the run";
  } else {
    char line[256];
    char concat[64] = "";
    if (memory.concat_slice_values)
      std::snprintf(concat, sizeof(concat), ", %zu written into their Concat", memory.concat_slice_values);
    std::snprintf(line, sizeof(line), "arena %s for %zu values (%zu in place%s), largest live set %s",
                  human_bytes(memory.arena_bytes).c_str(), memory.planned_values, memory.in_place_values, concat,
                  human_bytes(memory.peak_live_bytes).c_str());
    text = line;
    if (memory.peak_live_bytes) {
      std::snprintf(line, sizeof(line), " (arena %.2fx of it)",
                    static_cast<double>(memory.arena_bytes) / static_cast<double>(memory.peak_live_bytes));
      text += line;
    }
    text += "; " + human_bytes(memory.unplanned_bytes) + " without reuse";
  }
  if (memory.dynamic_values)
    text += "; " + std::to_string(memory.dynamic_values) + " value" + (memory.dynamic_values == 1 ? "" : "s") +
            " sized at run time";
  return text;
}

std::string human_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int i = 0;
  while (value >= 1024 && i < 4) {
    value /= 1024;
    ++i;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), i ? "%.1f %s" : "%.0f %s", value, units[i]);
  return buffer;
}

std::string one_line(const std::string& message) {
  std::string out;
  for (size_t i = 0; i < message.size(); ++i) {
    char c = message[i];
    if (c == '\n') {
      while (!out.empty() && out.back() == ' ') out.pop_back();
      if (i + 1 < message.size() && !out.empty()) out += "; ";
      while (i + 1 < message.size() && (message[i + 1] == ' ' || message[i + 1] == '\n')) ++i;
    } else if (c == '\t' || c == '\r') {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace kiln::cli
