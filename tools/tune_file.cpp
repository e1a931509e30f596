#include "tools/tune_file.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kiln/error.h"
#include "platform/cpu_info.h"
#include "tools/cli_common.h"

namespace kiln::cli {

std::string tune_file_path(const std::string& model_path) { return model_path + ".kiln-tune.json"; }

std::optional<TuneChoice> load_tune_choice(const std::string& model_path) {
  std::string path = tune_file_path(model_path);
  std::ifstream in(path);
  if (!in) return std::nullopt;
  TuneChoice choice;
  try {
    nlohmann::json json = nlohmann::json::parse(in);
    for (const auto& [name, dims] : json.at("shape").items()) choice.shapes[name] = dims.get<Shape>();
    choice.threads = json.at("threads").get<int>();
    choice.opt_level = json.at("opt_level").get<std::string>();
    choice.isa = json.at("isa").get<std::string>();
    choice.median_ms = json.value("median_ms", 0.0);
    choice.default_median_ms = json.value("default_median_ms", 0.0);
    choice.date = json.value("date", "");
    choice.load_average = json.value("load_average_1min", -1.0);
    choice.busy_note = json.value("busy_note", "");
  } catch (const std::exception& e) {
    fail("cannot read the tune file ", path, ": ", e.what(), " (delete it or run 'kiln tune' again)");
  }
  if (choice.threads < 1) fail("tune file ", path, ": threads must be at least 1");
  parse_opt_level(choice.opt_level);
  if (!choice.isa.empty()) {
    try {
      parse_isa_name(choice.isa);
    } catch (const Error&) {
      fail("tune file ", path, ": unknown isa '", choice.isa, "' (delete it or run 'kiln tune' again)");
    }
  }
  return choice;
}

void save_tune_choice(const std::string& model_path, const TuneChoice& choice) {
  nlohmann::json json;
  json["kiln_tune_version"] = 1;
  json["model"] = model_path;
  json["shape"] = nlohmann::json::object();
  for (const auto& [name, dims] : choice.shapes) json["shape"][name] = dims;
  json["threads"] = choice.threads;
  json["opt_level"] = choice.opt_level;
  json["isa"] = choice.isa;
  json["median_ms"] = choice.median_ms;
  json["default_median_ms"] = choice.default_median_ms;
  json["date"] = choice.date;
  json["load_average_1min"] = choice.load_average;
  json["busy_note"] = choice.busy_note;
  std::string path = tune_file_path(model_path);
  std::ofstream out(path);
  out << json.dump(2) << "\n";
  if (!out) fail("cannot write the tune file ", path);
}

}  // namespace kiln::cli
