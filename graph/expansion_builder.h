// What a kiln-domain op's expansion (graph/op_schema.h, OpSchema::expand)
// writes with: fresh node and value names, initializers, the graph's ai.onnx
// opset, input ranks from shape inference, and kiln's fused-activation
// vocabulary (docs/fused_ops.md) spelled in standard ops. The expand_kiln_ops
// pass makes one per graph and collects what each expansion adds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "graph/graph_editor.h"
#include "graph/ir.h"
#include "graph/shape_inference.h"

namespace kiln::graph {

class ExpansionBuilder {
 public:
  ExpansionBuilder(GraphEditor& editor, const Graph& g, const OpCatalog& ops, int64_t opset);

  // The ai.onnx opset the new nodes are written for.
  int64_t opset() const { return opset_; }
  GraphEditor& editor() { return editor_; }

  // Starts the expansion of `node`: named nodes are "<its name>/<op>".
  void begin(const Node& node);
  // The nodes added since begin(), in order.
  std::vector<Node> take_nodes();

  // The rank of `value` from shape inference, or nullopt when unknown.
  std::optional<int64_t> rank_of(const std::string& value);

  // A node of this opset with one output, named `name` (kept unique).
  Node& add(const std::string& name, const std::string& op_type, std::vector<std::string> inputs,
            const std::string& output);
  // The same, named "<node being expanded>/<op_type>" (made unique).
  Node& add_named(const std::string& op_type, std::vector<std::string> inputs, const std::string& output);
  // `wanted`, or `wanted_<k>` when a node already has that name.
  std::string unique_node_name(const std::string& wanted);

  // kiln's fused activations: how many activation_params each takes
  // (SIZE_MAX for an unknown name; "" = none).
  static size_t activation_param_count(const std::string& activation);
  // f(y) -> z in standard ops (nothing for "", where y is z).
  void activation(const std::string& activation, const std::vector<float>& params, const std::string& y,
                  const std::string& z);

  static Attribute float_attr(float value);
  static Attribute ints_attr(std::vector<int64_t> values);

 private:
  void hard_sigmoid(const std::string& y, const std::vector<float>& params, const std::string& output);
  void clip(const std::string& y, float lo, float hi, const std::string& output);

  GraphEditor& editor_;
  const Graph& g_;
  const OpCatalog& ops_;
  int64_t opset_;
  std::unordered_set<std::string> node_names_;
  std::optional<ValueInfoMap> shapes_;  // inferred on first use
  std::string base_;
  std::vector<Node> nodes_;
};

}  // namespace kiln::graph
