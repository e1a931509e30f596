// What a model is, without building a session: what the file declares
// (inputs, outputs, opsets, producer, nodes, parameters), which of its ops kiln
// cannot run, and the shapes and multiply-accumulates static shape inference
// finds. For tools that report on a model (`kiln inspect`, `kiln optimize`).
//
//   kiln::DescribeOptions options;
//   options.input_shapes["x"] = {1, 3, 736, 1280};
//   kiln::ModelDescription d = kiln::describe_model("det.onnx", options);
//   for (const kiln::NodeDescription* node : d.unsupported_nodes()) ...
//
// kiln::Model is the parsed file itself: a caller that needs both a
// description and sessions (of one or more input sizes) reads and parses the
// file once, then describes it and opens sessions from it.
//
// A missing, truncated or malformed file throws kiln::Error, as Session::open does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kiln/session.h"
#include "kiln/tensor.h"

namespace kiln {

struct DescribeOptions {
  // Input shapes to fix before shape inference, as in SessionOptions:
  // kiln::Error (naming the input and the model's inputs) for an unknown input
  // or symbol, a negative size, or a shape that contradicts the model.
  std::map<std::string, Shape> input_shapes;
  std::map<std::string, int64_t> dim_values;
  // Run static shape inference. Without it the description holds what the
  // file declares: no node has shapes or MACs (and there is no folded_macs).
  bool infer_shapes = true;
  // Also count the MACs on a copy of the graph with constants and Shape chains
  // folded (ModelDescription::folded_macs). Folding runs kernels, so this is
  // slower, but it sees through Constant nodes and shape computations that
  // static inference alone cannot.
  bool count_folded_macs = false;
};

// One node as the model declares it, with the shapes static inference found.
struct NodeDescription {
  std::string name;
  std::string op_type;
  std::string domain;     // "" = ai.onnx
  int64_t opset = 0;      // the version of `domain` the model imports
  bool supported = true;  // kiln has a kernel for op_type at that opset
  // In node order. An omitted optional value has an empty name; a value whose
  // shape inference could not tell has has_shape false (shape_string() "?").
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  // Multiply-accumulates of a counted op (counts_macs) whose needed shapes are
  // all known; nullopt otherwise.
  std::optional<int64_t> macs;
  // "Conv" for ai.onnx ops, "com.kiln.FusedConv" for other domains.
  std::string qualified_op_type() const;
};

struct ModelDescription {
  int64_t ir_version = 0;
  std::string producer_name;     // "" when the model does not record it
  std::string producer_version;
  std::map<std::string, int64_t> opsets;  // domain ("" = ai.onnx) -> imported version
  // The model's metadata_props (key -> value), e.g. kiln.range, kiln.mean and
  // kiln.std: how `kiln run --image` feeds it (kiln optimize --set-preprocess).
  std::map<std::string, std::string> metadata;
  std::vector<TensorInfo> inputs;         // as declared (initializers excluded)
  // The inputs with DescribeOptions' shapes applied: the shapes inference
  // started from (the same as `inputs` when no shapes were given).
  std::vector<TensorInfo> fixed_inputs;
  std::vector<TensorInfo> outputs;
  // Parameters: the elements and bytes of every initializer and of every
  // Constant node's tensor (exporters such as paddle2onnx keep weights in
  // Constant nodes).
  int64_t parameters = 0;
  uint64_t parameter_bytes = 0;
  size_t initializers = 0;
  size_t constant_nodes = 0;
  std::vector<NodeDescription> nodes;  // in the model's (topological) order
  // Why static shape inference refused the graph (it names the node); empty
  // when it ran. When it failed, no node has inferred shapes or MACs.
  std::string shape_inference_error;
  // With DescribeOptions::count_folded_macs: the MACs of every counted node
  // after folding; nullopt when one of them has an unknown shape, folding
  // removed one (all its inputs were constant) or inference of the folded
  // graph failed.
  std::optional<int64_t> folded_macs;
  // With count_folded_macs: why folding or inference of the folded graph
  // refused it (shapes computed at run time that do not fit, such as an
  // upsampled feature map one pixel off its skip connection); empty otherwise.
  std::string folded_shape_inference_error;

  // Every node kiln has no kernel for, in model order; the pointers are into
  // `nodes`.
  std::vector<const NodeDescription*> unsupported_nodes() const;
};

// A parsed model file. Copies share the parsed graph; sessions opened from it
// (Session::open(const Model&, ...)) share its weights.
class Model {
 public:
  // kiln::Error for a missing, truncated or malformed file.
  static Model open(const std::string& path);
  // `base_dir` is where external data files are looked up.
  static Model from_bytes(const std::string& model_bytes, const std::string& base_dir = ".");

  // Fixes the input shapes (on a copy; the model is unchanged) and runs static
  // shape inference. kiln::Error only for bad DescribeOptions shapes: a graph
  // inference refuses is reported in shape_inference_error.
  ModelDescription describe(const DescribeOptions& options = {}) const;

  // The parsed graph, defined inside the runtime only.
  struct Impl;
  explicit Model(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  const Impl& impl() const { return *impl_; }

 private:
  std::shared_ptr<const Impl> impl_;
};

// Model::open(path).describe(options).
ModelDescription describe_model(const std::string& path, const DescribeOptions& options = {});

// True for the ops whose MACs kiln counts: Conv, FusedConv, ConvTranspose, Gemm, MatMul.
bool counts_macs(const std::string& op_type);

// Multiply-accumulates of one node from its input and output shapes alone
// (nullopt entries are unknown); nullopt when the op is not counted or a
// needed shape is unknown.
//   Conv, FusedConv: output elements x (C/group x kernel), W = [M, C/group, k...]
//   ConvTranspose:   input elements x (M/group x kernel),  W = [C, M/group, k...]
//   Gemm, MatMul:    output elements x K
std::optional<int64_t> count_macs(const std::string& op_type, const std::vector<std::optional<Shape>>& inputs,
                                  const std::vector<std::optional<Shape>>& outputs);

}  // namespace kiln
