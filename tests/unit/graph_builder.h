// Builds kiln::graph::Graph values in code for pass and optimizer tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "graph/ir.h"

namespace kiln::testing {

class GraphBuilder {
 public:
  explicit GraphBuilder(int64_t opset = 17) { g.opsets[""] = opset; }

  GraphBuilder& input(const std::string& name, Shape shape = {1, 2, 4, 4}, DataType type = DataType::kFloat32) {
    g.inputs.push_back(value(name, shape, type));
    return *this;
  }
  GraphBuilder& output(const std::string& name) {
    g.outputs.push_back(value(name, {}, DataType::kFloat32));
    g.outputs.back().has_shape = false;
    return *this;
  }
  GraphBuilder& initializer(const std::string& name, Tensor t) {
    g.initializers[name] = std::move(t);
    return *this;
  }
  GraphBuilder& floats(const std::string& name, Shape shape, std::vector<float> values) {
    return initializer(name, Tensor::from_floats(std::move(shape), values));
  }
  // Adds a node named `name` (default "<op>_<index>"); the reference is valid until the next call.
  graph::Node& node(const std::string& op_type, std::vector<std::string> inputs, std::vector<std::string> outputs,
                    const std::string& name = "", const std::string& domain = "") {
    graph::Node n;
    n.op_type = op_type;
    n.domain = domain;
    n.name = name.empty() ? op_type + "_" + std::to_string(g.nodes.size()) : name;
    n.opset = g.opsets.count(domain) ? g.opsets[domain] : 1;
    n.inputs = std::move(inputs);
    n.outputs = std::move(outputs);
    g.nodes.push_back(std::move(n));
    return g.nodes.back();
  }

  graph::Graph g;

 private:
  static graph::ValueInfo value(const std::string& name, const Shape& shape, DataType type) {
    graph::ValueInfo v;
    v.name = name;
    v.dtype = type;
    v.has_shape = true;
    for (int64_t d : shape) v.dims.push_back(graph::Dim{d, ""});
    return v;
  }
};

inline graph::Attribute attr_int(int64_t v) { graph::Attribute a; a.kind = graph::Attribute::Kind::kInt; a.i = v; return a; }
inline graph::Attribute attr_float(float v) { graph::Attribute a; a.kind = graph::Attribute::Kind::kFloat; a.f = v; return a; }
inline graph::Attribute attr_string(std::string v) { graph::Attribute a; a.kind = graph::Attribute::Kind::kString; a.s = std::move(v); return a; }
inline graph::Attribute attr_ints(std::vector<int64_t> v) { graph::Attribute a; a.kind = graph::Attribute::Kind::kInts; a.ints = std::move(v); return a; }
inline graph::Attribute attr_floats(std::vector<float> v) { graph::Attribute a; a.kind = graph::Attribute::Kind::kFloats; a.floats = std::move(v); return a; }
inline graph::Attribute attr_tensor(Tensor t) { graph::Attribute a; a.kind = graph::Attribute::Kind::kTensor; a.t = std::move(t); return a; }

// "Conv,Relu" — the op types in graph order, for compact assertions.
inline std::string op_sequence(const graph::Graph& g) {
  std::string out;
  for (const auto& n : g.nodes) out += (out.empty() ? "" : ",") + n.op_type;
  return out;
}

inline const graph::Node* find_op(const graph::Graph& g, const std::string& op_type) {
  for (const auto& n : g.nodes)
    if (n.op_type == op_type) return &n;
  return nullptr;
}

inline std::vector<float> floats_of(const Tensor& t) {
  const float* p = t.data<float>();
  return std::vector<float>(p, p + t.size());
}

// The float values of initializer `name`; fails the test when it is missing.
inline std::vector<float> initializer_floats(const graph::Graph& g, const std::string& name) {
  auto it = g.initializers.find(name);
  if (it == g.initializers.end()) {
    ADD_FAILURE() << "no initializer '" << name << "'";
    return {};
  }
  return floats_of(it->second);
}

}  // namespace kiln::testing
