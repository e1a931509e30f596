#include "tools/node_shapes.h"

namespace kiln::cli {
namespace {

ValueShape from_info(const TensorInfo& info) {
  if (info.name.empty()) return {"-", std::nullopt};
  if (!info.has_shape) return {"?", std::nullopt};
  for (int64_t d : info.dims)
    if (d < 0) return {info.shape_string(), std::nullopt};
  return {info.shape_string(), info.dims};
}

ValueShape from_tensor(const Tensor* tensor) {
  if (!tensor || !tensor->defined()) return {"-", std::nullopt};
  return {shape_to_string(tensor->shape()), tensor->shape()};
}

}  // namespace

std::optional<int64_t> count_macs(const NodeShapes& node) {
  std::vector<std::optional<Shape>> inputs, outputs;
  for (const ValueShape& v : node.inputs) inputs.push_back(v.fixed);
  for (const ValueShape& v : node.outputs) outputs.push_back(v.fixed);
  return kiln::count_macs(node.op_type, inputs, outputs);
}

std::vector<NodeShapes> node_shapes_from_description(const ModelDescription& model) {
  std::vector<NodeShapes> nodes;
  for (const NodeDescription& node : model.nodes) {
    NodeShapes shapes{node.name, node.op_type, {}, {}, node.macs};
    for (const TensorInfo& info : node.inputs) shapes.inputs.push_back(from_info(info));
    for (const TensorInfo& info : node.outputs) shapes.outputs.push_back(from_info(info));
    nodes.push_back(std::move(shapes));
  }
  return nodes;
}

NodeShapes node_shapes_from_run(const NodeRunInfo& info) {
  NodeShapes shapes{info.node_name, info.op_type, {}, {}, std::nullopt};
  for (const Tensor* t : info.inputs) shapes.inputs.push_back(from_tensor(t));
  for (const Tensor& t : info.outputs) shapes.outputs.push_back(from_tensor(&t));
  shapes.macs = count_macs(shapes);
  return shapes;
}

}  // namespace kiln::cli
