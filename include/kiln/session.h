// kiln::Session: load an ONNX model once, run it many times.
//
//   kiln::SessionOptions options;
//   options.threads = 2;
//   options.input_shapes["x"] = {1, 3, 736, 1280};
//   kiln::Session session = kiln::Session::open("det.onnx", options);
//   auto outputs = session.run({{"x", input}});
//
// Every failure (missing file, malformed model, unsupported ops, wrong input
// shape) throws kiln::Error with a message meant for a person.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kiln/tensor.h"

namespace kiln {

// What the executor reports after each node when SessionOptions::node_observer is set.
struct NodeRunInfo {
  const std::string& node_name;
  const std::string& op_type;
  const std::vector<const Tensor*>& inputs;   // nullptr for omitted optional inputs
  const std::vector<Tensor>& outputs;
  double seconds;                             // wall time of the node's kernel
};

enum class OptLevel { kNone, kBasic, kExtended, kAll };

struct SessionOptions {
  // Intra-op threads; 0 = the number of physical cores.
  int threads = 0;
  // Graph optimization level (the optimizer comes in a later milestone; today
  // every level runs the graph as loaded).
  OptLevel opt_level = OptLevel::kAll;
  // Fixed shapes for whole inputs, by input name.
  std::map<std::string, Shape> input_shapes;
  // Values for named symbolic dims ("batch" -> 1).
  std::map<std::string, int64_t> dim_values;
  // Called after every node of every run (for profiling and shape reports).
  std::function<void(const NodeRunInfo&)> node_observer;
};

// One model input or output as declared: dims < 0 are dynamic, with their
// symbol in dim_names when the model names them.
struct TensorInfo {
  std::string name;
  DataType dtype = DataType::kUndefined;
  bool has_shape = false;
  std::vector<int64_t> dims;
  std::vector<std::string> dim_names;
  std::string shape_string() const;  // "1x3xHxW", "?" when rank unknown
};

using NamedTensors = std::map<std::string, Tensor>;

class Session {
 public:
  static Session open(const std::string& model_path, const SessionOptions& options = {});
  static Session from_bytes(const std::string& model_bytes, const SessionOptions& options = {},
                            const std::string& base_dir = ".");
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  ~Session();

  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  int threads() const;

  // Runs the model. Every declared input must be given; outputs come back by name.
  NamedTensors run(const NamedTensors& inputs);

  struct Impl;

 private:
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Number of physical cores of this machine (the default thread count).
int physical_core_count();

}  // namespace kiln
