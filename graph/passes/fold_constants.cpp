#include "graph/passes/fold_constants.h"

#include <optional>

#include "graph/graph_editor.h"

namespace kiln::graph {

namespace {

// The node's outputs from `evaluate`; an empty vector when it cannot be folded.
std::vector<Tensor> evaluate_node(const Node& node, const std::vector<const Tensor*>& inputs,
                                  const NodeEvaluator& evaluate, size_t max_output_bytes) {
  std::optional<std::vector<Tensor>> outputs = evaluate(node, inputs);
  if (!outputs || outputs->size() != node.outputs.size()) return {};
  for (size_t i = 0; i < outputs->size(); ++i) {
    if (node.outputs[i].empty()) continue;
    if (!(*outputs)[i].defined() || (*outputs)[i].nbytes() > max_output_bytes) return {};
  }
  return std::move(*outputs);
}

}  // namespace

Tensor constant_node_value(const Node& node) {
  if (node.attrs.size() != 1) return Tensor();
  const auto& [key, attr] = *node.attrs.begin();
  using Kind = Attribute::Kind;
  if (key == "value" && attr.kind == Kind::kTensor) return attr.t;
  if (key == "value_float" && attr.kind == Kind::kFloat) return Tensor::from_floats({}, {attr.f});
  if (key == "value_floats" && attr.kind == Kind::kFloats)
    return Tensor::from_floats({static_cast<int64_t>(attr.floats.size())}, attr.floats);
  if (key == "value_int" && attr.kind == Kind::kInt) return Tensor::from_int64s({}, {attr.i});
  if (key == "value_ints" && attr.kind == Kind::kInts)
    return Tensor::from_int64s({static_cast<int64_t>(attr.ints.size())}, attr.ints);
  return Tensor();
}

size_t fold_constants(Graph& g, const NodeEvaluator& evaluate, const OpCatalog& ops, size_t max_output_bytes) {
  GraphEditor editor(g);
  size_t folded = 0;
  for (size_t n = 0; n < editor.node_count(); ++n) {
    const Node& node = editor.node(n);
    const bool standard = node.domain.empty();
    std::vector<Tensor> values;
    if (standard && node.op_type == "Constant") {
      if (node.outputs.size() != 1 || node.outputs[0].empty()) continue;
      values.push_back(constant_node_value(node));
      if (!values[0].defined()) continue;
    } else {
      if (!evaluate || ops.has_trait(node, kNondeterministic)) continue;
      std::vector<const Tensor*> inputs;
      bool all_constant = !node.inputs.empty();
      for (const std::string& in : node.inputs) {
        const Tensor* t = in.empty() ? nullptr : editor.constant(in);
        all_constant = all_constant && (in.empty() || t);
        inputs.push_back(t);
      }
      if (!all_constant) continue;
      values = evaluate_node(node, inputs, evaluate, max_output_bytes);
      if (values.empty()) continue;
    }
    const std::vector<std::string> outputs = node.outputs;
    editor.remove_node(n);
    for (size_t i = 0; i < outputs.size(); ++i)
      if (!outputs[i].empty()) editor.add_initializer_named(outputs[i], std::move(values[i]));
    ++folded;
  }
  editor.commit();
  return folded;
}

}  // namespace kiln::graph
