// kiln's own graph IR. Nothing outside graph/onnx_* sees protobuf types.
//
// A Graph holds nodes in topological order; values are named by strings (the
// ONNX names). An empty input name means an omitted optional input.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "kiln/tensor.h"

namespace kiln::graph {

struct Attribute {
  enum class Kind { kFloat, kInt, kString, kTensor, kGraph, kFloats, kInts, kStrings, kTensors, kGraphs };
  Kind kind = Kind::kInt;
  float f = 0;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<Tensor> tensors;
};

// One dimension of a declared shape: a fixed size, or a symbol ("batch"), or unknown.
struct Dim {
  int64_t value = -1;   // >= 0 when fixed
  std::string symbol;   // non-empty when symbolic
  bool is_fixed() const { return value >= 0; }
};

struct ValueInfo {
  std::string name;
  DataType dtype = DataType::kUndefined;
  bool has_shape = false;  // false: rank unknown
  std::vector<Dim> dims;

  // The shape if every dim is fixed.
  std::optional<Shape> static_shape() const;
  // "1x3xHxW", "?" for unknown rank.
  std::string shape_string() const;
};

struct Node {
  std::string name;     // may be empty in the file; the loader fills "<op_type>_<index>"
  std::string op_type;
  std::string domain;   // "" for the default ONNX domain
  int64_t opset = 0;    // version of `domain` the model imports
  std::vector<std::string> inputs;   // "" = omitted optional input
  std::vector<std::string> outputs;  // "" = omitted optional output
  std::map<std::string, Attribute> attrs;

  bool has_attr(const std::string& key) const { return attrs.count(key) != 0; }
  // Typed accessors: the default when absent; kiln::Error naming the node when
  // the attribute exists with another type.
  int64_t attr_int(const std::string& key, int64_t fallback) const;
  float attr_float(const std::string& key, float fallback) const;
  std::string attr_string(const std::string& key, const std::string& fallback) const;
  std::vector<int64_t> attr_ints(const std::string& key, std::vector<int64_t> fallback = {}) const;
  std::vector<float> attr_floats(const std::string& key, std::vector<float> fallback = {}) const;
  const Tensor* attr_tensor(const std::string& key) const;  // nullptr when absent
  // The attribute, which must exist ("node 'x' (Conv): missing attribute 'y'").
  const Attribute& required_attr(const std::string& key) const;

  // "'conv1' (Conv)" for messages.
  std::string describe() const;
};

struct Graph {
  std::string name;
  std::vector<Node> nodes;          // topological order
  std::vector<ValueInfo> inputs;    // real inputs (initializers excluded)
  std::vector<ValueInfo> outputs;
  std::unordered_map<std::string, Tensor> initializers;  // constants, incl. overridable ones
  std::unordered_map<std::string, ValueInfo> value_info; // declared intermediate types/shapes
  std::map<std::string, int64_t> opsets;  // domain -> version ("" = ai.onnx)
  int64_t ir_version = 0;
  std::string producer_name;
  std::string producer_version;
  std::map<std::string, std::string> metadata_props;  // the model's key/value metadata, kept through optimization
};

}  // namespace kiln::graph
